"""One test per feedgen 1.0.0 trap listed in ``feedwright.pipeline.serialise``, through a real build of a tiny site."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import etree

from conftest import make_site, run_build, validate_feed, write_post

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
DC = "{http://purl.org/dc/elements/1.1/}"
SITE_URL = "https://example.org/blog/"
TRICKY_TITLE = "A & B <c> bell"  # as written: 'A & B <c> \a bell' (a YAML escape for the BEL control character)
TITLES = ["Newest", TRICKY_TITLE, "Oldest"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(
        tmp_path_factory.mktemp("serialise") / "site",
        'author = "Site Desk"\ndescription = "Traps"\n[build]\ntag_feeds = true\n',
        url=SITE_URL,
    )
    write_post(site, "a.md", {"title": "Oldest", "date": "2024-01-01", "author": "Jiwoo Han", "image": "/img/a.png"})
    write_post(site, "b.md", 'title: "A & B <c> \\a bell"\ndate: 2024-02-01\nid: my-post\ntags: [x]\n')
    write_post(site, "c.md", {"title": "Newest", "date": "2024-03-01", "image": "/img/c.png"}, "Some *body*.\n")
    (site / "content" / "img").mkdir()
    (site / "content" / "img" / "c.png").write_bytes(PNG)
    report = run_build(site)
    assert not report.rejected
    return site / "output"


def _xml(out: Path, name: str) -> etree._Element:
    return etree.parse(str(out / name)).getroot()


def _items(out: Path) -> list[etree._Element]:
    return _xml(out, "rss.xml").findall("channel/item")


def _entries(out: Path) -> list[etree._Element]:
    return _xml(out, "atom.xml").findall(f"{ATOM}entry")


def test_all_feeds_are_valid(out: Path) -> None:
    for name in ("rss.xml", "atom.xml", "feed.json", "tags/x/rss.xml", "tags/x/atom.xml", "tags/x/feed.json"):
        validate_feed(out / name)


def test_feed_dates_are_the_newest_update_not_now(out: Path) -> None:
    newest = datetime(2024, 3, 1, tzinfo=UTC)
    rss = _xml(out, "rss.xml").find("channel")
    assert parsedate_to_datetime(rss.findtext("lastBuildDate")) == newest
    assert datetime.fromisoformat(_xml(out, "atom.xml").findtext(f"{ATOM}updated")) == newest
    updated = [datetime.fromisoformat(e.findtext(f"{ATOM}updated")) for e in _entries(out)]
    assert updated == [newest, datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)]
    # The tag feed holds only the February post: its date, not the site's newest.
    tag = _xml(out, "tags/x/rss.xml").find("channel")
    assert parsedate_to_datetime(tag.findtext("lastBuildDate")) == datetime(2024, 2, 1, tzinfo=UTC)


def test_empty_feed_is_dated_epoch_not_now(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    run_build(site)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rss = _xml(site / "output", "rss.xml").find("channel")
    assert parsedate_to_datetime(rss.findtext("lastBuildDate")) == epoch
    assert datetime.fromisoformat(_xml(site / "output", "atom.xml").findtext(f"{ATOM}updated")) == epoch
    for name in ("rss.xml", "atom.xml", "feed.json"):
        validate_feed(site / "output" / name)


def test_items_keep_our_order(out: Path) -> None:
    assert [i.findtext("title") for i in _items(out)] == TITLES
    assert [e.findtext(f"{ATOM}title") for e in _entries(out)] == TITLES
    assert [i["title"] for i in json.loads((out / "feed.json").read_bytes())["items"]] == TITLES


def test_rss_channel_link_is_the_site_url(out: Path) -> None:
    channel = _xml(out, "rss.xml").find("channel")
    assert channel.findall("link") and [link.text for link in channel.findall("link")] == [SITE_URL]
    selfs = channel.findall(f"{ATOM}link")
    assert [(link.get("rel"), link.get("href")) for link in selfs] == [("self", SITE_URL + "rss.xml")]


def test_atom_feed_links(out: Path) -> None:
    links = {link.get("rel"): link.get("href") for link in _xml(out, "atom.xml").findall(f"{ATOM}link")}
    assert links == {"self": SITE_URL + "atom.xml", "alternate": SITE_URL}


def test_atom_entry_has_one_alternate_and_one_typed_enclosure(out: Path) -> None:
    for entry in _entries(out):
        links = entry.findall(f"{ATOM}link")
        alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
        enclosures = [link for link in links if link.get("rel") == "enclosure"]
        assert len(alternates) == 1 and alternates[0].get("href").startswith(SITE_URL)
        assert len(links) == len(alternates) + len(enclosures)
        title = entry.findtext(f"{ATOM}title")
        if title == TRICKY_TITLE:
            assert enclosures == []
            continue
        assert len(enclosures) == 1
        enclosure = enclosures[0]
        assert enclosure.get("type") == "image/png"
        assert enclosure.get("length") == (str(len(PNG)) if title == "Newest" else "0")
        assert enclosure.get("href") == SITE_URL + ("img/c.png" if title == "Newest" else "img/a.png")


def test_no_media_group_and_bare_media_elements(out: Path) -> None:
    for name, parent_tag in (("rss.xml", "item"), ("atom.xml", f"{ATOM}entry")):
        root = _xml(out, name)
        assert not list(root.iter(f"{MEDIA}group"))
        media = [el for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith(MEDIA)]
        assert sorted(el.tag for el in media) == sorted([f"{MEDIA}content", f"{MEDIA}thumbnail"] * 2)
        assert all(el.getparent().tag == parent_tag for el in media)
        content = next(el for el in media if el.tag == f"{MEDIA}content" and "c.png" in el.get("url"))
        assert (content.get("type"), content.get("medium"), content.get("fileSize")) == (
            "image/png", "image", str(len(PNG))
        )


def test_rss_enclosure(out: Path) -> None:
    enclosures = {i.findtext("title"): i.findall("enclosure") for i in _items(out)}
    assert enclosures[TRICKY_TITLE] == []
    (newest,) = enclosures["Newest"]
    assert dict(newest.attrib) == {"url": SITE_URL + "img/c.png", "length": str(len(PNG)), "type": "image/png"}


def test_tricky_title_round_trips_as_text(out: Path) -> None:
    assert _items(out)[1].findtext("title") == TRICKY_TITLE
    assert _entries(out)[1].findtext(f"{ATOM}title") == TRICKY_TITLE
    assert json.loads((out / "feed.json").read_bytes())["items"][1]["title"] == TRICKY_TITLE
    for name in ("rss.xml", "atom.xml"):
        data = (out / name).read_bytes()
        assert b"A &amp; B &lt;c&gt; bell" in data
        assert b"&amp;amp;" not in data and b"&amp;lt;" not in data and b"\x07" not in data


def test_control_characters_in_body_and_front_matter_are_dropped(tmp_path: Path) -> None:
    """YAML escapes and character references bring back what the raw-text check removed."""
    site = make_site(tmp_path / "site")
    write_post(site, "p.md", 'title: "Bell \\x07"\ndate: 2024-01-01\ntags: ["t\\u0001ag"]\n', "x &#7; y &#1;\n")
    report = run_build(site)
    assert not report.rejected
    for name in ("rss.xml", "atom.xml", "feed.json"):
        validate_feed(site / "output" / name)
    item = _items(site / "output")[0]
    assert item.findtext("title") == "Bell"
    assert item.findtext("category") == "tag"


def test_atom_content_is_escaped_html_without_cdata(out: Path) -> None:
    for entry in _entries(out):
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        assert len(content) == 0 and content.text.startswith("<p>")
    assert _entries(out)[0].findtext(f"{ATOM}content") == "<p>Some <em>body</em>.</p>"
    for name in ("rss.xml", "atom.xml"):
        assert b"CDATA" not in (out / name).read_bytes()


def test_rss_has_dc_creator(out: Path) -> None:
    creators = {i.findtext("title"): [c.text for c in i.findall(f"{DC}creator")] for i in _items(out)}
    assert creators == {"Newest": ["Site Desk"], TRICKY_TITLE: ["Site Desk"], "Oldest": ["Jiwoo Han"]}


def test_guid_is_permalink_only_when_id_is_the_url(out: Path) -> None:
    items = {i.findtext("title"): i for i in _items(out)}
    newest = items["Newest"].find("guid")
    assert newest.get("isPermaLink") == "true"
    assert newest.text == items["Newest"].findtext("link") == SITE_URL + "c/"
    pinned = items[TRICKY_TITLE].find("guid")
    assert pinned.get("isPermaLink") == "false"
    assert pinned.text == "tag:example.org,2024:my-post"
    assert _entries(out)[1].findtext(f"{ATOM}id") == "tag:example.org,2024:my-post"
