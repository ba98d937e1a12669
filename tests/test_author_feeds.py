"""Per-author feeds (``[build] author_feeds``), end to end: the example site's authors each get ``authors/<slug>/``
in every format, holding exactly their posts, valid, listed in index.html and feeds.opml, golden for one author."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import (
    NOW,
    assert_golden,
    check_feed_files,
    copy_example_site,
    make_site,
    output_files,
    run_build,
    validate_feed,
    write_post,
)
from feedwright.build import BuildReport
from feedwright.pipeline.pages import INDEX, OPML

GOLDEN = Path(__file__).parent / "golden_feeds" / "author"
NEWSROOM = "Feedwright Example Newsroom"  # [site] author of the example site: the author of every unsigned post
# The two signed posts of the example site, by their file names (content/opinion/).
SIGNED = {"Jiwoo Han": "2024-09-10-why-br-is-not-a-paragraph", "박서연": "2025-02-18-slow-news"}
FOLDERS = {
    "Jiwoo Han": "authors/jiwoo-han", "박서연": "authors/박서연", NEWSROOM: "authors/feedwright-example-newsroom",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    site = copy_example_site(tmp_path_factory.mktemp("authors"))
    with (site / "feedwright.toml").open("a", encoding="utf-8") as fh:
        fh.write("author_feeds = true\n")  # the example's toml ends in [build]
    report = run_build(site)
    assert not report.rejected and not report.warnings
    return site / "output", report


def _links(path: Path) -> list[str]:
    return [item["url"] for item in json.loads(path.read_bytes())["items"]]


def test_every_author_gets_a_feed_in_every_format(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    authors = {feed.name: feed.folder for feed in report.feeds if feed.kind == "author"}
    assert authors == FOLDERS
    written = {rel for rel in output_files(output) if rel.startswith("authors/")}
    assert written == {f"{folder}/{name}" for folder in FOLDERS.values()
                       for name in ("rss.xml", "atom.xml", "feed.json")}


def test_every_author_feed_is_valid(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    files = {rel: data for rel, data in output_files(output).items() if rel.startswith("authors/")}
    check_feed_files(files)
    for rel in files:
        validate_feed(output / rel)


def test_each_author_feed_carries_exactly_that_authors_posts(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    everything = _links(output / "feed.json")
    for name, stem in SIGNED.items():
        assert _links(output / FOLDERS[name] / "feed.json") == [
            url for url in everything if stem in url
        ]
    # The fallback author: every post that names no author is shown under the site author, so it is in their feed.
    signed = [url for url in everything if any(stem in url for stem in SIGNED.values())]
    assert _links(output / FOLDERS[NEWSROOM] / "feed.json") == [url for url in everything if url not in signed]
    assert len(signed) == 2 and len(everything) == 9


def test_author_feed_items_name_the_author(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    parsed = validate_feed(output / FOLDERS["박서연"] / "atom.xml")
    assert parsed.feed.title == "Feedwright Example News · 박서연"
    assert [entry.author for entry in parsed.entries] == ["박서연"]
    rss = validate_feed(output / FOLDERS["Jiwoo Han"] / "rss.xml")
    assert [entry.author for entry in rss.entries] == ["Jiwoo Han"]


def test_author_feeds_are_listed_in_index_and_opml(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    page = lxml_html.document_fromstring((output / INDEX).read_bytes())
    hrefs = {unquote(a.get("href")) for a in page.iterfind(".//main//a")}
    alternates = {unquote(urlsplit(link.get("href")).path).lstrip("/"): link.get("title")
                  for link in page.findall("head/link[@rel='alternate']")}
    for name, folder in FOLDERS.items():
        for file in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{folder}/{file}" in hrefs and f"{folder}/{file}" in alternates
        assert alternates[f"{folder}/rss.xml"] == f"Feedwright Example News · {name} (author, RSS)"
    assert "Authors" in [h2.text_content() for h2 in page.iter("h2")]
    root = etree.parse(str(output / OPML)).getroot()
    (authors,) = [o for o in root.find("body") if o.get("text") == "Authors"]
    assert [unquote(urlsplit(o.get("xmlUrl")).path) for o in authors] == [
        f"/{folder}/rss.xml" for folder in sorted(FOLDERS.values())
    ]


def test_golden_author_feed(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    folder = FOLDERS["Jiwoo Han"]
    assert_golden({rel.removeprefix(folder + "/"): data for rel, data in output_files(output).items()
                   if rel.startswith(folder + "/")}, GOLDEN)


def test_off_by_default(example_site: Path) -> None:
    report = run_build(example_site)
    assert not [feed for feed in report.feeds if feed.kind == "author"]
    assert not (example_site / "output" / "authors").exists()


def test_several_authors_a_slug_collision_and_the_limit(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "[build]\nauthor_feeds = true\nlimit = 2\ncategory_feeds = false\n")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "author": ["Jane Doe", "Kim"]})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "author": "jane doe"})
    write_post(site, "c.md", {"title": "C", "date": "2024-01-03", "authors": [{"name": "Jane Doe"}]})
    write_post(site, "d.md", {"title": "D", "date": "2024-01-04", "author": "Jane Doe"})
    write_post(site, "e.md", {"title": "E", "date": "2024-01-05"})  # no author, and no [site] author
    report = run_build(site)
    feeds = {feed.name: feed for feed in report.feeds if feed.kind == "author"}
    assert sorted(feeds) == ["Jane Doe", "Kim", "jane doe"]  # "E" has no author: no feed for nobody
    assert [p.title for p in feeds["Jane Doe"].posts] == ["D", "C"]  # the newest two: build.limit
    assert [p.title for p in feeds["Kim"].posts] == ["A"] and [p.title for p in feeds["jane doe"].posts] == ["B"]
    # Two names that slug alike get distinct folders, as categories do.
    assert feeds["Jane Doe"].folder == "authors/jane-doe"
    assert feeds["jane doe"].folder.startswith("authors/jane-doe-") and feeds["jane doe"].folder != "authors/jane-doe"
    check_feed_files(output_files(site / "output"))


def test_rebuilding_changes_nothing_and_a_new_post_rewrites_only_its_authors_feeds(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "[build]\nauthor_feeds = true\ncategory_feeds = false\nbrowser_view = false\n")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "author": "Ann"})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "author": "Bo"})
    run_build(site)
    again = run_build(site)
    assert again.result is not None and again.result.written == []
    write_post(site, "c.md", {"title": "C", "date": "2024-01-03", "author": "Bo"})
    third = run_build(site)
    assert third.result is not None
    assert sorted(third.result.written) == sorted(
        [f"{folder}{name}" for folder in ("", "authors/bo/") for name in ("rss.xml", "atom.xml", "feed.json")]
    )


def test_a_bad_value_exits_2_naming_the_file_and_the_key(example_site: Path) -> None:
    with (example_site / "feedwright.toml").open("a", encoding="utf-8") as fh:
        fh.write('author_feeds = "yes"\n')
    proc = subprocess.run([sys.executable, "-m", "feedwright", "build", "--site", str(example_site)],
                          capture_output=True, text=True, timeout=120,
                          env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "feedwright.toml" in line and "build.author_feeds" in line and "true or false" in line
    assert not (example_site / "output").exists()
