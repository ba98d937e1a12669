"""A cold build's reading, straight into the cache's ``posts-NN`` parts.

When the cache holds no record (the first build, or a cache rebuilt), every file is read. Read the usual way, each
record crossed from the worker that read it to this process, stayed here beside its post until the cache was saved
(~700 bytes a file besides the post) and was pickled again to save it: 1.1 s and ~100 MB at 100,000 posts, the
build's peak. Here the files are read one shard at a time (the files whose records share a ``posts-NN`` part): the
worker that reads a shard pickles its records in the cache's own form, writes the part file of the generation being
made (:meth:`~feedwright.incremental.store.Files.seal`) and sends this process the same bytes, from which it keeps
the posts and the state entries and forgets the rest. Saving only names those parts in the manifest, and the
``index`` part (the warm shortcut's) is made from what was kept of the records (:class:`Sealed`).

The outcome of every file is what :func:`feedwright.pipeline.collect.read` would give: the same function reads
each one (:func:`~feedwright.pipeline.collect.read_many`).
"""

from __future__ import annotations

import pickle
import struct
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter, eq

from ..config import Site
from ..pipeline.collect import Outcome, Post, Task, Unreadable, read_many
from ..pipeline.history import State
from . import parallel
from .cache import OUTCOME, POST_SHARDS, RACY, STAT, STATE, Cache, Record, Sealed, shard
from .store import Seal, pickled, unpickled

# What a worker imports as it starts, when the build knows it will read every file (memo.collect): this module
# and, through it, the reading (front matter, YAML, the normalisers).
PRELOAD = (__name__,)

# What a worker sends back per shard: the shard's number, its part's file and MAC (None if it could not be
# written), the records pickled as the cache pickles them (or as they are, if they would not pickle so), the
# outcome of each file that has no record (it could not be read), whether a state entry changed, and why the part
# could not be written.
ShardResult = tuple[int, "str | None", "bytes | None", "bytes | dict[str, Record]", dict[str, Outcome], bool,
                    "str | None"]

_ID, _URL = attrgetter("id"), attrgetter("url")
_LOOKED_AT = attrgetter("key_typos", "notes", "published", "draft")


@dataclass
class Tally:
    """What later passes over every post ask of them, taken as each shard's posts arrive (they were just unpickled
    and are still in the processor's cache; a pass over 100,000 posts afterwards finds each in main memory: the
    duplicate check, the warm index's summary and the report's near misses and scheduled posts were ~0.3 s of one
    core after the workers had finished). ``complete`` once :func:`read_cold` has given every file's outcome: every
    post among them went through :meth:`add`."""

    now: datetime
    claimed: set[str] = field(default_factory=set)  # every post's id and URL
    claims: int = 0  # how many of them there would be if no two posts shared one
    typos: list[tuple[int, str, str, str]] = field(default_factory=list)  # (place, source, key, suggestion)
    future: list[Post] = field(default_factory=list)  # not drafts, dated after ``now``
    noted: bool = False  # some post has notes
    complete: bool = False

    def add(self, posts: list[Post], places: list[int]) -> None:
        """``posts``, found at ``places`` among the files (scan order)."""
        ids, urls = list(map(_ID, posts)), list(map(_URL, posts))
        self.claimed.update(ids)
        self.claimed.update(urls)
        self.claims += 2 * len(ids) - sum(map(eq, ids, urls))  # a post whose id is its URL claims one
        now = self.now
        for place, post, (typos, notes, published, draft) in zip(places, posts, map(_LOOKED_AT, posts), strict=True):
            if typos:
                self.typos += [(place, post.source, key, suggestion) for key, suggestion in typos]
            if notes:
                self.noted = True
            if published > now and not draft:
                self.future.append(post)

    def clash(self) -> bool:
        """Whether two posts may claim the same id or URL (then the collector looks for them)."""
        return not self.complete or len(self.claimed) != self.claims


def read_cold(
    site: Site,
    now: datetime,
    state: State,
    cache: Cache,
    files: list[tuple[str, str]],
    started_ns: int,
    while_waiting: Callable[[], object] | None = None,
    pool: parallel.Workers | None = None,
    tally: Tally | None = None,
) -> list[Outcome]:
    """The outcome of each of ``files`` (content-relative path, path), every one read (``cache`` knows none), in
    order, ``state`` updated as :func:`~feedwright.pipeline.collect.read` updates it; what was written of the
    cache on the way is in ``cache.sealed``, what later passes ask of the posts in ``tally``."""
    try:
        seal = cache.files.seal()
    except OSError:  # the key cannot be written: neither can the cache (its save says so)
        seal = None
    # While the workers wait for their first shard: lean (a first build has no entries to look up).
    if state.posts:
        tasks: list[Task] = [(rel, path, None, state.entry(rel)) for rel, path in files]
    else:
        tasks = [(rel, path, None, None) for rel, path in files]
    tally = tally if tally is not None else Tally(now)
    outcomes, cache.sealed = _read(site, now, state, seal, tasks, started_ns, while_waiting, pool, tally)
    cache.same_posts, cache.swaps = not files, None
    tally.complete = True
    return outcomes


def _read(
    site: Site, now: datetime, state: State, seal: Seal | None, tasks: list[Task], started_ns: int,
    while_waiting: Callable[[], object] | None, pool: parallel.Workers | None, tally: Tally,
) -> tuple[list[Outcome], Sealed]:
    """Each task's outcome, in order, and what was sealed into parts by ``seal`` (None: nothing is written)."""
    groups: list[list[int]] = [[] for _ in range(POST_SHARDS)]
    for i, number in enumerate(map(shard, [task[0] for task in tasks])):
        groups[number].append(i)
    numbers = [n for n in range(POST_SHARDS) if groups[n]]
    outcomes: list[Outcome] = [None] * len(tasks)
    sealed = Sealed(complete=seal is not None, stats=array("q", bytes(32 * len(tasks))))

    def take(k: int, result: ShardResult | parallel.Stopped) -> None:
        # As each shard arrives, while the workers read the next: its bytes are then let go of at once.
        _take(result, [(i, tasks[i][0]) for i in groups[numbers[k]]], outcomes, state, sealed, tally)

    parallel.fan_out(_read_shards, (site, now, started_ns, seal), [(n, [tasks[i] for i in groups[n]]) for n in numbers],
                     min_items=1, chunk=1, while_waiting=while_waiting, pool=pool, on_result=take)
    return outcomes, sealed


def _take(
    result: ShardResult | parallel.Stopped, places: list[tuple[int, str]], outcomes: list[Outcome], state: State,
    sealed: Sealed, tally: Tally,
) -> None:
    """One shard's result into ``outcomes`` (at ``places``: (position, path) per file), ``state`` and ``sealed``."""
    if isinstance(result, parallel.Stopped):  # its worker died (killed, out of memory): not a verdict
        for i, _ in places:
            outcomes[i] = Unreadable(f"cannot read: {result.reason}")
        sealed.complete = False
        return
    number, file, mac, payload, others, dirty, error = result
    records = _records(payload)
    if records is None:  # what no cache loads (a class it does not allow): not named, read again next time
        assert isinstance(payload, bytes)  # (records sent as they are are taken as they are)
        records, file = pickle.loads(payload), None  # from our own worker, over its own pipe, as any result
        error = error or "a post's fields cannot be cached"
    if file is not None and mac is not None:
        sealed.parts[f"posts-{number:02d}"] = (file, mac)
    else:
        sealed.complete = False
    _spread(records, others, places, outcomes, state, sealed, tally)
    state.dirty |= dirty
    if error is not None:
        sealed.error = error


def _spread(
    records: dict[str, Record], others: dict[str, Outcome], places: list[tuple[int, str]], outcomes: list[Outcome],
    state: State, sealed: Sealed, tally: Tally,
) -> None:
    """Each file's outcome to its place, its state entry to ``state``, its stat key to ``sealed``, its post to
    ``tally``."""
    # Once per file of a cold build: lean on purpose (0.98 -> 0.81 µs a file in-process, against one array per
    # stat key and an attribute write per racy flag).
    entries, stats, get, pack, racy = state.posts, sealed.stats, records.get, struct.pack_into, False
    posts: list[Post] = []
    at: list[int] = []
    for i, rel in places:
        record = get(rel)
        if record is None:
            outcomes[i] = others.get(rel)
            sealed.complete = False
            continue
        outcomes[i] = outcome = record[OUTCOME]
        if type(outcome) is Post:
            posts.append(outcome)
            at.append(i)
        entry = record[STATE]
        if entry is not None:  # the record's own dict: one per file, not two
            entries[rel] = entry
        if record[RACY]:
            racy = True
        if stats is not None:
            try:
                pack("@4q", stats, 32 * i, *record[STAT])
            except struct.error:  # an inode number past 2**63: no index (warm.index)
                sealed.stats = stats = None
    sealed.racy = sealed.racy or racy
    tally.add(posts, at)


def _records(payload: bytes | dict[str, Record]) -> dict[str, Record] | None:
    """A shard's records as the cache will load them; None if it could not."""
    if isinstance(payload, dict):
        return payload
    try:
        return unpickled(payload)  # type: ignore[no-any-return]
    except Exception:  # the cache's loader refuses what it does not know (Stale, when loading the cache)
        return None


def _read_shards(
    common: tuple[Site, datetime, int, Seal | None], items: list[tuple[int, list[Task]]]
) -> Iterator[ShardResult]:
    """Read each shard's files (in a worker, or here) and write its part; see :data:`ShardResult`."""
    site, now, started_ns, seal = common
    for number, tasks in items:
        records: dict[str, Record] = {}
        others: dict[str, Outcome] = {}
        dirty = False
        for task, (outcome, facts, _entry, changed) in zip(tasks, read_many((site, now, started_ns), tasks),
                                                            strict=True):
            dirty |= changed
            if facts is None:  # not read: no record
                others[task[0]] = outcome
            else:
                records[task[0]] = (*facts, outcome)
        file = mac = error = None
        try:
            body = pickled(records)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # sent as they are; the part not written
            yield number, None, None, records, others, dirty, f"cannot pickle the records ({exc})"
            continue
        try:
            if seal is not None:
                file, mac = seal.write(f"posts-{number:02d}", body)
        except OSError as exc:
            error = f"cannot write the cache ({exc.strerror or exc})"
        payload = bytes(body)
        body.release()
        yield number, file, mac, payload, others, dirty, error
