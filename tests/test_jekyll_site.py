"""feedwright on real Jekyll sites, against real Jekyll 4.3 (the oracle): same posts, links, ids, titles, dates,
categories and tags, and category feeds holding exactly Jekyll's posts of that category."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import CORPORA
from feedwright.config import load_site
from feedwright.jekyll.discover import DATE_FILENAME
from feedwright.pipeline.collect import Post
from feedwright.pipeline.text import squash
from jekyll_oracle import Oracle, jekyll_date, jekyll_missing, oracle

pytestmark = pytest.mark.skipif(jekyll_missing() is not None, reason=str(jekyll_missing()))

# The cases, added to some builds: a future post, names Jekyll does not publish, folder categories and a
# language, a category Jekyll keeps whole, no title, a cased name, a slug, a post's own permalink.
EXTRA = {
    "_posts/2999-01-01-far-future.md": "---\ntitle: Far future\n---\nLater.\n",
    "_posts/2021-09-08.md": "---\ntitle: Not a post name\n---\nx\n",
    "_posts/2020-10-16.exam-daily-131.md": "---\ntitle: Nor this\n---\nx\n",
    "ko/news/_posts/2020-01-02-annyeong.md": (
        "---\ntitle: 안녕하세요\nlang: ko\ncategories: [C++ games]\ntags: 한국어 c++\n---\n본문\n"
    ),
    "_posts/2020-01-03-no-title-here.md": "---\nlayout: post\n---\nbody\n",
    "_posts/2020-01-04-no-front-matter.md": "Just text.\n",
    "_posts/2020-01-05-Cased_Title&more.md": "---\n---\nx\n",
    "_posts/2020-01-06-slugged.md": "---\nslug: My Own Slug!\n---\nx\n",
    "_posts/2020-01-07-permalinked.md": "---\npermalink: /custom/:year/:title:output_ext\n---\nx\n",
    "_posts/2020-01-08-dated.md": "---\ndate: 2020-01-09 23:30:00 -0500\ncategory: Mixed Case\n---\nx\n",
}

# (corpus, config folder under tests/jekyll/, _config.yml overrides, extra files): each corpus with its own
# settings and with other permalink styles.
CASES = {
    "jekyll-docs": ("jekyll-docs", "jekyll-docs", {}, {}),
    "jekyll-docs-pretty": ("jekyll-docs", "jekyll-docs", {"collections": {}, "permalink": "pretty"}, EXTRA),
    "jekyll-docs-weekdate": ("jekyll-docs", "jekyll-docs", {"collections": {}, "permalink": "weekdate",
                                                            "baseurl": "/blog", "show_drafts": True}, {}),
    "made-mistakes": ("made-mistakes", "made-mistakes", {}, {}),
    "made-mistakes-date": ("made-mistakes", "made-mistakes", {"permalink": "date", "timezone": "Asia/Seoul"}, {}),
    "made-mistakes-custom": ("made-mistakes", "made-mistakes", {
        "permalink": "/:categories/:short_year/:i_month/:i_day/:hour-:minute-:second/:y_day/:slug:output_ext",
        "future": False,
    }, EXTRA),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    corpus, config, overrides, extra = CASES[request.param]
    return oracle(CORPORA / corpus, config, tmp_path_factory.mktemp(request.param), overrides, extra)


def _ours(built: Oracle) -> dict[str, Post]:
    # The site-wide feed (its limit raised above the number of posts): what readers get.
    site_feed = built.report.feeds[0]
    assert site_feed.kind == "site"
    return {p.source: p for p in site_feed.posts}


def _theirs(built: Oracle) -> dict[str, dict]:
    # Two posts Jekyll writes to one URL (it warns "Conflict"): only one page exists there; feedwright keeps the
    # first by path and names the other, so neither side's choice is compared.
    urls = Counter(p["url"] for p in built.jekyll.values())
    return {path: p for path, p in built.jekyll.items() if not p["draft"] and urls[p["url"]] == 1}


def _dated(site: Path, path: str) -> bool:
    """Whether the post's date comes from its file name or front matter (else both sides take the clock)."""
    name = path.rsplit("/", 1)[-1]
    text = (site / path).read_text(encoding="utf-8")
    return DATE_FILENAME.match(name) is not None or re.search(r"(?m)^date:", text.split("\n---", 1)[0]) is not None


def test_same_posts(built: Oracle) -> None:
    ours, theirs = _ours(built), _theirs(built)
    contested = set(built.jekyll) - set(theirs)
    assert set(ours) - contested == set(theirs) - contested


def test_links_and_ids_are_jekylls(built: Oracle) -> None:
    ours, theirs = _ours(built), _theirs(built)
    same = [path for path, p in theirs.items() if path in ours and ours[path].url == p["link"]]
    share = len(same) / len(theirs)
    print(f"\n{len(same)} of {len(theirs)} item links are the page Jekyll publishes ({share:.2%})")
    assert share >= 0.995, [(ours[p].url, theirs[p]["link"]) for p in theirs if p in ours and p not in same][:5]
    assert [p for p in theirs if ours[p].url != theirs[p]["link"]] == []
    assert {p: ours[p].id for p in theirs} == {p: t["id"] for p, t in theirs.items()}


def test_titles_dates_categories_and_tags_are_jekylls(built: Oracle) -> None:
    ours, theirs = _ours(built), _theirs(built)
    for path, t in theirs.items():
        post = ours[path]
        assert post.title == squash(str(t["title"])), path
        if _dated(built.site, path):
            assert post.published == jekyll_date(t["date"]), path
        else:  # dated by the clock (Jekyll: the build's time or the file's mtime; feedwright: first seen)
            assert abs(post.published - jekyll_date(t["date"])) < timedelta(minutes=10), path
        assert list(post.categories) == [squash(str(c)) for c in t["categories"]], path
        assert list(post.tags) == [squash(str(c)) for c in t["tags"]], path


def test_category_feeds_hold_jekylls_posts(built: Oracle) -> None:
    theirs = _theirs(built)
    by_category: dict[str, set[str]] = defaultdict(set)
    for t in theirs.values():
        for name in t["categories"]:
            by_category[squash(str(name))].add(t["link"])
    feeds = {f.name: {p.url for p in f.posts} for f in built.report.feeds if f.kind == "category"}
    assert feeds  # every corpus has categories
    for name, links in feeds.items():
        assert links == by_category[name], name


def test_the_atom_feed_is_also_where_jekyll_feed_wrote_it(built: Oracle) -> None:
    settings = load_site(built.site).jekyll
    assert settings is not None
    files = built.report.files
    assert settings.feed_path in files
    assert files[settings.feed_path] == files["atom.xml"]
    assert (built.site / "output" / settings.feed_path).read_bytes() == files["atom.xml"]


def test_first_line_says_what_was_read(built: Oracle) -> None:
    assert built.report.source is not None
    assert built.report.source.startswith("site: Jekyll _config.yml, url ")
    assert Path(built.site, "_config.yml").is_file()
