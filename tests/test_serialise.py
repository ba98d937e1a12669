"""One test per feedgen 1.0.0 trap listed in ``feedwright.pipeline.serialise``, through a real build of a tiny site."""

from __future__ import annotations

import json
import re
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


# --- what readers show: HTML descriptions, decoded titles, no empty content, image types, footnotes ---------


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site(tmp_path_factory.mktemp("items") / "site", url=SITE_URL)
    write_post(site, "iframe.md", {"title": "Embeds", "date": "2024-01-01"},
               "Never paste an `<iframe>` tag & a `<script>` in a post.\n\nSecond paragraph.\n")
    write_post(site, "amp.md", {"title": "Tom &amp; Jerry &lt;3", "date": "2024-01-02"})
    write_post(site, "empty.md", {"title": "Nothing inside", "date": "2024-01-03"}, "")
    write_post(site, "photo.md", {"title": "Photo", "date": "2024-01-04", "image": "https://cdn.ex/photo?id=3"})
    write_post(site, "notes.md", {"title": "Notes", "date": "2024-01-05"}, "Claim.[^1]\n\n[^1]: Source.\n")
    run_build(site)
    return site / "output"


def _parsed(items: Path, name: str) -> dict[str, object]:
    import feedparser

    return {e.title: e for e in feedparser.parse(str(items / name)).entries}


def test_rss_description_is_html_and_text_in_it_survives(items: Path) -> None:
    rss = _parsed(items, "rss.xml")
    # The summary is text; escaped once for RSS, a reader parsing it as HTML shows "<iframe>" as words.
    assert rss["Embeds"].summary == "Never paste an &lt;iframe&gt; tag &amp; a &lt;script&gt; in a post."
    atom = _parsed(items, "atom.xml")  # Atom's summary is type="text": feedparser gives the text itself
    assert atom["Embeds"].summary == "Never paste an <iframe> tag & a <script> in a post."
    feed = json.loads((items / "feed.json").read_text())
    summary = {i["title"]: i["summary"] for i in feed["items"]}["Embeds"]
    assert summary == "Never paste an <iframe> tag & a <script> in a post."


def test_title_entities_are_decoded_once(items: Path) -> None:
    feed = json.loads((items / "feed.json").read_text())
    assert "Tom & Jerry <3" in {i["title"] for i in feed["items"]}
    assert "Tom & Jerry <3" in _parsed(items, "rss.xml")
    assert "Tom & Jerry <3" in _parsed(items, "atom.xml")


def test_bodyless_post_has_no_empty_content(items: Path) -> None:
    rss, atom = _xml(items, "rss.xml"), _xml(items, "atom.xml")
    item = next(i for i in rss.findall("channel/item") if i.findtext("title") == "Nothing inside")
    assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is None
    entry = next(e for e in atom.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "Nothing inside")
    assert entry.find(f"{ATOM}content") is None and entry.findtext(f"{ATOM}summary") == "Nothing inside"
    feed = json.loads((items / "feed.json").read_text())
    data = next(i for i in feed["items"] if i["title"] == "Nothing inside")
    assert "content_html" not in data and data["summary"] == "Nothing inside"
    for name in ("rss.xml", "atom.xml", "feed.json"):
        validate_feed(items / name)


def test_extensionless_image_has_no_made_up_type(items: Path) -> None:
    rss, atom = _xml(items, "rss.xml"), _xml(items, "atom.xml")
    assert b"octet-stream" not in (items / "rss.xml").read_bytes() + (items / "atom.xml").read_bytes()
    item = next(i for i in rss.findall("channel/item") if i.findtext("title") == "Photo")
    assert item.find("enclosure") is None  # RSS requires a type on <enclosure>: Media RSS carries the image
    content = item.find(f"{MEDIA}content")
    assert content.get("url") == "https://cdn.ex/photo?id=3" and content.get("type") is None
    entry = next(e for e in atom.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "Photo")
    link = entry.find(f"{ATOM}link[@rel='enclosure']")
    assert link.get("href") == "https://cdn.ex/photo?id=3" and link.get("type") is None


def test_footnote_links_keep_their_targets(items: Path) -> None:
    feed = json.loads((items / "feed.json").read_text())
    html = next(i for i in feed["items"] if i["title"] == "Notes")["content_html"]
    for target in re.findall(r'href="[^"#]*#([^"]+)"', html):
        assert f'id="{target}"' in html
    assert len(re.findall(r'href="[^"#]*#', html)) == 2
