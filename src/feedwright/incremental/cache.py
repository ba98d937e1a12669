"""One build's view of the cache: what the last build learnt, what this one uses and learns.

It only makes builds faster; deleting ``.feedwright/cache/`` at any time gives the same bytes, more slowly.
(``state.json`` beside it is history, not cache, and is kept.) :mod:`~feedwright.incremental.memo` decides what
to reuse; :mod:`~feedwright.incremental.store` keeps the files. The parts:

``posts-00`` ... ``posts-31``
    Per content file (its path under ``content/``, whose CRC-32 picks one of the :data:`POST_SHARDS` parts), a
    :data:`Record`: the stat key ``(size, mtime_ns, ctime_ns, inode)``, whether it was read while it could still
    change ("racy"), the content fingerprint, the file's state entry after it was read, and the outcome: a
    :class:`~feedwright.pipeline.collect.Post` without its body, a rejection reason, or "not a post". Sharded so
    that an edit rewrites one part (~2 MB for 100,000 files), not 60 MB.

``entries``
    Rendered HTML, summary and image URL of each feed member, keyed by everything rendering reads.

``feeds``
    Per feed file: a hash of everything its bytes depend on, and the hash of those bytes.

``plan``
    The last build's plan: which posts each feed carries, *by their content-relative path* (never by their
    place in a list), the counts of its report, and the moment and settings it was made for.
"""

from __future__ import annotations

import hashlib
import pickle
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ..config import Site
from ..pipeline.collect import Post, StatKey
from ..pipeline.history import State
from .store import CACHE_DIR, KEY_FILE, Files, Stale, code_stamp, config_key

POST_SHARDS = 32
INDEX = "index"  # the warm shortcut's part (incremental/warm.py)

# What a build learnt from one content file, as a plain tuple (a hundred thousand of them load fast):
# (stat key, racy, fingerprint or None if the bytes were not read, the file's state entry after it was read,
# outcome: a Post without body | a rejection reason | None for "not a post").
Record = tuple[StatKey, bool, "str | None", "dict[str, str] | None", Any]
STAT: Final = 0
RACY: Final = 1
FINGERPRINT: Final = 2
STATE: Final = 3
OUTCOME: Final = 4


def shard(rel: str) -> int:
    """Which ``posts-NN`` part holds the record of content file ``rel``."""
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % POST_SHARDS


Entry = tuple[str, str, "str | None"]  # rendered HTML, summary, image URL


@dataclass
class Sealed:
    """What a cold build's reading wrote of the cache before it was saved (:mod:`~feedwright.incremental.shards`):
    the ``posts-NN`` parts (name -> (file, MAC)), every file's stat key in scan order (four integers each; None if
    one would not fit), whether any was racy, whether every file has its record in a written part (else the warm
    shortcut's index cannot be vouched for), and why a part could not be written."""

    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    stats: array[int] | None = None
    racy: bool = False
    complete: bool = True
    error: str | None = None


@dataclass
class Cache:
    """One build's view of the cache: what the committed generation holds, and what this build used or learnt
    (only that is saved, so records of deleted files and entries of old feeds fall away)."""

    files: Files
    records: dict[str, Record] = field(default_factory=dict)
    entries: dict[tuple[Any, ...], Entry] = field(default_factory=dict)
    feeds: dict[str, tuple[str, str]] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kept: dict[str, Record] = field(default_factory=dict)  # path -> record, as this build found it
    # Every content file was found as the cache last saw it: the same posts as the build that saved the cache
    # (set by memo.collect, read by memo.plan).
    same_posts: bool = False
    plan_reused: bool = False  # memo.plan gave the last build's plan: its live posts are this build's
    _entries_out: dict[tuple[Any, ...], Entry] = field(default_factory=dict)
    _feeds_out: dict[str, tuple[str, str]] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)
    _plans_out: dict[str, Any] | None = None
    _loaded: list[dict[str, Record]] = field(default_factory=lambda: [{} for _ in range(POST_SHARDS)])
    _learnt: dict[int, list[str]] = field(default_factory=dict)  # shard -> paths whose record is new or changed
    _new: int = 0  # records learnt for paths that had none
    _saved_shards: dict[str, dict[str, Record]] | None = None  # the posts-NN parts the last save() wrote
    # The warm shortcut (incremental/warm.py): the index part as loaded; whether this build took the shortcut (it
    # learns no record: the posts-NN parts and the index stay as they are); what memo.collect collected (the
    # files' paths in scan order, the summary of the collection, the state), from which save() makes the index.
    index: dict[str, Any] = field(default_factory=dict)
    shortcut: bool = False
    made: tuple[list[str], dict[str, Any], State] | None = None
    # memo.outcomes_of: (old, new) for each post edited under the same id and URL, every other file unchanged
    # (None: something else changed); memo.plan then moves them in the last plan instead of planning again.
    swaps: list[tuple[Post, Post]] | None = None
    _records_loaded: bool = False
    # Set by a build that saves the cache: a cold build may then read every file straight into the posts-NN parts
    # (memo.outcomes_of, incremental/shards.py), which it records in ``sealed``; the records are not kept.
    sealing: bool = False
    sealed: Sealed | None = None

    @classmethod
    def load(cls, site: Site, records: bool = True) -> Cache:
        """The site's cache; a missing, stale or unauthentic one starts empty (with a warning for the last).
        Without ``records``, the ``posts-NN`` parts are read only when :meth:`load_records` is called."""
        files = Files(site.state_dir / CACHE_DIR, site.state_dir / KEY_FILE, code_stamp(), config_key(site))
        cache = cls(files)
        try:
            files.open()
            cache.entries = _of(files.part("entries"), dict)
            cache.feeds = _of(files.part("feeds"), dict)
            cache.plans = _of(files.part("plan"), dict)
            cache.index = _of(files.part(INDEX), dict)
            if records:
                cache._read_records()
        except Stale as exc:
            cache._stale(exc)
        return cache

    def load_records(self) -> dict[str, Record]:
        """The records of every content file (read now if :meth:`load` did not); a part that fails to load makes
        the whole cache empty, with a warning, as in :meth:`load`."""
        if not self._records_loaded:
            try:
                self._read_records()
            except Stale as exc:
                self._stale(exc)
        return self.records

    def _read_records(self) -> None:
        self._records_loaded = True
        for i in range(POST_SHARDS):
            part = _of(self.files.part(f"posts-{i:02d}"), dict)
            self._loaded[i] = part
            self.records.update(part)

    def _stale(self, exc: Stale) -> None:
        if str(exc):
            self.warnings.append(str(exc))
        self.files.parts = {}
        self.records, self.entries, self.feeds, self.plans, self.index = {}, {}, {}, {}, {}
        self._loaded = [{} for _ in range(POST_SHARDS)]
        self._records_loaded = True

    # --- posts ------------------------------------------------------------------------------------------

    def learn(self, rel: str, record: Record) -> None:
        """Remember what was read from a file this build."""
        self.kept[rel] = record
        known = self.records.get(rel)
        if known != record:
            self._learnt.setdefault(shard(rel), []).append(rel)
            self._new += known is None

    # --- rendered entries -------------------------------------------------------------------------------

    def entry(self, key: tuple[Any, ...]) -> Entry | None:
        found = self.entries.get(key)
        if found is not None:
            self._entries_out[key] = found
        return found

    def rendered(self, key: tuple[Any, ...]) -> Entry | None:
        """The entry under ``key``, put by this build or loaded (not marked as used: see :meth:`entry`)."""
        return self._entries_out.get(key) or self.entries.get(key)

    def put_entry(self, key: tuple[Any, ...], value: Entry) -> None:
        self._entries_out[key] = value
        self._changed.add("entries")

    # --- feeds ------------------------------------------------------------------------------------------

    def feed(self, path: str, key: str) -> str | None:
        """The digest of the bytes last written for feed file ``path``, if its inputs hash to ``key``."""
        found = self.feeds.get(path)
        return found[1] if found and found[0] == key else None

    def put_feed(self, path: str, key: str, data: bytes, digest: str | None = None) -> None:
        value = (key, digest or digest_bytes(data))
        self._feeds_out[path] = value
        if self.feeds.get(path) != value:
            self._changed.add("feeds")

    # --- the plan ---------------------------------------------------------------------------------------

    def put_plan(self, plan: dict[str, Any]) -> None:
        self._plans_out = plan

    def note_plan(self, key: str, value: Any) -> None:
        """Add a fact about the plan's posts (what the next build may reuse along with the plan)."""
        if self._plans_out is None:
            self._plans_out = dict(self.plans)
        self._plans_out[key] = value

    # --- saving -----------------------------------------------------------------------------------------

    def _post_shards(self) -> dict[str, dict[str, Record]]:
        """The shards whose records changed: new or changed records, or records of deleted files gone."""
        if self.shortcut:  # every file as recorded: nothing learnt (and the records may not even be loaded)
            return {}
        shards: dict[int, dict[str, Record]] = {}
        kept, loaded = self.kept, self._loaded
        # Every record kept unchanged comes from the loaded ones, so when the counts add up no file was deleted:
        # only the shards with something learnt are written, from the loaded ones and what was learnt.
        if len(kept) == len(self.records) + self._new == sum(map(len, loaded)) + self._new:
            for i, rels in self._learnt.items():
                part = {rel: kept[rel] for rel in loaded[i]}
                part.update((rel, kept[rel]) for rel in rels)
                shards[i] = part
        else:  # files deleted (or a shard held another's records): regroup, write the shards that differ
            regrouped: list[dict[str, Record]] = [{} for _ in range(POST_SHARDS)]
            for rel, record in kept.items():
                regrouped[shard(rel)][rel] = record
            for i, part in enumerate(regrouped):
                if i in self._learnt or len(part) != len(loaded[i]):
                    shards[i] = part
        return {f"posts-{i:02d}": shards[i] for i in sorted(shards)}

    def carried(self) -> Cache:
        """The cache as the next build would load it after this one's :meth:`save` (``daemon --watch`` keeps it in
        memory): what this build kept, used and made becomes what is known."""
        shards = self._saved_shards
        if shards is None:  # not saved: regrouped from what this build kept
            loaded: list[dict[str, Record]] = [{} for _ in range(POST_SHARDS)]
            for rel, record in self.kept.items():
                loaded[shard(rel)][rel] = record
        else:  # the shards this save wrote, and the others as they were loaded (they did not change)
            loaded = [shards.get(f"posts-{i:02d}", part) for i, part in enumerate(self._loaded)]
        plans = self._plans_out if self._plans_out is not None else self.plans
        carried = Cache(self.files, records=self.kept, entries=self._entries_out, feeds=self._feeds_out, plans=plans,
                        kept=dict(self.kept))
        carried._loaded = loaded
        carried._records_loaded = True
        return carried

    def save(self) -> None:
        """Commit what changed as the next generation; a failure becomes a warning, never an error."""
        # (Pickling the records in a thread while worker processes render was tried: it touches every record,
        # so the pages the workers share with this process are copied, +240 MB for 100,000 posts.)
        changed: dict[str, Any] = dict(self._post_shards())
        self._saved_shards = dict(changed)
        previous: dict[str, dict[Any, Any]] = {"entries": self.entries, "feeds": self.feeds}
        out: dict[str, dict[Any, Any]] = {"entries": self._entries_out, "feeds": self._feeds_out}
        for name, data in out.items():
            if name in self._changed or data.keys() != previous[name].keys():
                changed[name] = data
        if self._plans_out is not None and self._plans_out != self.plans:
            changed["plan"] = self._plans_out
        dropped: frozenset[str] = frozenset()
        if not self.shortcut:  # (a build that took the shortcut found every file as the index says)
            from .warm import index

            made = index(self)
            if made is None:
                dropped = frozenset({INDEX} & self.files.parts.keys())
            elif made != self.index:
                changed[INDEX] = made
        sealed = self.sealed.parts if self.sealed is not None else {}
        if self.sealed is not None and self.sealed.error is not None:
            self.warnings.append(f"{self.files.folder}: {self.sealed.error}; next build is slower")
        if not changed and not dropped and not sealed:
            return
        try:
            self.files.commit(changed, dropped, sealed)
        except (OSError, pickle.PicklingError) as exc:
            self.warnings.append(f"{self.files.folder}: cannot write the cache ({exc}); next build is slower")


def _of(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) else kind()


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]  # SHA-256 has CPU instructions: faster than BLAKE2 here


def hash_parts(parts: Iterable[object]) -> str:
    """A hash of each part: strings by their text, anything else by its ``repr`` (dataclasses, tuples and
    datetimes have stable ones)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if type(part) is str:  # an entry's HTML: its bytes, without a repr() copy first; length-prefixed
            data = part.encode("utf-8", "surrogatepass")
            h.update(b"s%d:" % len(data))
            h.update(data)
        else:  # a repr holds no NUL: it ends the part
            h.update(b"r")
            h.update(repr(part).encode("utf-8", "surrogatepass"))
            h.update(b"\0")
    return h.hexdigest()
