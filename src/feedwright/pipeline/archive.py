"""RFC 5005 archived feeds: every post of every feed, for a reader that wants the whole history.

With ``[build] archives = true`` each feed (of any kind, custom ones with their own ``limit``: :func:`cut` runs over
the plan's feeds) is split, from its oldest post, into chunks of ``archive_size`` posts. A chunk becomes an *archive
document* (``<feed folder>/archive/atom-1.xml``, ``rss-1.xml``, ``feed-1.json``; 1 is the oldest) once at least
``limit`` newer posts exist; the *subscription document* (``atom.xml``, ...) carries every post not yet archived:
the newest ``limit`` at least, fewer than ``limit + archive_size``. So the subscription document and the archives
hold every post exactly once, and a chunk's posts never move once it is archived: adding a post rewrites the
subscription document and, when it completes a chunk, writes the new archive (and the archive before it gains its
``next-archive`` link, RFC 5005 asking for one when a later archive exists; its entries stay as they were).

Atom and RSS carry RFC 5005's elements (``fh:archive`` in archive documents, ``atom:link`` with ``current``,
``prev-archive`` and ``next-archive``; the subscription document links ``prev-archive`` to the newest archive).
JSON Feed has no archives: its ``next_url`` pages from the subscription document to the newest archive, then to
each older one (links that only point back in time, so a JSON archive never changes at all).

Archive documents are dated by their newest item and carry no hub links: nothing in them depends on the clock,
so the publisher's write-if-changed leaves them alone.
"""

from __future__ import annotations

from dataclasses import replace

from ..config import Site
from .plan import Feed, Paging

FH_NS = "http://purl.org/syndication/history/1.0"
FH_ARCHIVE = f"{{{FH_NS}}}archive"


def cut(site: Site, feeds: list[Feed], limits: list[int]) -> tuple[list[Feed], list[Feed]]:
    """``feeds`` (each with all its posts, newest first) and each one's ``limit`` -> the subscription documents and
    the archive documents.

    Without archives each feed keeps its newest ``limit`` posts and there are no archive documents.
    """
    if not site.archives:
        return [replace(feed, posts=feed.posts[:limit]) for feed, limit in zip(feeds, limits, strict=True)], []
    subscriptions: list[Feed] = []
    archives: list[Feed] = []
    for feed, limit in zip(feeds, limits, strict=True):
        subscription, chunks = split(feed, limit, site.archive_size)
        subscriptions.append(subscription)
        archives += chunks
    return subscriptions, archives


def split(feed: Feed, limit: int, size: int) -> tuple[Feed, list[Feed]]:
    """``feed``'s subscription document and its archive documents (the oldest first), each newest first."""
    posts = feed.posts
    count = max(0, (len(posts) - limit) // size)
    archived = count * size
    oldest_first = posts[::-1]
    archives = [
        replace(feed, posts=oldest_first[(n - 1) * size : n * size][::-1],
                paging=Paging(n, n - 1, n + 1 if n < count else 0))
        for n in range(1, count + 1)
    ]
    return replace(feed, posts=posts[: len(posts) - archived], paging=Paging(0, count, 0)), archives


def subscription(feed: Feed) -> Feed:
    """The subscription document of ``feed`` (``feed`` itself unless it is an archive document)."""
    return feed if feed.paging is None or not feed.paging.number else replace(feed, paging=Paging(0, 0, 0))


def links(site: Site, feed: Feed, fmt: str) -> list[tuple[str, str]]:
    """RFC 5005's links of ``feed`` in ``fmt``, as (relation, absolute URL): ``current`` (an archive's
    subscription document), ``prev-archive``, ``next-archive``."""
    paging = feed.paging
    if paging is None:
        return []
    out = [] if not paging.number else [("current", subscription(feed).url(site, fmt))]
    if paging.prev:
        out.append(("prev-archive", replace(feed, paging=Paging(paging.prev, 0, 0)).url(site, fmt)))
    if paging.next:
        out.append(("next-archive", replace(feed, paging=Paging(paging.next, 0, 0)).url(site, fmt)))
    return out


def is_archive(feed: Feed) -> bool:
    """Whether ``feed`` is an archive document (``fh:archive``), not a subscription document."""
    return feed.paging is not None and feed.paging.number > 0
