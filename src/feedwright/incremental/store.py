"""The build cache in ``.feedwright/cache/``: what was learnt from each file, rendered entries, feed digests.

It only makes builds faster; deleting it at any time gives the same bytes, more slowly. (``state.json`` beside
it is history, not cache, and is kept.) These files, each loaded once and rewritten atomically when it changed:

``posts-00.pickle`` ... ``posts-31.pickle``
    Per content file (its path under ``content/``, whose CRC-32 picks one of the :data:`POST_SHARDS` files): the
    stat key ``(size, mtime_ns, ctime_ns, inode)``, the content fingerprint, the file's state entry (first seen /
    changed) after it was read, and the outcome: a :class:`~feedwright.pipeline.collect.Post` without its body, a
    rejection reason, or "not a post". The outcome is
    reused only when the state entry is still the same, so a post's dates never come from a stale cache.

    *Warm builds do not read unchanged files*: a matching stat key means "same bytes as last time", hence the
    same fingerprint, so ``State.content_changed`` would change nothing and is not asked. A stat key that does
    not match (an edit, a touch, a checkout) makes the file be read and hashed; if the hash is the cached
    fingerprint the outcome is reused, else the file is parsed again. An entry written less than
    :data:`RACY_NS` after its file was modified is "racy" (file systems keep coarse timestamps: a second edit
    within the same tick keeps size and mtime) and is always checked by hash, as git does.

    *Shards*: a build that changes a few files rewrites the few shards holding them, not 60 MB for 100,000
    files, and a cold build never holds the whole pickled cache in memory at once.

``entries.pickle``
    Rendered HTML, summary and image URL of each feed member, keyed by everything rendering reads (fingerprint,
    path, url, title, summary, image, site url). Enclosure sizes are looked up afresh each build.

``feeds.pickle``
    Per feed file: a hash of everything its bytes depend on, and the hash of those bytes. A feed whose inputs
    are unchanged is not serialised again; its bytes are read back from ``output/`` (and checked).

``plan.pickle``
    The last build's plan (which posts each feed carries, by their place in the collection) and the counts of
    its report, with the moment and site settings it was made for. Reused only when every content file is as
    that build saw it and no post became due since (see ``build._plan``): on a large site, sorting and grouping
    100,000 posts again would cost more than everything else a warm build does.

Every file starts with a stamp of the code that wrote it (feedwright's own modules and the versions of PyYAML,
Markdown, nh3, feedgen and lxml) and a checksum. An old, foreign, truncated or corrupt cache is ignored (with
a warning when it cannot even be read); failing to write the cache never fails a build. Unpickling is limited
to the few classes the cache holds, so a tampered cache cannot run code.
"""

from __future__ import annotations

import contextlib
import copyreg
import hashlib
import importlib.util
import io
import os
import pickle
import sys
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Site

CACHE_DIR = "cache"
CACHE_VERSION = 2
POST_SHARDS = 32
# A file modified this recently before it was read may change again without its size or mtime changing.
RACY_NS = 2_000_000_000
_MAGIC = b"feedwright-cache\n"
_DEPENDENCIES = ("yaml", "frontmatter", "markdown", "nh3", "feedgen", "lxml")

StatKey = tuple[int, int, int, int]
# What a build learnt from one content file, as a plain tuple (a hundred thousand of them load fast):
# (stat key, racy, fingerprint or None if the bytes were not read, the file's state entry after it was read,
# outcome: a Post without body | a rejection reason | None for "not a post").
Record = tuple[StatKey, bool, "str | None", "dict[str, str] | None", Any]
STAT, RACY, FINGERPRINT, STATE, OUTCOME = range(5)


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def is_racy(st: os.stat_result, read_ns: int) -> bool:
    return max(st.st_mtime_ns, st.st_ctime_ns) >= read_ns - RACY_NS


def shard(rel: str) -> int:
    """Which ``posts-NN.pickle`` holds the record of content file ``rel``."""
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % POST_SHARDS


# --- pickling limited to what the cache holds -------------------------------------------------------------


def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


def _reduce_zone(zone: ZoneInfo) -> tuple[Any, tuple[str]]:
    if zone.key is None:
        raise pickle.PicklingError("a time zone without a key cannot be cached")
    return _zone, (zone.key,)


_ALLOWED = {
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("feedwright.incremental.store", "_zone"),
    ("feedwright.pipeline.collect", "Post"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache")
        return super().find_class(module, name)


def _dumps(obj: object, header: bytes) -> bytes:
    """``header``, checksum, pickle: one copy of a cache that may be 60 MB, not three."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    table = copyreg.dispatch_table.copy()
    table[ZoneInfo] = _reduce_zone
    pickler.dispatch_table = table  # type: ignore[misc]
    pickler.dump(obj)
    body = buf.getbuffer()
    try:
        return b"".join((header, _checksum(body), body))
    finally:
        body.release()


def _loads(data: bytes, offset: int) -> Any:
    buf = io.BytesIO(data)  # shares ``data``'s memory: no copy of a 60 MB cache
    buf.seek(offset)
    return _Unpickler(buf).load()


# Referenced so that linters see the allow-list's classes used.
_ = (datetime, timedelta, timezone)


def _checksum(data: bytes | memoryview) -> bytes:
    return hashlib.sha256(data).digest()[:16]


def code_stamp() -> str:
    """Identifies the code that writes and reads the cache: any change to it makes older caches stale."""
    parts: list[str] = [f"v{CACHE_VERSION}", sys.version]
    here = Path(__file__).parent.parent  # the whole feedwright package
    for path in sorted(here.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(here)}:{st.st_size}:{st.st_mtime_ns}")
    for name in _DEPENDENCIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec else None
        if origin and os.path.exists(origin):
            st = os.stat(origin)
            parts.append(f"{name}:{origin}:{st.st_size}:{st.st_mtime_ns}")
        else:
            parts.append(f"{name}:-")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def config_key(site: Site) -> str:
    """The site settings that reading a post depends on (not the feed settings: limit, formats, ...)."""
    keys = (site.url, site.timezone.key, site.author, site.permalink, site.max_file_size, str(site.content),
            site.known_keys, site.language, repr(site.jekyll))
    return repr(keys)


@dataclass
class Cache:
    """One build's view of ``.feedwright/cache/``; see the module docstring."""

    folder: Path | None  # None: caching disabled (nothing read, nothing written)
    stamp: str = ""
    config: str = ""
    records: dict[str, Record] = field(default_factory=dict)
    entries: dict[tuple[Any, ...], tuple[str, str, str | None]] = field(default_factory=dict)
    feeds: dict[str, tuple[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What this build used or learnt; only that is saved, so entries of deleted files and old feeds fall away.
    kept: dict[str, Record] = field(default_factory=dict)  # path -> record; collect() fills it directly
    _entries_out: dict[tuple[Any, ...], tuple[str, str, str | None]] = field(default_factory=dict)
    _feeds_out: dict[str, tuple[str, str]] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)
    plans: dict[str, Any] = field(default_factory=dict)
    _plans_out: dict[str, Any] | None = None
    _shard_sizes: list[int] = field(default_factory=lambda: [0] * POST_SHARDS)  # records per shard, as loaded
    _loaded: list[dict[str, Record]] = field(default_factory=list)  # each shard as it was read
    _learnt: dict[int, list[str]] = field(default_factory=dict)  # shard -> paths whose record is new or changed
    _new: int = 0  # records learnt for paths that had none

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None)

    @classmethod
    def load(cls, site: Site) -> Cache:
        """The site's cache; missing, stale or unreadable parts start empty."""
        cache = cls(site.state_dir / CACHE_DIR, stamp=code_stamp(), config=config_key(site))
        for i in range(POST_SHARDS):
            part = cache._read(f"posts-{i:02d}", dict)
            cache._shard_sizes[i] = len(part)
            cache._loaded.append(part)
            cache.records.update(part)
        cache.entries = cache._read("entries", dict)
        cache.feeds = cache._read("feeds", dict)
        cache.plans = cache._read("plan", dict)
        return cache

    def _path(self, name: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{name}.pickle"

    def _read(self, name: str, kind: type) -> Any:
        path = self._path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return kind()
        except OSError as exc:
            self.warnings.append(f"{path}: cannot read the cache ({exc.strerror or exc}); building without it")
            return kind()
        header = _MAGIC + self.stamp.encode() + b"\n" + self.config.encode() + b"\n"
        start = len(header) + 16
        if not raw.startswith(header) or raw[len(header) : start] != _checksum(memoryview(raw)[start:]):
            return kind()  # another version's cache, another configuration, or damaged: quietly rebuilt
        try:
            data = _loads(raw, start)
        except Exception as exc:  # a checksummed file that still fails to load: say so, carry on
            self.warnings.append(f"{path}: cache unreadable ({type(exc).__name__}); building without it")
            return kind()
        return data if isinstance(data, kind) else kind()

    # --- posts ------------------------------------------------------------------------------------------

    def record(self, rel: str) -> Record | None:
        return self.records.get(rel) if self.folder else None

    def learn(self, rel: str, record: Record) -> None:
        """Remember what was read from a file this build."""
        if self.folder:
            self.kept[rel] = record
            known = self.records.get(rel)
            if known != record:
                self._learnt.setdefault(shard(rel), []).append(rel)
                self._new += known is None

    # --- rendered entries -------------------------------------------------------------------------------

    def entry(self, key: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
        if not self.folder:
            return None
        found = self.entries.get(key)
        if found is not None:
            self._entries_out[key] = found
        return found

    def put_entry(self, key: tuple[Any, ...], value: tuple[str, str, str | None]) -> None:
        if self.folder:
            self._entries_out[key] = value
            self._changed.add("entries")

    # --- feeds ------------------------------------------------------------------------------------------

    def feed(self, path: str, key: str) -> str | None:
        """The digest of the bytes last written for feed file ``path``, if its inputs hash to ``key``."""
        if not self.folder:
            return None
        found = self.feeds.get(path)
        return found[1] if found and found[0] == key else None

    def put_feed(self, path: str, key: str, data: bytes, digest: str | None = None) -> None:
        if self.folder:
            value = (key, digest or digest_bytes(data))
            self._feeds_out[path] = value
            if self.feeds.get(path) != value:
                self._changed.add("feeds")

    # --- the plan ---------------------------------------------------------------------------------------

    def plan(self) -> dict[str, Any]:
        """What :meth:`put_plan` was given by the build that saved this cache (empty if nothing)."""
        return self.plans if self.folder else {}

    def put_plan(self, plan: dict[str, Any]) -> None:
        if self.folder:
            self._plans_out = plan

    # --- saving -----------------------------------------------------------------------------------------

    def _post_shards(self) -> list[tuple[str, dict[str, Record]]]:
        todo: list[tuple[str, dict[str, Record]]] = []
        # Every record kept unchanged comes from the loaded ones, so when the counts add up no file was deleted:
        # only the shards with new or changed records are written, from the loaded ones and what was learnt.
        kept, loaded, learnt = self.kept, self._loaded, self._learnt
        if len(kept) == len(self.records) + self._new == sum(self._shard_sizes) + self._new and loaded:
            for i, rels in sorted(learnt.items()):
                part = {rel: kept[rel] for rel in loaded[i]}
                part.update((rel, kept[rel]) for rel in rels)
                todo.append((f"posts-{i:02d}", part))
        elif len(kept) != len(self.records) or learnt:  # files deleted (or a shard held another's records)
            shards: list[dict[str, Record]] = [{} for _ in range(POST_SHARDS)]
            for rel, record in kept.items():
                shards[shard(rel)][rel] = record
            for i, part in enumerate(shards):
                # A shard with nothing learnt is a subset of the loaded one: fewer records, files deleted.
                if i in learnt or len(part) != self._shard_sizes[i]:
                    todo.append((f"posts-{i:02d}", part))
        if todo:
            with contextlib.suppress(OSError):
                os.unlink(self._path("posts"))  # version 1 kept every record in one file
        return todo

    def save(self) -> None:
        """Write the parts that changed; a failure becomes a warning, never an error."""
        if not self.folder:
            return
        # (Pickling the records in a thread while worker processes render was tried: it touches every record,
        # so the pages the workers share with this process are copied, +240 MB for 100,000 posts.)
        todo: list[tuple[str, dict[Any, Any]]] = list(self._post_shards())
        previous = {"entries": self.entries, "feeds": self.feeds}
        for name, data in {"entries": self._entries_out, "feeds": self._feeds_out}.items():
            if name in self._changed or data.keys() != previous[name].keys():
                todo.append((name, data))
        if self._plans_out is not None and self._plans_out != self.plans:
            todo.append(("plan", self._plans_out))
        self._write(todo, self.warnings)

    def _write(self, parts: list[tuple[str, dict[Any, Any]]], warnings: list[str]) -> None:
        from ..pipeline.publish import atomic_write

        header = _MAGIC + self.stamp.encode() + b"\n" + self.config.encode() + b"\n"
        for name, data in parts:
            try:
                atomic_write(self._path(name), _dumps(data, header))
            except (OSError, pickle.PicklingError) as exc:
                warnings.append(f"{self._path(name)}: cannot write the cache ({exc}); next build is slower")


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


def now_ns() -> int:
    return time.time_ns()
