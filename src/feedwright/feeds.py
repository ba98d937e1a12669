"""Decide which feeds a site has and which posts each one carries.

One site-wide feed, one per category (and per tag when enabled). Every feed holds the newest ``limit`` live
posts, newest first, ties broken by id, so the same posts always give the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from .collect import Post
from .config import Site
from .text import short_hash, slugify

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FILE_NAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}


@dataclass(frozen=True)
class Feed:
    """One feed (in every configured format): where it lives and the posts it carries, newest first."""

    kind: str  # "site", "category" or "tag"
    name: str  # the category or tag as written; the site title for the site-wide feed
    title: str
    folder: str  # output-relative folder, "" for the site-wide feed
    posts: tuple[Post, ...]

    def path(self, fmt: str) -> str:
        """Output-relative path of this feed's file in ``fmt``."""
        return f"{self.folder}/{FILE_NAMES[fmt]}" if self.folder else FILE_NAMES[fmt]

    def url(self, site: Site, fmt: str) -> str:
        """Absolute URL of this feed's file in ``fmt``; non-ASCII slugs percent-encoded."""
        return site.url + quote(self.path(fmt))


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Posts ordered newest first; equal dates fall back to the id so the order never wobbles."""
    # Keyed by the exact time since the epoch: comparing datetimes of different zones asks each zone for its
    # offset at every comparison (three times slower for 100,000 posts); the order is the same.
    return sorted(posts, key=lambda p: (p.published - _EPOCH, p.id), reverse=True)


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """A distinct, path-safe slug per name.

    Names that slug alike (``News`` and ``news``) are told apart: the first in sorted order keeps the plain
    slug, the others get a suffix derived from the name itself, so a slug depends only on the names involved.
    """
    by_slug: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(names)):
        by_slug[slugify(name)].append(name)
    slugs: dict[str, str] = {}
    # Plain slugs first: a name such as "news-3c6bdc" must not share the folder of the second "news".
    taken = set(by_slug)
    for slug, group in by_slug.items():
        slugs[group[0]] = slug
        for name in group[1:]:
            candidate = f"{slug}-{short_hash(name)}"
            while candidate in taken:
                candidate = f"{slug}-{short_hash(candidate)}"
            taken.add(candidate)
            slugs[name] = candidate
    return slugs


def _grouped(
    site: Site, ordered: list[Post], kind: str, folder: str, names_of: Callable[[Post], tuple[str, ...]]
) -> list[Feed]:
    members: dict[str, list[Post]] = defaultdict(list)
    for post in ordered:
        for name in names_of(post):
            if len(members[name]) < site.limit:
                members[name].append(post)
    slugs = assign_slugs(members)
    return [
        Feed(kind, name, f"{site.title} · {name}", f"{folder}/{slugs[name]}", tuple(members[name]))
        for name in sorted(members, key=lambda n: slugs[n])
    ]


def plan(site: Site, posts: Iterable[Post], now: datetime) -> list[Feed]:
    """Every feed the site publishes at ``now``; drafts and future posts are left out."""
    ordered = newest_first(p for p in posts if p.is_live(now))
    feeds = [Feed("site", site.title, site.title, "", tuple(ordered[: site.limit]))]
    if site.category_feeds:
        feeds += _grouped(site, ordered, "category", "categories", lambda p: p.categories)
    if site.tag_feeds:
        feeds += _grouped(site, ordered, "tag", "tags", lambda p: p.tags)
    return feeds
