"""Unit tests for feedwright.pipeline.plan: which feeds a site has, which posts each carries, and their slugs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.config import Site, parse_config
from feedwright.pipeline import plan as planning
from feedwright.pipeline.collect import Post
from feedwright.pipeline.plan import Feed, assign_slugs
from feedwright.pipeline.text import short_hash, slugify

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
SITE_URL = "https://ex.org/"


def make_site(tmp_path: Path, **build: Any) -> Site:
    return parse_config({"site": {"url": SITE_URL, "title": "Ex"}, "build": build}, tmp_path)


def make_post(
    name: str,
    published: datetime,
    categories: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    draft: bool = False,
) -> Post:
    url = f"{SITE_URL}{name}/"
    return Post(
        source=f"{name}.md", title=name, published=published, updated=published, url=url, id=url,
        categories=categories, tags=tags, summary=None, image=None, authors=(), draft=draft, body="",
        markup="markdown",
    )


def titles(posts: tuple[Post, ...] | list[Post]) -> list[str]:
    return [p.title for p in posts]


def plan(site: Site, posts: list[Post], now: datetime) -> list[Feed]:
    """The feeds of the plan the build makes."""
    return planning.plan(site, posts, now).feeds


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


# --- plan: which posts ---------------------------------------------------------------------------------------


def test_drafts_and_future_posts_are_left_out(tmp_path: Path) -> None:
    posts = [
        make_post("live", days_ago(1), categories=("News",)),
        make_post("draft", days_ago(2), categories=("News",), draft=True),
        make_post("future", NOW + timedelta(minutes=1), categories=("News",)),
    ]
    feeds = plan(make_site(tmp_path), posts, NOW)
    for feed in feeds:
        assert titles(feed.posts) == ["live"]


def test_future_post_appears_once_its_time_comes(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    when = NOW + timedelta(hours=2)
    posts = [make_post("old", days_ago(1)), make_post("scheduled", when)]
    assert titles(plan(site, posts, NOW)[0].posts) == ["old"]
    assert titles(plan(site, posts, when)[0].posts) == ["scheduled", "old"]
    assert titles(plan(site, posts, when + timedelta(days=1))[0].posts) == ["scheduled", "old"]


def test_the_plan_counts_live_drafts_and_scheduled_posts(tmp_path: Path) -> None:
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(days=3)
    posts = [make_post("a", days_ago(1)), make_post("d", days_ago(1), draft=True), make_post("s", later),
             make_post("t", soon), make_post("b", days_ago(2))]
    made = planning.plan(make_site(tmp_path), posts, NOW)
    assert (made.live, made.drafts, made.scheduled, made.next_due) == (2, 1, 2, soon)


def test_a_draft_never_appears(tmp_path: Path) -> None:
    posts = [make_post("d", days_ago(10), draft=True)]
    assert plan(make_site(tmp_path), posts, NOW + timedelta(days=1000))[0].posts == ()


def test_site_feed_is_newest_first(tmp_path: Path) -> None:
    posts = [make_post("b", days_ago(2)), make_post("c", days_ago(1)), make_post("a", days_ago(3))]
    site_feed = plan(make_site(tmp_path), posts, NOW)[0]
    assert site_feed.kind == "site" and site_feed.folder == ""
    assert titles(site_feed.posts) == ["c", "b", "a"]


def test_dates_in_different_zones_are_compared_as_instants(tmp_path: Path) -> None:
    # 09:00 in Seoul is 00:00 UTC: earlier than 01:00 UTC although its wall clock reads later.
    posts = [
        make_post("seoul", datetime(2024, 6, 1, 9, tzinfo=ZoneInfo("Asia/Seoul"))),
        make_post("utc", datetime(2024, 6, 1, 1, tzinfo=UTC)),
    ]
    assert titles(plan(make_site(tmp_path), posts, NOW)[0].posts) == ["utc", "seoul"]


def test_ties_are_broken_by_id_whatever_the_input_order(tmp_path: Path) -> None:
    same = days_ago(1)
    posts = [make_post(n, same) for n in ("m", "a", "z", "k")] + [make_post("new", NOW), make_post("old", days_ago(5))]
    site = make_site(tmp_path)
    orders = {tuple(titles(plan(site, list(p), NOW)[0].posts)) for p in itertools.permutations(posts)}
    assert len(orders) == 1
    (order,) = orders
    assert order[0] == "new" and order[-1] == "old"
    tied = list(order[1:-1])
    assert tied in (sorted(tied), sorted(tied, reverse=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["UTC", "Asia/Seoul", "America/New_York"]),
                          st.sampled_from("abcde")), max_size=40))
def test_the_order_is_that_of_sorting_by_date_and_id_at_once(rows: list[tuple[int, str, str]]) -> None:
    """plan sorts by id, then (stably) by date: the order of one sort by (instant, id), ids repeated or not."""
    site = make_site(Path("/nonexistent"), limit=1000)
    # Hours apart in several zones: equal instants written differently, and equal ids among them.
    posts = [make_post(name, datetime(2024, 6, 1, 9 + hours, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo(zone)))
             for hours, zone, name in rows]
    expected = sorted(posts, key=lambda p: (p.published.astimezone(UTC), p.id), reverse=True)
    assert [id(p) for p in planning.plan(site, posts, NOW).feeds[0].posts] == [id(p) for p in expected]


# --- plan: limits and per-category feeds ---------------------------------------------------------------------


def test_limit_applies_to_every_feed_separately(tmp_path: Path) -> None:
    site = make_site(tmp_path, limit=2)
    posts = [make_post(f"news{i}", days_ago(i), categories=("News",)) for i in range(5)]
    posts.append(make_post("tech-old", days_ago(30), categories=("Tech",)))
    feeds = {f.name: f for f in plan(site, posts, NOW)}
    assert titles(feeds["Ex"].posts) == ["news0", "news1"]
    assert titles(feeds["News"].posts) == ["news0", "news1"]
    # Too old for the site-wide feed, but the newest of its own category.
    assert titles(feeds["Tech"].posts) == ["tech-old"]


def test_one_feed_per_category(tmp_path: Path) -> None:
    posts = [
        make_post("a", days_ago(1), categories=("News", "디지털 성범죄"), tags=("t1",)),
        make_post("b", days_ago(2), categories=("News",)),
    ]
    feeds = plan(make_site(tmp_path), posts, NOW)
    cats = {f.name: f for f in feeds if f.kind == "category"}
    assert set(cats) == {"News", "디지털 성범죄"}
    assert titles(cats["News"].posts) == ["a", "b"]
    assert titles(cats["디지털 성범죄"].posts) == ["a"]
    assert cats["News"].folder == "categories/news"
    assert cats["디지털 성범죄"].folder == "categories/디지털-성범죄"
    assert "News" in cats["News"].title and "Ex" in cats["News"].title
    assert not [f for f in feeds if f.kind == "tag"]


def test_feed_paths_and_urls(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    feeds = plan(site, [make_post("a", days_ago(1), categories=("News",))], NOW)
    site_feed, news = feeds
    assert site_feed.path("rss") == "rss.xml"
    assert news.path("atom") == "categories/news/atom.xml"
    assert news.url(site, "json") == SITE_URL + "categories/news/feed.json"


def test_tag_feeds_only_when_enabled(tmp_path: Path) -> None:
    posts = [make_post("a", days_ago(1), tags=("python", "rss"))]
    assert not [f for f in plan(make_site(tmp_path), posts, NOW) if f.kind == "tag"]
    tags = [f for f in plan(make_site(tmp_path, tag_feeds=True), posts, NOW) if f.kind == "tag"]
    assert sorted(f.folder for f in tags) == ["tags/python", "tags/rss"]


def test_category_feeds_can_be_turned_off(tmp_path: Path) -> None:
    posts = [make_post("a", days_ago(1), categories=("News",))]
    feeds = plan(make_site(tmp_path, category_feeds=False), posts, NOW)
    assert [f.kind for f in feeds] == ["site"]


def test_no_feed_for_a_category_with_only_drafts_or_future_posts(tmp_path: Path) -> None:
    posts = [
        make_post("d", days_ago(1), categories=("Hidden",), draft=True),
        make_post("f", NOW + timedelta(days=1), categories=("Later",)),
    ]
    assert [f.kind for f in plan(make_site(tmp_path), posts, NOW)] == ["site"]


def test_empty_site_still_has_its_feed(tmp_path: Path) -> None:
    feeds = plan(make_site(tmp_path), [], NOW)
    assert len(feeds) == 1 and feeds[0].posts == ()


def test_categories_differing_in_case_get_distinct_folders(tmp_path: Path) -> None:
    posts = [make_post("a", days_ago(1), categories=("News",)), make_post("b", days_ago(2), categories=("news",))]
    cats = [f for f in plan(make_site(tmp_path), posts, NOW) if f.kind == "category"]
    assert len(cats) == 2
    assert len({f.folder for f in cats}) == 2
    by_name = {f.name: f for f in cats}
    assert titles(by_name["News"].posts) == ["a"] and titles(by_name["news"].posts) == ["b"]


# --- assign_slugs --------------------------------------------------------------------------------------------


def test_assign_slugs_news_and_news_are_distinct() -> None:
    slugs = assign_slugs(["news", "News"])
    assert slugs["News"] != slugs["news"]
    # "News" sorts first (upper case before lower case), so it keeps the plain slug.
    assert slugs["News"] == "news"
    assert slugs["news"].startswith("news-")


def test_assign_slugs_do_not_depend_on_input_order() -> None:
    names = ["News", "news", "NEWS", "Tech", "디지털 성범죄"]
    results = {tuple(sorted(assign_slugs(p).items())) for p in itertools.permutations(names)}
    assert len(results) == 1


def test_assign_slugs_unrelated_name_changes_nothing() -> None:
    before = assign_slugs(["News", "news", "Tech"])
    after = assign_slugs(["News", "news", "Tech", "Culture", "문화"])
    assert {k: after[k] for k in before} == before


def test_assign_slugs_are_path_safe() -> None:
    slugs = assign_slugs(["..", "a/b", "CON", "", "!!!", "???"])
    assert len(set(slugs.values())) == len(slugs)
    for slug in slugs.values():
        assert slug and slug not in (".", "..") and "/" not in slug and "\\" not in slug
        assert slug != "con"


def test_assign_slugs_suffix_cannot_collide_with_another_plain_slug() -> None:
    # A name that happens to look like another name's disambiguated slug must not share its folder.
    lookalike = f"news-{short_hash('news')}"
    assert slugify(lookalike) == lookalike
    slugs = assign_slugs(["News", "news", lookalike])
    assert len(set(slugs.values())) == 3


@pytest.mark.parametrize("names", [["a", "A", "á", "Á", "a\u0301"], ["x"] * 3])
def test_assign_slugs_always_distinct(names: list[str]) -> None:
    slugs = assign_slugs(names)
    assert set(slugs) == set(names)
    assert len(set(slugs.values())) == len(slugs)
