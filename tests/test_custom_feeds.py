"""Custom feeds (``[[feeds]]``), end to end: validated like every key, each filter matching as the category feeds
do, written in their own formats and limit, valid, listed in index.html and feeds.opml, golden for one feed.

What a custom feed should carry is read from the feeds the site already has (a filter on one category is that
category's feed, cut at the custom limit), not from the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
from feedwright.config import Site, load_site, parse_config
from feedwright.errors import ConfigError
from feedwright.pipeline.pages import INDEX, OPML

GOLDEN = Path(__file__).parent / "golden_feeds" / "custom"
EXAMPLE_FEEDS = """
[[feeds]]
name = "Korean news"
path = "ko/news/"
categories = ["News"]
languages = ["KO"]
limit = 3
formats = ["atom", "rss"]

[[feeds]]
name = "Seoul news"
categories = ["News", "Culture"]
tags = ["서울"]

[[feeds]]
name = "Opinion or technology, signed"
categories = ["Opinion", "Technology"]
authors = ["Jiwoo Han", "박서연"]
formats = ["json"]
"""


def _append(site: Path, text: str) -> None:
    with (site / "feedwright.toml").open("a", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    site = copy_example_site(tmp_path_factory.mktemp("custom"))
    _append(site, EXAMPLE_FEEDS)
    report = run_build(site)
    assert not report.rejected and not report.warnings
    return site / "output", report


def _ids(path: Path) -> list[str]:
    if path.suffix == ".json":
        return [item["id"] for item in json.loads(path.read_bytes())["items"]]
    return [entry.id for entry in validate_feed(path).entries]


def _error(tmp_path: Path, feeds: Any, **build: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config({"site": {"url": "https://ex.org/"}, "build": build, "feeds": feeds}, tmp_path)
    return str(info.value)


def _site(tmp_path: Path, feeds: list[dict[str, Any]]) -> Site:
    return parse_config({"site": {"url": "https://ex.org/"}, "feeds": feeds}, tmp_path)


# --- end to end on the example site ------------------------------------------------------------------------------


def test_each_custom_feed_is_written_in_its_own_formats_only(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    custom = {feed.name: (feed.folder, feed.formats) for feed in report.feeds if feed.kind == "custom"}
    assert custom == {
        "Korean news": ("ko/news", ("rss", "atom")),
        "Seoul news": ("seoul-news", ("rss", "atom", "json")),  # no path: the name's slug; build.formats
        "Opinion or technology, signed": ("opinion-or-technology-signed", ("json",)),
    }
    files = output_files(output)
    for folder, formats in custom.values():
        names = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
        assert {rel.rpartition("/")[2] for rel in files if rel.rpartition("/")[0] == folder} == {
            names[fmt] for fmt in formats
        }


def test_every_custom_feed_is_valid(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    files = {rel: data for rel, data in output_files(output).items()
             if any(rel.startswith(f"{feed.folder}/") for feed in report.feeds if feed.kind == "custom")}
    assert len(files) == 6
    check_feed_files(files)


def test_one_category_is_that_categorys_feed_cut_at_the_custom_limit(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    news = _ids(output / "categories" / "news" / "atom.xml")
    assert len(news) == 5
    assert _ids(output / "ko" / "news" / "atom.xml") == _ids(output / "ko" / "news" / "rss.xml") == news[:3]
    parsed = validate_feed(output / "ko" / "news" / "atom.xml")
    assert parsed.feed.title == "Feedwright Example News · Korean news"
    assert parsed.feed.links[0].href == "https://news.example.org/ko/news/atom.xml"


def test_every_given_key_must_match_and_any_of_its_values(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    site = _ids(output / "feed.json")
    news_or_culture = set(_ids(output / "categories/news/feed.json")) | set(
        _ids(output / "categories/culture/feed.json"))
    seoul = set(_ids(output / "tags/서울/feed.json"))
    expected = [i for i in site if i in news_or_culture and i in seoul]
    assert _ids(output / "seoul-news" / "feed.json") == expected and len(expected) == 1
    opinion_or_tech = set(_ids(output / "categories/opinion/feed.json")) | set(
        _ids(output / "categories/technology/feed.json"))
    signed = [i for i in site if "why-br" in i or "slow-news" in i]  # the two posts with an author: key
    assert len(opinion_or_tech) == 4 and len(signed) == 2
    assert _ids(output / "opinion-or-technology-signed" / "feed.json") == [i for i in signed if i in opinion_or_tech]


def test_custom_feeds_are_listed_in_index_and_opml(built: tuple[Path, BuildReport]) -> None:
    output, report = built
    page = lxml_html.document_fromstring((output / INDEX).read_bytes())
    hrefs = {unquote(a.get("href")) for a in page.iterfind(".//main//a")}
    alternates = {unquote(urlsplit(link.get("href")).path).lstrip("/"): link.get("title")
                  for link in page.findall("head/link[@rel='alternate']")}
    assert {"ko/news/rss.xml", "ko/news/atom.xml", "seoul-news/feed.json", "opinion-or-technology-signed/feed.json"} \
        <= hrefs & alternates.keys()
    assert "ko/news/feed.json" not in hrefs | alternates.keys()  # only the formats it has
    assert alternates["ko/news/atom.xml"] == "Feedwright Example News · Korean news (Atom)"
    assert "Selected feeds" in [h2.text_content() for h2 in page.iter("h2")]
    root = etree.parse(str(output / OPML)).getroot()
    top = [o.get("xmlUrl") for o in root.find("body") if o.get("xmlUrl")]
    assert top == [
        "https://news.example.org/rss.xml",
        "https://news.example.org/ko/news/rss.xml",
        "https://news.example.org/seoul-news/rss.xml",
        "https://news.example.org/opinion-or-technology-signed/feed.json",  # JSON Feed is all it has
    ]
    assert len([o for o in root.iter("outline") if o.get("xmlUrl")]) == len(report.feeds)


def test_golden_custom_feed(built: tuple[Path, BuildReport]) -> None:
    output, _ = built
    assert_golden({rel.removeprefix("ko/news/"): data for rel, data in output_files(output).items()
                   if rel.startswith("ko/news/")}, GOLDEN)


# --- matching ---------------------------------------------------------------------------------------------------


def test_names_match_as_written_and_languages_by_prefix(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", """[site]
language = "en"
[build]
category_feeds = false
[[feeds]]
name = "Lower news"
categories = ["news"]
[[feeds]]
name = "British"
languages = ["en-gb"]
[[feeds]]
name = "Any English"
languages = ["en"]
[[feeds]]
name = "Korean"
languages = ["ko"]
""".replace("[site]\n", "", 1))
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "categories": ["News"], "lang": "en-GB"})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "categories": ["news"]})  # the site's "en"
    write_post(site, "c.md", {"title": "C", "date": "2024-01-03", "lang": "EN-us"})
    write_post(site, "d.md", {"title": "D", "date": "2024-01-04", "lang": "eng"})  # not "en": another language
    report = run_build(site)
    feeds = {feed.name: [p.title for p in feed.posts] for feed in report.feeds if feed.kind == "custom"}
    assert feeds == {"Lower news": ["B"], "British": ["A"], "Any English": ["C", "B", "A"], "Korean": []}
    # An empty feed is written (valid) and warned about, never an error.
    assert report.warnings == [f"{site / 'feedwright.toml'}: feeds[4].languages: no post is in 'ko'"]
    check_feed_files(output_files(site / "output"))


def test_a_value_no_post_has_is_a_warning_with_a_suggestion(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", """[[feeds]]
name = "Typo"
categories = ["Nwes"]
[[feeds]]
name = "Not yet"
categories = ["News"]
tags = ["later"]
[[feeds]]
name = "Disjoint"
categories = ["News"]
tags = ["seoul"]
""")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "categories": ["News"]})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "tags": ["seoul"]})
    write_post(site, "c.md", {"title": "C", "date": "2031-01-02", "tags": ["later"], "categories": ["News"]})
    report = run_build(site)
    toml = site / "feedwright.toml"
    assert report.warnings == [
        f"{toml}: feeds[1].categories: no post has the category 'Nwes'; did you mean 'News'?",
        # "later" is on a scheduled post: not a typo, the feed is just empty for now.
        f"{toml}: feeds[2] ('Not yet'): no published post matches it yet; its feed is written empty",
        f"{toml}: feeds[3] ('Disjoint'): no published post matches it yet; its feed is written empty",
    ]
    assert (site / "output" / "typo" / "rss.xml").is_file() and not report.rejected
    check_feed_files(output_files(site / "output"))


def test_limit_defaults_to_build_limit(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "[build]\nlimit = 2\n[[feeds]]\nname = \"All\"\n[[feeds]]\nname = \"More\"\n"
                     "limit = 3\n")
    for day in range(1, 6):
        write_post(site, f"{day}.md", {"title": str(day), "date": f"2024-01-0{day}"})
    report = run_build(site)
    feeds = {feed.name: [p.title for p in feed.posts] for feed in report.feeds if feed.kind == "custom"}
    assert feeds == {"All": ["5", "4"], "More": ["5", "4", "3"]}


def test_changing_a_custom_feed_rewrites_it_and_removes_a_dropped_format(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[[feeds]]\nname = "X"\ntags = ["a"]\nformats = ["rss", "atom"]\n')
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "tags": ["a"]})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02", "tags": ["a", "b"]})
    run_build(site)
    assert run_build(site).result.written == []  # type: ignore[union-attr]
    (site / "feedwright.toml").write_text((site / "feedwright.toml").read_text(encoding="utf-8").replace(
        'tags = ["a"]\nformats = ["rss", "atom"]', 'tags = ["b"]\nformats = ["rss"]'), encoding="utf-8")
    report = run_build(site)
    assert [p.title for p in report.feeds[-1].posts] == ["B"]
    assert "x/rss.xml" in report.result.written  # type: ignore[union-attr]
    assert not (site / "output" / "x" / "atom.xml").exists()
    assert _ids(site / "output" / "x" / "rss.xml") == ["https://example.org/b/"]


def test_a_warm_build_after_a_config_change_gives_a_cold_builds_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    site = copy_example_site(tmp_path / "a")
    _append(site, "author_feeds = true\n" + EXAMPLE_FEEDS)
    run_build(site)
    warm = run_build(site)
    assert warm.result is not None and warm.result.written == []
    # The cache's plan and pages must not outlive the [[feeds]] they were made for.
    toml = site / "feedwright.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("limit = 3", "limit = 2"), encoding="utf-8")
    changed = run_build(site)
    assert changed.result is not None  # index.html shows each feed's post count
    assert sorted(changed.result.written) == ["index.html", "ko/news/atom.xml", "ko/news/rss.xml"]
    cold = copy_example_site(tmp_path / "b")
    (cold / "feedwright.toml").write_bytes(toml.read_bytes())
    run_build(cold)
    assert output_files(site / "output") == output_files(cold / "output")


def test_a_jekyll_site_takes_custom_feeds_from_feedwright_toml(tmp_path: Path) -> None:
    root = tmp_path / "blog"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("url: https://blog.example\ntitle: Blog\n", encoding="utf-8")
    (root / "feedwright.toml").write_text('[[feeds]]\nname = "Ruby"\ntags = ["ruby"]\n', encoding="utf-8")
    (root / "_posts" / "2024-01-02-gem.md").write_text("---\ntags: ruby gems\n---\nA gem.\n", encoding="utf-8")
    (root / "_posts" / "2024-01-03-py.md").write_text("---\ntags: python\n---\nA snake.\n", encoding="utf-8")
    report = run_build(root)
    (ruby,) = [feed for feed in report.feeds if feed.kind == "custom"]
    assert [p.title for p in ruby.posts] == ["Gem"] and (root / "output" / "ruby" / "feed.json").is_file()


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ([{"name": "A", "limt": 3}], "unknown key feeds[1].limt; did you mean 'limit'?"),
        ([{"categories": ["News"]}], "feeds[1].name is missing"),
        ([{"name": ""}], "feeds[1].name must not be empty"),
        ([{"name": "A", "path": "/abs"}], "feeds[1].path must be a folder relative to build.output"),
        ([{"name": "A", "path": "a/../../etc"}], "feeds[1].path must be a plain relative folder"),
        ([{"name": "A", "path": "."}], "feeds[1].path must be a plain relative folder"),
        ([{"name": "A", "path": "a//b"}], "feeds[1].path must be a plain relative folder"),
        ([{"name": "A", "path": "a\\b"}], "feeds[1].path must be a plain relative folder"),
        ([{"name": "A", "path": "C:/x"}], "feeds[1].path must be a folder relative to build.output"),
        ([{"name": "A", "path": "categories/news"}], "feeds[1].path: categories/ holds the category feeds"),
        ([{"name": "Tags"}], "feeds[1].name (its folder is the name's slug): tags/ holds the tag feeds"),
        ([{"name": "A", "path": "authors"}], "feeds[1].path: authors/ holds the author feeds"),
        ([{"name": "A", "path": "x/rss.xml"}], "feeds[1].path: a folder named 'rss.xml' would clash"),
        ([{"name": "A", "path": "index.html"}], "feeds[1].path: a folder named 'index.html' would clash"),
        ([{"name": "A", "path": "x/archive"}], "feeds[1].path: a folder named 'archive' holds the archive docum"),
        ([{"name": "Archive"}], "feeds[1].name (its folder is the name's slug): a folder named 'archive' holds"),
        ([{"name": "A", "path": "x"}, {"name": "B", "path": "x/"}], "feeds[2].path: 'x' is already the folder of "
                                                                    "feeds[1] ('A')"),
        ([{"name": "A b"}, {"name": "B", "path": "a-b"}], "feeds[2].path: 'a-b' is already the folder of feeds[1]"),
        ([{"name": "A", "path": "a"}, {"name": "A", "path": "b"}], "feeds[2].name: 'A' is already the name of "
                                                                   "feeds[1]"),
        ([{"name": "A", "categories": "News"}], "feeds[1].categories must be a non-empty list of names"),
        ([{"name": "A", "tags": []}], "feeds[1].tags must be a non-empty list of names"),
        ([{"name": "A", "authors": [3]}], "feeds[1].authors must be a string"),
        ([{"name": "A", "languages": ["en_GB"]}], "feeds[1].languages: 'en_GB' is not a language tag"),
        ([{"name": "A", "limit": 0}], "feeds[1].limit must be a whole number of at least 1"),
        ([{"name": "A", "formats": ["rss", "html"]}], "feeds[1].formats: unknown format 'html'"),
        ({"name": "A"}, "feeds must be an array of tables: write each custom feed under [[feeds]]"),
        ([{"name": "A"}, "B"], "feeds must be an array of tables"),
    ],
)
def test_bad_custom_feed_is_a_config_error_naming_the_key(tmp_path: Path, feeds: Any, message: str) -> None:
    error = _error(tmp_path, feeds)
    assert len(error.splitlines()) == 1 and error.startswith("feedwright.toml: ") and message in error, error


def test_every_problem_of_every_table_at_once(tmp_path: Path) -> None:
    error = _error(tmp_path, [{"name": "A", "limt": 1, "tags": "x"}, {"path": "../x"}], limit=0)
    lines = error.splitlines()
    assert len(lines) == 5 and all(line.startswith("feedwright.toml: ") for line in lines)
    for part in ("build.limit", "feeds[1].limt", "feeds[1].tags", "feeds[2].path", "feeds[2].name is missing"):
        assert any(part in line for line in lines), (part, lines)


def test_a_valid_table_becomes_a_frozen_custom_feed(tmp_path: Path) -> None:
    (feed,) = _site(tmp_path, [{"name": "Korean news", "path": "ko/news/", "categories": ["News", "News", "Art"],
                                "languages": ["KO", "ko"], "formats": ["json", "rss"], "limit": 5}]).feeds
    assert (feed.name, feed.folder, feed.categories, feed.languages, feed.formats, feed.limit) == (
        "Korean news", "ko/news", ("Art", "News"), ("ko",), ("rss", "json"), 5)
    assert (feed.tags, feed.authors) == ((), ())
    with pytest.raises(AttributeError):
        feed.name = "x"  # type: ignore[misc]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab./\\:-Cx é\x00\n"), min_size=0, max_size=12))
def test_any_path_is_refused_or_a_plain_folder_inside_output(path: str) -> None:
    root = Path("/nonexistent-site")
    try:
        (feed,) = _site(root, [{"name": "N", "path": path}]).feeds
    except ConfigError as exc:
        assert str(exc).startswith("feedwright.toml: feeds[1].path") and "\n" not in str(exc).strip()
        return
    parts = feed.folder.split("/")
    assert feed.folder and not feed.folder.startswith("/") and "\\" not in feed.folder
    assert all(part not in ("", ".", "..") for part in parts)
    assert parts[0] not in ("categories", "tags", "authors")
    output = Path("/srv/out")
    assert (output / feed.folder).resolve().is_relative_to(output)  # nothing climbs out, whatever the text


def test_the_command_line_exits_2_with_one_line_and_writes_nothing(example_site: Path) -> None:
    _append(example_site, '\n[[feeds]]\nname = "X"\npath = "../outside"\n')
    proc = subprocess.run([sys.executable, "-m", "feedwright", "build", "--site", str(example_site)],
                          capture_output=True, text=True, timeout=120,
                          env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "feedwright.toml" in line and "feeds[1].path" in line and "Traceback" not in proc.stderr
    assert not (example_site / "output").exists() and not (example_site.parent / "outside").exists()


def test_check_shows_the_warnings_and_load_site_reads_the_feeds(example_site: Path) -> None:
    _append(example_site, '\n[[feeds]]\nname = "Typo"\ntags = ["fedes"]\n')
    assert [feed.name for feed in load_site(example_site).feeds] == ["Typo"]
    proc = subprocess.run([sys.executable, "-m", "feedwright", "check", "--site", str(example_site)],
                          capture_output=True, text=True, timeout=120,
                          env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "warning: " in proc.stderr and "feeds[1].tags: no post has the tag 'fedes'; did you mean 'feeds'?" in \
        proc.stderr


def test_a_name_with_markup_stays_text_everywhere(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[[feeds]]\nname = "<b>Q&A</b> \\"x\\""\n')
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    report = run_build(site)
    (feed,) = [feed for feed in report.feeds if feed.kind == "custom"]
    assert feed.folder == "b-q-a-b-x"
    files = output_files(site / "output")
    check_feed_files({rel: data for rel, data in files.items() if rel.startswith(feed.folder)})
    assert validate_feed(site / "output" / feed.folder / "atom.xml").feed.title == 'Test · <b>Q&A</b> "x"'
    page = lxml_html.document_fromstring(files[INDEX])
    assert not page.xpath("//b") and '<b>Q&A</b> "x"' in page.text_content()
    root = etree.fromstring(files[OPML])
    assert 'Test · <b>Q&A</b> "x"' in [o.get("title") for o in root.iter("outline")]


# --- the filters against the grouped feeds ----------------------------------------------------------------------

_NAMES = st.sampled_from(["News", "news", "Art", "서울"])
_POSTS = st.lists(st.tuples(st.frozensets(_NAMES, max_size=2), st.frozensets(_NAMES, max_size=2),
                            st.frozensets(_NAMES, max_size=2)), max_size=12)
_FILTER = st.none() | st.lists(_NAMES, min_size=1, max_size=2)


@settings(max_examples=150, deadline=None)
@given(_POSTS, _FILTER, _FILTER, _FILTER)
def test_a_custom_feed_is_the_intersection_of_the_unions_of_the_grouped_feeds(
    posts: list[tuple[frozenset[str], frozenset[str], frozenset[str]]],
    categories: list[str] | None, tags: list[str] | None, authors: list[str] | None,
) -> None:
    from datetime import timedelta

    from feedwright.pipeline import plan as planning
    from feedwright.pipeline.collect import Post

    table: dict[str, Any] = {"name": "Mix"}
    for key, value in (("categories", categories), ("tags", tags), ("authors", authors)):
        if value is not None:
            table[key] = value
    site = parse_config({"site": {"url": "https://ex.org/"}, "feeds": [table],
                         "build": {"tag_feeds": True, "author_feeds": True, "limit": 100}}, Path("/nonexistent"))
    made = [
        Post(source=f"{i}.md", title=str(i), published=NOW - timedelta(days=i), updated=NOW - timedelta(days=i),
             url=f"https://ex.org/{i}/", id=f"https://ex.org/{i}/", categories=tuple(sorted(c)), tags=tuple(sorted(t)),
             summary=None, image=None, authors=tuple(sorted(a)), draft=False, body="", markup="markdown")
        for i, (c, t, a) in enumerate(posts)
    ]
    feeds = planning.plan(site, made, NOW).feeds
    by_kind: dict[tuple[str, str], set[str]] = {(f.kind, f.name): {p.id for p in f.posts} for f in feeds}

    def union(kind: str, names: list[str] | None) -> set[str] | None:
        return None if names is None else set().union(*(by_kind.get((kind, n), set()) for n in names))

    (site_feed,) = [f for f in feeds if f.kind == "site"]
    (custom,) = [f for f in feeds if f.kind == "custom"]
    wanted = [u for u in (union("category", categories), union("tag", tags), union("author", authors)) if u is not None]
    assert [p.id for p in custom.posts] == [p.id for p in site_feed.posts if all(p.id in u for u in wanted)]
