"""Decide which feeds a site has and which posts each one carries.

One site-wide feed, one per category (and per tag, per author when enabled), one per ``[[feeds]]`` table. Every
feed holds the newest ``limit`` live posts it takes (a custom feed: its own limit, if given), newest first, ties
broken by id, so the same posts always give the same order. Each kind of feed is made with all its posts;
:func:`~feedwright.pipeline.archive.cut` then keeps the newest ``limit`` (or, with ``[build] archives``, splits the
rest into RFC 5005 archive documents), so every kind of feed gets archives alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import attrgetter, itemgetter
from urllib.parse import quote

from ..config import Site
from ..feeds_config import CustomFeed
from ..formats import BY_NAME
from .collect import Post
from .custom import matches
from .text import short_hash, slugify

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST, _ID, _POST = itemgetter(0), itemgetter(1), itemgetter(2)


ARCHIVE_FOLDER = "archive"  # each feed's RFC 5005 archive documents, inside the feed's own folder


@dataclass(frozen=True)
class Paging:
    """Where a feed document sits in its RFC 5005 archived feed (see :mod:`feedwright.pipeline.archive`)."""

    number: int  # 0: the subscription document; 1, 2, ...: archive documents, the oldest first
    prev: int  # the archive before this document (the newest one, for the subscription document); 0: none
    next: int  # the archive after this one; 0: none (the newest archive, or the subscription document)

    def file_name(self, name: str) -> str:
        """``name`` (a format's file name) for this document: ``archive/atom-3.xml`` for archive 3."""
        if not self.number:
            return name
        stem, dot, ext = name.rpartition(".")
        return f"{ARCHIVE_FOLDER}/{stem}-{self.number}{dot}{ext}"


@dataclass(frozen=True)
class Feed:
    """One feed (in each of its formats): where it lives and the posts it carries, newest first."""

    kind: str  # "site", "category", "tag", "author" or "custom"
    name: str  # the category, tag, author or custom feed's name as written; the site title for the site-wide feed
    title: str
    folder: str  # output-relative folder, "" for the site-wide feed
    posts: tuple[Post, ...]
    formats: tuple[str, ...]  # the formats it is written in: build.formats, or a custom feed's own
    paging: Paging | None = None  # None: archives are off

    def path(self, fmt: str) -> str:
        """Output-relative path of this feed's file in ``fmt`` (of its archive document, for an archive)."""
        name = BY_NAME[fmt].file_name
        if self.paging is not None:
            name = self.paging.file_name(name)
        return f"{self.folder}/{name}" if self.folder else name

    def url(self, site: Site, fmt: str) -> str:
        """Absolute URL of this feed's file in ``fmt``; non-ASCII slugs percent-encoded."""
        return site.url + quote(self.path(fmt))


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
            members[name].append(post)
    slugs = assign_slugs(members)
    return [
        Feed(kind, name, f"{site.title} · {name}", f"{folder}/{slugs[name]}", tuple(members[name]), site.formats)
        for name in sorted(members, key=lambda n: slugs[n])
    ]


def _custom(site: Site, spec: CustomFeed, ordered: list[Post]) -> Feed:
    """A ``[[feeds]]`` table's feed: every matching post (``archive.cut`` keeps its newest ``limit``), written even
    when none matches yet."""
    posts = tuple(filter(partial(matches, spec), ordered))
    return Feed("custom", spec.name, f"{site.title} · {spec.name}", spec.folder, posts, spec.formats or site.formats)


@dataclass(frozen=True)
class Plan:
    """Every feed the site publishes at a moment, and what the build report counts."""

    feeds: list[Feed]  # what subscribers subscribe to
    live: int  # posts published: neither drafts nor dated in the future
    drafts: int
    scheduled: int  # dated in the future
    next_due: datetime | None  # when the first scheduled post is due
    archives: list[Feed] = field(default_factory=list)  # RFC 5005 archive documents of every feed ([build] archives)


def plan(site: Site, posts: Iterable[Post], now: datetime) -> Plan:
    """Every feed of the site at ``now``, drafts and future posts left out, each holding its newest ``limit``
    posts (newest first, equal dates by id); counted in the same pass over the posts."""
    # Each post's time since the epoch is computed once: comparing datetimes of different zones asks each zone
    # for its offset at every comparison (for 100,000 posts, 0.3 s of sort keys become 0.1 s).
    # ``published - _EPOCH <= now - _EPOCH`` is ``published <= now``.
    cutoff = now - _EPOCH
    if site.jekyll is not None and site.jekyll.future:  # Jekyll's future: true publishes future posts now
        cutoff = timedelta.max
    keyed: list[tuple[timedelta, str, Post]] = []
    future: list[tuple[timedelta, Post]] = []
    live, drafts = keyed.append, 0
    for p in posts:
        if p.draft:
            drafts += 1
        elif (since := p.published - _EPOCH) <= cutoff:
            live((since, p.id, p))
        else:
            future.append((since, p))
    due = min(future, key=_FIRST)[1].published if future else None
    # Newest first, equal dates by id: by id, then (a stable sort) by date: the order of sorting by both at once,
    # in a third of the time (no key tuple made and compared per post).
    keyed.sort(key=_ID, reverse=True)
    keyed.sort(key=_FIRST, reverse=True)
    ordered = list(map(_POST, keyed))
    feeds = [Feed("site", site.title, site.title, "", tuple(ordered), site.formats)]
    if site.category_feeds:
        wanted = site.jekyll.feed_categories if site.jekyll is not None else None  # jekyll-feed's feed.categories
        feeds += [
            feed for feed in _grouped(site, ordered, "category", "categories", attrgetter("categories"))
            if wanted is None or feed.name in wanted
        ]
    if site.tag_feeds:
        feeds += _grouped(site, ordered, "tag", "tags", attrgetter("tags"))
    if site.author_feeds:  # a post without an author is the site author's (normalise._authors): so is its feed
        feeds += _grouped(site, ordered, "author", "authors", attrgetter("authors"))
    limits = [site.limit] * len(feeds) + [spec.limit or site.limit for spec in site.feeds]
    feeds += [_custom(site, spec, ordered) for spec in site.feeds]
    from .archive import cut  # archive.py builds on Feed and Paging, defined here

    feeds, archives = cut(site, feeds, limits)
    return Plan(feeds, len(ordered), drafts, len(future), due, archives)
