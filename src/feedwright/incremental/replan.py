"""The last plan with a few posts swapped for their edited versions, when that can be told without the others.

Planning 100,000 posts again (sorting and grouping them) costs ~0.5 s; ``daemon --watch`` republishes a saved post
in less. An edit that keeps a post's id, draft state, categories, tags, authors and language (all that decides
which feeds may carry it, custom ones included), and keeps it published, moves it within the feeds that can carry
it: each such feed is re-sorted with the new version in place of the old, and a post
that was outside a full feed enters it only if it now sorts before the feed's last member. Any other edit (and
any moment at which a scheduled post has come due) is planned again from scratch: :func:`replan` returns None.
``tests/test_watch.py`` checks it against :func:`feedwright.pipeline.plan.plan` on random edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ..config import Site
from ..pipeline.collect import Post
from ..pipeline.custom import matches
from ..pipeline.plan import Feed, Plan

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(post: Post) -> tuple[timedelta, str]:
    return post.published - _EPOCH, post.id  # plan()'s order: newest first, equal dates by id


def _grouping(post: Post) -> tuple[object, ...]:
    # What decides which feeds may carry a post (custom feeds filter on the language too).
    return post.categories, post.tags, post.authors, post.language


def _planned(post: Post) -> tuple[object, ...]:
    # What plan() reads of a post, apart from its place in the order.
    return post.published, post.id, post.draft, _grouping(post)


def _carries(site: Site, feed: Feed, post: Post) -> bool:
    """Whether ``feed`` is one that could carry ``post``: the site's, or one of a name (or filter) it has."""
    if feed.kind == "site":
        return True
    if feed.kind == "custom":
        return any(spec.folder == feed.folder and matches(spec, post) for spec in site.feeds)
    return feed.name in {"category": post.categories, "tag": post.tags, "author": post.authors}[feed.kind]


def _limit(site: Site, feed: Feed) -> int:
    if feed.kind == "custom":
        return next((spec.limit or site.limit for spec in site.feeds if spec.folder == feed.folder), site.limit)
    return site.limit


def replan(
    site: Site, last: Plan, made_at: datetime, now: datetime, swaps: Iterable[tuple[Post, Post]]
) -> Plan | None:
    """``last`` (planned at ``made_at``) at ``now``, each (old, new) post swapped; None when only planning again
    from scratch can tell."""
    if now < made_at or (last.next_due is not None and now >= last.next_due):
        return None  # the clock went back, or a scheduled post has come due
    if site.archives or last.archives or any(feed.paging is not None for feed in last.feeds):
        return None  # RFC 5005 archives: a post moving may shift every archive document's bounds
    cutoff = timedelta.max if site.jekyll is not None and site.jekyll.future else now - _EPOCH
    live: list[tuple[Post, Post]] = []
    for old, new in swaps:
        published = [not p.draft and p.published - _EPOCH <= cutoff for p in (old, new)]
        if not any(published) and _planned(old) == _planned(new):
            continue  # a draft or scheduled post edited: in no feed before or after, and due at the same moment
        if not all(published) or old.id != new.id or _grouping(old) != _grouping(new):
            return None
        live.append((old, new))
    if not live:
        return last
    feeds = []
    for feed in last.feeds:
        moved = _moved(_limit(site, feed), feed, [(old, new) for old, new in live if _carries(site, feed, new)])
        if moved is None:
            return None
        feeds.append(moved)
    return replace(last, feeds=feeds)


def _moved(limit: int, feed: Feed, swaps: list[tuple[Post, Post]]) -> Feed | None:
    if not swaps:
        return feed
    posts = list(feed.posts)
    where = {post.id: i for i, post in enumerate(posts)}
    full = len(posts) >= limit
    for old, new in swaps:
        i = where.get(old.id)
        if i is not None:
            posts[i] = new
        elif not full:
            return None  # a feed with room carries every post it can: this one should have been in it
        elif _key(new) > _key(feed.posts[-1]):
            posts.append(new)
    posts.sort(key=_key, reverse=True)
    if full:
        # Every post outside the feed sorts after its last member: the feed's new last member must still sort at
        # or before that one, or a post outside might belong in the feed now.
        if len(posts) < limit or _key(posts[limit - 1]) < _key(feed.posts[-1]):
            return None
        posts = posts[:limit]
    return replace(feed, posts=tuple(posts))
