"""The browser view and discovery pages (``pages.py``): feed.xsl, index.html, feeds.opml and the stylesheet PI.

The stylesheet is run here with lxml's libxslt (the XSLT 1.0 engine browsers embed); ``test_browser.py`` runs it
in a real Chromium.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import NOW, REPO, copy_example_site, make_site, output_files, run_build, validate_feed, write_post
from feedwright.build import BuildReport
from feedwright.config import load_site
from feedwright.pipeline.pages import INDEX, OPML, PAGES, STYLESHEET, stylesheet_href, with_stylesheet

XSL_NS = "http://www.w3.org/1999/XSL/Transform"
SITE_URL = "https://news.example.org/"
TYPES = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml", "feed.json": "application/feed+json"}
XML_FEEDS = ("rss.xml", "atom.xml")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    site = copy_example_site(tmp_path_factory.mktemp("pages"))
    report = run_build(site)
    assert not report.rejected
    return site / "output", report


def _feed_files(output: Path) -> list[str]:
    return sorted(rel for rel in output_files(output) if rel.rpartition("/")[2] in TYPES)


def _xml_feeds(output: Path) -> list[str]:
    return [rel for rel in _feed_files(output) if rel.endswith(XML_FEEDS)]


@pytest.fixture(scope="module")
def transform(built: tuple[Path, BuildReport]) -> etree.XSLT:
    output, _ = built
    return etree.XSLT(etree.parse(str(output / STYLESHEET)))


def _view(transform: etree.XSLT, feed: Path) -> lxml_html.HtmlElement:
    result = transform(etree.parse(str(feed)))
    assert not transform.error_log, transform.error_log
    return lxml_html.document_fromstring(str(result))


def _text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


# --- the stylesheet and its processing instruction ---------------------------------------------------------------


def test_stylesheet_is_self_contained_xslt_1(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    data = (output / STYLESHEET).read_bytes()
    root = etree.fromstring(data)
    assert root.tag == f"{{{XSL_NS}}}stylesheet" and root.get("version") == "1.0"
    etree.XSLT(root)  # compiles
    text = data.decode("utf-8")
    # A readable list, not a renderer of the feed's HTML; and nothing fetched from elsewhere.
    assert "disable-output-escaping" not in text
    for needle in ("xsl:import", "xsl:include", "document(", "url(", "@import", "<script", "<link"):
        assert needle not in text, needle
    assert report.files[STYLESHEET] == data


def test_every_xml_feed_points_to_the_stylesheet(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    feeds = _xml_feeds(output)
    assert len(feeds) == 26
    for rel in feeds:
        lines = (output / rel).read_bytes().split(b"\n", 2)
        assert lines[0] == b"<?xml version='1.0' encoding='UTF-8'?>", rel
        href = stylesheet_href(rel.rpartition("/")[0])
        assert lines[1] == f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode(), rel
        # The relative href lands on the one feed.xsl, from every folder.
        assert (output / rel).parent.joinpath(href).resolve() == (output / STYLESHEET).resolve(), rel
        assert urljoin(SITE_URL + rel, href) == SITE_URL + STYLESHEET
    assert not (output / "feed.json").read_bytes().startswith(b"<?")


def test_stylesheet_href_and_insertion() -> None:
    assert stylesheet_href("") == "feed.xsl"
    assert stylesheet_href("categories/디지털-성범죄") == "../../feed.xsl"
    assert with_stylesheet(b"<?xml version='1.0'?>\n<rss/>", "tags/a") == (
        b"<?xml version='1.0'?>\n<?xml-stylesheet type=\"text/xsl\" href=\"../../feed.xsl\"?>\n<rss/>"
    )
    assert with_stylesheet(b"<rss/>", "") == b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>\n<rss/>'


@pytest.mark.parametrize("rel", ["rss.xml", "atom.xml", "categories/news/rss.xml", "tags/서울/atom.xml"])
def test_feeds_with_the_instruction_are_still_valid(built: tuple[Path, BuildReport], rel: str) -> None:
    """feedparser bozo 0 and, for Atom, the RFC 4287 RELAX NG schema (test_conformance checks every feed)."""
    output, _ = built
    parsed = validate_feed(output / rel)
    assert parsed.entries


@pytest.mark.parametrize("rel", ["rss.xml", "atom.xml", "categories/news/rss.xml", "categories/news/atom.xml"])
def test_stylesheet_renders_every_item(built: tuple[Path, BuildReport], transform: etree.XSLT, rel: str) -> None:
    output, _ = built
    parsed = feedparser.parse((output / rel).read_bytes())
    page = _view(transform, output / rel)
    text = _text(page)
    assert parsed.feed.title in _text(page.find(".//h1"))
    assert "Feedwright Example News" in text
    assert "This is a web feed" in text and "copy this address into your feed reader" in text
    assert SITE_URL + rel in text  # the address to copy
    links = {a.get("href"): _text(a) for a in page.iterfind(".//h3/a")}
    assert links == {entry.link: " ".join(entry.title.split()) for entry in parsed.entries}
    for entry in parsed.entries:
        assert " ".join(entry.summary.split())[:60] in text, entry.link
    # Images come from the enclosure / link rel="enclosure", size-constrained by the page's CSS.
    images = {img.get("src") for img in page.iterfind(".//img")}
    assert images == {e.enclosures[0].href for e in parsed.entries if e.get("enclosures")}
    assert images and all(img.get("class") == "thumb" for img in page.iterfind(".//img"))
    # Dates as ISO dates, whatever the format wrote.
    assert [t.get("datetime") for t in page.iterfind(".//time")][:1] == ["2025-11-25"]
    # Back to the list of feeds, relative to where this feed lives.
    (all_feeds,) = [a for a in page.iterfind(".//a") if _text(a) == "All feeds of this site"]
    assert urljoin(SITE_URL + rel, all_feeds.get("href")) == SITE_URL + INDEX


def test_item_html_is_shown_as_text_never_rendered(built: tuple[Path, BuildReport], transform: etree.XSLT) -> None:
    output, _ = built
    page = _view(transform, output / "rss.xml")
    # The seed post's body holds a <table>; the opinion post's title is literally "Q&A: why <br> is not a paragraph".
    assert page.find(".//table") is None and page.find(".//main//br") is None
    assert "Q&A: why <br> is not a paragraph" in _text(page)
    assert all(el.tag not in ("script", "iframe", "object", "embed") for el in page.iter() if isinstance(el.tag, str))


def test_hostile_text_stays_text(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[build]\ntag_feeds = true\n')
    bad = '<script>alert(1)</script> & "quotes" \'apos\''
    write_post(site, "a.md", {"title": bad, "date": "2024-01-01", "categories": [bad], "tags": ["<b>"],
                              "excerpt": "<img src=x onerror=alert(1)> excerpt"})
    report = run_build(site)
    assert not report.rejected
    output = site / "output"
    for page in (lxml_html.document_fromstring((output / INDEX).read_bytes()), _view(
        etree.XSLT(etree.parse(str(output / STYLESHEET))), output / "rss.xml"
    )):
        tags = {el.tag for el in page.iter() if isinstance(el.tag, str)}
        assert not tags & {"script", "b", "iframe"}, tags
        assert not [el for el in page.iter("img") if el.get("onerror") or el.get("src") == "x"]
        assert bad in _text(page)
    opml = etree.fromstring((output / OPML).read_bytes())
    assert f"Test · {bad}" in [o.get("text") for o in opml.iter("outline")]


# --- index.html -------------------------------------------------------------------------------------------------


def test_index_has_one_autodiscovery_link_per_feed_file(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    page = lxml_html.document_fromstring((output / INDEX).read_bytes())
    links = page.findall("head/link[@rel='alternate']")
    files = _feed_files(output)
    assert len(files) == 39 and len(links) == len(files)
    seen = []
    for link in links:
        href = link.get("href")
        assert href.startswith(SITE_URL), href
        rel = unquote(urlsplit(href).path).lstrip("/")
        assert (output / rel).is_file(), href
        assert link.get("type") == TYPES[rel.rpartition("/")[2]], href
        assert link.get("title"), href
        seen.append(rel)
    assert sorted(seen) == files
    assert len({link.get("title") for link in links}) == len(links)  # a reader's list tells them apart


def test_index_lists_every_feed_with_working_links(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    page = lxml_html.document_fromstring((output / INDEX).read_bytes())
    text = _text(page)
    assert page.find(".//h1").text_content() == "Feedwright Example News"
    assert "Follow this site in a feed reader" in text and "Copy the address of a feed" in text
    for feed in report.feeds:
        assert feed.name in text
    body_links = {a.get("href") for a in page.iterfind(".//main//a")}
    feed_links = sorted(unquote(h) for h in body_links if h != OPML)
    assert feed_links == _feed_files(output)  # relative: they work on the site and on a preview alike
    assert OPML in body_links
    # The snippet to paste into other pages is the head's links, escaped into a <pre>.
    snippet = page.find(".//pre/code").text_content()
    assert snippet.count('<link rel="alternate"') == 39 and SITE_URL + "rss.xml" in snippet


# --- feeds.opml -------------------------------------------------------------------------------------------------


def test_opml_lists_every_feed_once(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    root = etree.parse(str(output / OPML)).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Feeds of Feedwright Example News"
    feeds = [o for o in root.iter("outline") if o.get("xmlUrl")]
    site = load_site(output.parent)
    assert [o.get("xmlUrl") for o in feeds] == [feed.url(site, "rss") for feed in report.feeds]
    for outline in feeds:
        assert outline.get("type") == "rss" and outline.get("text") and outline.get("title")
        assert outline.get("htmlUrl") == SITE_URL
        rel = unquote(urlsplit(outline.get("xmlUrl")).path).lstrip("/")
        assert (output / rel).is_file()
    folders = [o.get("text") for o in root.find("body") if not o.get("xmlUrl")]
    assert folders == ["Categories", "Tags"]
    assert b"dateModified" not in (output / OPML).read_bytes()  # no clock in the bytes


def test_opml_falls_back_to_atom_without_rss(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[build]\nformats = ["json", "atom"]\n')
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    run_build(site)
    root = etree.parse(str(site / "output" / OPML)).getroot()
    assert [o.get("xmlUrl") for o in root.iter("outline")] == ["https://example.org/atom.xml"]
    page = lxml_html.document_fromstring((site / "output" / INDEX).read_bytes())
    assert [link.get("type") for link in page.findall("head/link[@rel='alternate']")] == [
        "application/atom+xml", "application/feed+json"
    ]


# --- determinism and the switch ---------------------------------------------------------------------------------


def test_pages_are_byte_identical_across_builds(built: tuple[Path, BuildReport], tmp_path: Path) -> None:
    output, _ = built
    site = tmp_path / "again"
    shutil.copytree(output.parent, site, ignore=shutil.ignore_patterns("output"))
    report = run_build(site, NOW.replace(year=2026))  # a later clock, same posts
    for name in PAGES:
        assert (site / "output" / name).read_bytes() == (output / name).read_bytes(), name
    assert report.result is not None


def test_browser_view_off_and_on_again(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    run_build(site)
    assert all((site / "output" / name).is_file() for name in PAGES)
    config = site / "feedwright.toml"
    config.write_text(config.read_text(encoding="utf-8") + "[build]\nbrowser_view = false\n", encoding="utf-8")
    report = run_build(site)
    assert report.result is not None and sorted(report.result.removed) == sorted(PAGES)
    for rel in ("rss.xml", "atom.xml"):
        assert not (site / "output" / rel).read_bytes().split(b"\n")[1].startswith(b"<?xml-stylesheet"), rel
    assert not any((site / "output" / name).exists() for name in PAGES)
    config.write_text(config.read_text(encoding="utf-8").replace("false", "true"), encoding="utf-8")
    report = run_build(site)
    assert report.result is not None and set(PAGES) | {"rss.xml", "atom.xml"} <= set(report.result.written)
    assert (site / "output" / "rss.xml").read_bytes().split(b"\n")[1].startswith(b"<?xml-stylesheet")


def test_browser_view_shows_an_rss_description_as_its_text(tmp_path: Path) -> None:
    # RSS <description> holds the summary HTML-escaped once; the page shows the summary's own text.
    site = make_site(tmp_path / "site")
    summary = "Use <iframe> & <b>bold</b> &amp; AT&T; x &lt; y"
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "excerpt": "ignored"}, "Body.\n")
    write_post(site, "b.md", "title: B\ndate: 2024-01-02\n", f"`{summary}`\n")
    run_build(site)
    output = site / "output"
    page = _view(etree.XSLT(etree.parse(str(output / STYLESHEET))), output / "rss.xml")
    shown = [_text(p) for p in page.iterfind(".//p[@class='excerpt']")]
    assert summary in shown


# --- templates -------------------------------------------------------------------------------------------------


def test_a_warm_build_reuses_the_pages_and_an_added_post_renders_them_again(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "categories": ["news"]})
    env = {"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": ""}

    def build() -> str:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "feedwright", "build", "--site", str(site)],
                              capture_output=True, text=True, env=env, timeout=60, check=True)
        return proc.stderr

    assert " jinja2\n" in build()
    before = (site / "output" / INDEX).read_bytes()
    assert " jinja2\n" not in build(), "a warm build rendered the pages again"
    assert (site / "output" / INDEX).read_bytes() == before
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "categories": ["news"]})
    assert " jinja2\n" in build()
    assert b"2 posts" in (site / "output" / INDEX).read_bytes() and b"2 posts" not in before


def test_the_wheel_carries_the_templates(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0 and "setuptools" in proc.stderr and "find" in proc.stderr.lower():
        pytest.skip(f"cannot fetch the build backend to build a wheel here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("feedwright-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = REPO / "src" / "feedwright" / "pipeline" / "templates"
    assert {f"feedwright/pipeline/templates/{t.name}" for t in templates.iterdir()} <= names
    assert {"feedwright/pipeline/templates/feed.xsl", "feedwright/pipeline/templates/pages.css"} <= names
