"""The warm build's shortcut: when no file changed, the collection is the last build's, known without loading a post.

A warm build of 100,000 files used to unpickle 100,000 records (each with its :class:`Post`) before looking at a
single file: ~0.7 s, most of such a build. The cache's ``index`` part holds what answering "did anything change?"
needs, in a form that loads in milliseconds: every content file's path in scan order (one string), their stat keys
(one array of integers), a digest of ``state.json``'s bytes and a summary of what the build that saved it assembled
from them (post count, rejections, ignored files, notes, near-miss keys, the posts still to come out).

:func:`collection` takes the shortcut when the scan lists the very same paths, ``state.json`` holds the very same
bytes and every file has the stat key recorded (none was "racy" when read): then every record holds, so
:func:`feedwright.incremental.memo.collect` would give what the summary says, and the collection's posts are a
:class:`~feedwright.pipeline.deferred.Deferred` list, loaded from the records only if something needs them (the
last build's plan keeps the posts of its feeds; see :func:`feedwright.incremental.memo.plan`). The index is
written by each save that can vouch for it (:func:`index`), dropped by any other, and left as it is by a build
that took the shortcut (which learns nothing).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any

from ..config import Site
from ..errors import PostError
from ..pipeline.collect import Collection, Outcome, Post, assemble
from ..pipeline.deferred import Deferred
from ..pipeline.history import State, bytes_digest
from .cache import OUTCOME, RACY, STAT, STATE, Cache
from .shards import Tally

_SEP = "\0"  # never in a file name
_STAT, _RACY, _STATE = itemgetter(STAT), itemgetter(RACY), itemgetter(STATE)


def summary(collection: Collection, notes_from: int, now: datetime, tally: Tally | None = None) -> dict[str, Any]:
    """What :func:`~feedwright.pipeline.collect.assemble` made of the outcomes (``collection.warnings`` from
    ``notes_from`` on: the posts' notes), for a later build that finds the same files to give again. ``tally``:
    what a cold build noted of the posts as they came (:class:`~.shards.Tally`), if it is complete and the
    collection kept every post it counted (no duplicate was rejected)."""
    typos: list[tuple[str, str, str]] = []
    future: list[Post] = []
    if tally is not None and not tally.clash():  # (clash: also when incomplete)
        typos = [typo[1:] for typo in sorted(tally.typos, key=itemgetter(0))]  # in scan order, as the posts are
        future = tally.future
    else:
        # What Collection.near_misses() and scheduled() give, in one pass: each attribute read of 100,000 posts
        # costs ~60 ms (they lie all over memory), each pass of its own as much.
        for post in collection.posts:
            if post.key_typos:
                typos += [(post.source, key, suggestion) for key, suggestion in post.key_typos]
            if post.published > now and not post.draft:
                future.append(post)
    return {
        "posts": len(collection.posts),
        "notes": collection.warnings[notes_from:],
        "rejected": [(e.path, e.reason) for e in collection.rejected],
        "ignored": list(collection.ignored),
        "typos": typos,
        "future": (now, sorted(future, key=lambda p: (p.published, p.source))),
    }


def index(cache: Cache) -> dict[str, Any] | None:
    """The index part for the next build, if this build can vouch for it: it collected through
    :func:`~feedwright.incremental.memo.collect`, every file has a record that is not racy and was read with the
    state entry ``state.json`` now holds."""
    made = cache.made
    if made is None:
        return None
    rels, collected, state = made
    stats = _sealed_stats(cache, len(rels)) if cache.sealed is not None else _kept_stats(cache, rels, state)
    if stats is None:
        return None
    digest = _file_digest(state.path)
    if digest is None:
        return None
    return {"files": _SEP.join(rels), "stats": stats.tobytes(), "state": digest, "summary": collected}


def _kept_stats(cache: Cache, rels: list[str], state: State) -> array[int] | None:
    """The stat keys of ``rels`` from the records this build kept, if each has one, none racy, each read with the
    state entry ``state`` now holds."""
    kept = cache.kept
    if len(kept) != len(rels) or not kept.keys() >= set(rels):
        return None
    # Once per file after every build that did not take the shortcut: loops in C.
    records = list(map(kept.__getitem__, rels))
    if any(map(_RACY, records)) or list(map(_STATE, records)) != list(map(state.posts.get, rels)):
        return None
    try:
        return array("q", chain.from_iterable(map(_STAT, records)))
    except OverflowError:  # an inode number past 2**63: no index, every build takes the long way
        return None


def _sealed_stats(cache: Cache, count: int) -> array[int] | None:
    """The stat keys a cold build kept of the records it wrote (shards.py): when every file has its record in a
    written part, none racy (the state entries are the records' own)."""
    sealed = cache.sealed
    if sealed is None or not sealed.complete or sealed.racy or sealed.stats is None or len(sealed.stats) != 4 * count:
        return None
    return sealed.stats


def _file_digest(path: os.PathLike[str]) -> str | None:
    try:
        with open(path, "rb") as fh:
            return bytes_digest(fh.read())
    except OSError:
        return None


def ready(cache: Cache, state: State) -> bool:
    """Whether the shortcut may be tried: the cache has an index, made with the ``state.json`` this build loaded,
    and the last plan has no archive documents (they hold every post; ``memo.archives`` checks each record)."""
    found = cache.index
    return (bool(found) and found.get("state") is not None and found.get("state") == state.digest
            and not cache.plans.get("archives"))


def collection(
    site: Site, files: list[tuple[str, str]], found: Collection, cache: Cache, load: Callable[[], list[Outcome]]
) -> tuple[Collection | None, array[int] | None]:
    """The collection :func:`~feedwright.incremental.memo.collect` would give, when nothing changed (``found``:
    what :func:`~feedwright.pipeline.collect.find` found, completed in place); else None, and the stat keys of
    ``files`` when they were taken (as an array of four integers per file), so that they are not taken again.
    ``load`` gives the recorded outcome of each of ``files``, should the posts be needed."""
    known = cache.index
    try:
        if _SEP.join([rel for rel, _ in files]) != known["files"]:
            return None, None
        stats = _stats(files)
        if stats is None or stats.tobytes() != known["stats"]:
            return None, stats
        told = known["summary"]
        count, notes, rejected, ignored = told["posts"], told["notes"], told["rejected"], told["ignored"]
        typos, future = told["typos"], told["future"]
    except (KeyError, TypeError, ValueError):  # a damaged index: the long way
        return None, None
    found.warnings += notes
    found.rejected += [PostError(path, reason) for path, reason in rejected]
    found.ignored += ignored
    found.typos, found.future = list(typos), future

    def posts() -> list[Post]:
        return assemble(site, files, load(), Collection()).posts

    found.posts = Deferred(count, posts)
    cache.shortcut = cache.same_posts = True
    return found, None


def _stats(files: list[tuple[str, str]]) -> array[int] | None:
    """The stat key of each file, four integers each; None if one cannot be stat-ed."""
    # The warm path, once per file: the system call is most of it (os.stat with a dir_fd, a thread pool and
    # DirEntry.stat were measured no faster).
    stats = array("q")
    add, stat = stats.extend, os.stat
    try:
        for _, path in files:
            st = stat(path)
            add((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    except (OSError, OverflowError):
        return None
    return stats


def outcomes(files: list[tuple[str, str]], records: dict[str, Any]) -> list[Outcome] | None:
    """The recorded outcome of each of ``files``; None if one has no record."""
    try:
        return [records[rel][OUTCOME] for rel, _ in files]
    except KeyError:
        return None
