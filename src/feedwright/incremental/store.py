"""``.feedwright/cache/`` on disk: generations of sealed part files and the manifest naming one generation.

What the parts hold and when they are reused is :mod:`~feedwright.incremental.cache`'s and
:mod:`~feedwright.incremental.memo`'s business; this module only keeps them safely.

**One unit.** Part files are never rewritten: a save writes each changed part to a new file named after its
generation (``posts-07.12.pickle``), then commits by atomically replacing ``manifest``, which names the file and
the MAC of every part of that generation, and only then deletes the files no manifest names. A reader follows the
manifest only, so it sees the last committed generation whole, whatever point a save was killed at: never
records of one build beside the plan of another.

**Authenticated.** The manifest and every part carry an HMAC-SHA256 under a random key kept outside the cache
folder, in ``.feedwright/cache.key`` (mode 0600). A cache restored from elsewhere (a CI cache from another
branch) or edited in place fails the check and is rebuilt with a warning, so nothing in it is ever published on
trust: not rendered HTML, not a post's fields. (Cost: one HMAC per file read, what a plain checksum cost.)
Unpickling is in any case limited to the few classes the cache holds, so even a forged cache cannot run code.

The manifest also names the code that wrote the cache (feedwright's modules, the versions of PyYAML, Markdown,
nh3, feedgen and lxml) and the site settings that reading a post depends on: a cache of other code or settings
is ignored quietly. Failing to write the cache never fails a build.
"""

from __future__ import annotations

import contextlib
import copyreg
import hashlib
import hmac
import importlib.util
import io
import json
import os
import pickle
import re
import secrets
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Site
from ..pipeline import publish

CACHE_DIR = "cache"
KEY_FILE = "cache.key"
MANIFEST = "manifest"
CACHE_VERSION = 3
_MAGIC = b"feedwright-cache\n"
_MAC_SIZE = 32
_KEY_SIZE = 32
_WRITERS = 4  # threads writing part files
_DEPENDENCIES = ("yaml", "frontmatter", "markdown", "nh3", "feedgen", "lxml", "jinja2")
# What a save may leave behind: part files of any generation, staged temp files, version 2's unversioned parts.
_OURS = re.compile(r"(?:(?:posts(?:-\d\d)?|entries|feeds|plan|index)(?:\.\d+)?\.pickle|\..+\.tmp)")

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
# Referenced so that linters see the allow-list's classes used.
_ = (datetime, timedelta, timezone)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache")
        return super().find_class(module, name)


def _pickle(obj: object) -> memoryview:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    table = copyreg.dispatch_table.copy()
    table[ZoneInfo] = _reduce_zone
    pickler.dispatch_table = table  # type: ignore[misc]
    pickler.dump(obj)
    return buf.getbuffer()


def _mac(key: bytes, data: bytes | memoryview) -> bytes:
    return hmac.digest(key, data, "sha256")


def _sealed(key: bytes, body: bytes | memoryview) -> tuple[bytes, bytes]:
    """The file for ``body`` (magic, MAC, body: one copy of a part that may be 60 MB, not three) and its MAC."""
    mac = _mac(key, body)
    return b"".join((_MAGIC, mac, body)), mac


def _opened(key: bytes, raw: bytes, expected: bytes | None = None) -> memoryview | None:
    """The body of a sealed file if its MAC is right (and is ``expected``); None otherwise."""
    start = len(_MAGIC) + _MAC_SIZE
    mac = raw[len(_MAGIC) : start]
    if not raw.startswith(_MAGIC) or (expected is not None and not hmac.compare_digest(mac, expected)):
        return None
    body = memoryview(raw)[start:]
    return body if hmac.compare_digest(mac, _mac(key, body)) else None


def code_stamp() -> str:
    """Identifies the code that writes and reads the cache: any change to it makes older caches stale."""
    parts: list[str] = [f"v{CACHE_VERSION}", sys.version]
    here = Path(__file__).parent.parent  # the whole feedwright package
    for path in sorted([*here.rglob("*.py"), *here.rglob("templates/*")]):  # templates: the browser view
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


@dataclass(frozen=True)
class Seal:
    """What a worker process needs to write a part file of the generation being made (:meth:`Files.seal`): sent to
    it whole, key included, over its private pipe."""

    folder: Path
    key: bytes = field(repr=False)
    generation: int

    def write(self, name: str, body: bytes | memoryview) -> tuple[str, bytes]:
        """Seal ``body`` (a pickled part) and write it as part ``name`` of this generation; its file name and MAC.
        Raises ``OSError``. Named by no manifest until :meth:`Files.commit` is given it (swept otherwise)."""
        sealed, mac = _sealed(self.key, body)
        file = f"{name}.{self.generation}.pickle"
        publish.atomic_write(self.folder / file, sealed)
        return file, mac


def pickled(obj: object) -> memoryview:
    """``obj`` pickled as the cache pickles its parts (release the view when done)."""
    return _pickle(obj)


def unpickled(body: bytes | memoryview) -> Any:
    """What :func:`pickled` made, unpickled as the cache unpickles its parts (only the classes a cache holds)."""
    return _Unpickler(io.BytesIO(body)).load()


class Stale(Exception):
    """The cache cannot be used; the message (if any) is the warning to give."""


@dataclass
class Files:
    """``.feedwright/cache/`` as generations of sealed part files and the manifest naming one of them."""

    folder: Path
    key_path: Path
    stamp: str
    config: str
    key: bytes | None = None
    generation: int = 0
    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (file name, MAC)
    reserved: int | None = None  # the generation :meth:`seal` began (its parts are written before the commit)

    def load(self) -> dict[str, Any]:
        """Every part of the committed generation, unpickled; raises :class:`Stale`."""
        self.open()
        return {name: self.part(name) for name in self.parts}

    def open(self) -> None:
        """Read the manifest of the committed generation (its parts are then read by :meth:`part`, each when
        needed); raises :class:`Stale`."""
        try:
            raw = (self.folder / MANIFEST).read_bytes()
        except FileNotFoundError:
            raise Stale("") from None  # no cache yet (or a version-2 one, with no manifest): quietly rebuilt
        except OSError as exc:
            raise Stale(f"{self.folder}: cannot read the cache ({exc.strerror or exc})") from None
        self.key = self._read_key()
        body = _opened(self.key, raw) if self.key else None
        if body is None:
            raise Stale(f"{self.folder}: the cache fails its authentication check (edited, restored from "
                         f"elsewhere, or {self.key_path.name} changed); rebuilding it")
        try:
            manifest = json.loads(body.tobytes())
            if manifest.get("stamp") != self.stamp or manifest.get("config") != self.config:
                raise Stale("")  # other code or settings: quietly rebuilt
            self.generation = int(manifest["generation"])
            self.parts = {name: (str(f), bytes.fromhex(m)) for name, (f, m) in manifest["parts"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Stale(f"{self.folder / MANIFEST}: cache unreadable ({type(exc).__name__}); rebuilding it") from None

    def part(self, name: str, default: Any = None) -> Any:
        """Part ``name`` of the generation :meth:`open` read, unpickled (``default`` if it has none); raises
        :class:`Stale`."""
        if name not in self.parts:
            return default
        file, mac = self.parts[name]
        path = self.folder / file
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise Stale(f"{path}: cannot read the cache ({exc.strerror or exc}); rebuilding it") from None
        assert self.key is not None
        body = _opened(self.key, raw, mac)
        if body is None:
            raise Stale(f"{path}: the cache fails its authentication check; rebuilding it")
        try:
            return _Unpickler(io.BytesIO(body)).load()
        except Exception as exc:  # an authentic file that still fails to load: say so, carry on
            raise Stale(f"{path}: cache unreadable ({type(exc).__name__}); rebuilding it") from None

    def _read_key(self) -> bytes | None:
        try:
            key = self.key_path.read_bytes()
        except OSError:
            return None
        return key if len(key) == _KEY_SIZE else None

    def seal(self) -> Seal:
        """The next generation, begun (once) before :meth:`commit`, which names it: what a worker needs to write its
        parts (:class:`Seal`), which the commit then names (``sealed``). Raises ``OSError`` (the key or the folder
        cannot be made)."""
        if self.key is None or not self.parts:  # a new key signs a whole new cache
            self.key = self._read_key() or self._new_key()
        if self.reserved is None:
            self.reserved = max(self.generation, self._highest()) + 1  # never a file some manifest may still name
        self.folder.mkdir(parents=True, exist_ok=True)
        return Seal(self.folder, self.key, self.reserved)

    def commit(
        self, changed: dict[str, Any], dropped: frozenset[str] = frozenset(),
        sealed: dict[str, tuple[str, bytes]] | None = None,
    ) -> None:
        """Write ``changed`` parts as the next generation (without the parts named in ``dropped``; with the parts
        ``sealed`` already wrote: name -> (file, MAC)), commit it, then sweep what no manifest names.

        Raises ``OSError`` and ``pickle.PicklingError``; whatever point it stops at, the manifest names one
        whole generation.
        """
        begun = self.seal()  # the generation the sealed parts belong to, or a new one
        key, generation, self.reserved = begun.key, begun.generation, None
        parts = {name: part for name, part in self.parts.items() if name not in dropped}
        parts.update(sealed or {})
        # Pickled here, written (each synced to disk: ~1 ms of waiting) by a few threads, at most a few parts in
        # flight: a cold save of 35 parts waits for the disk once, not 35 times, and holds 4 parts, not all.
        with ThreadPoolExecutor(max_workers=_WRITERS) as writers:
            pending: deque[Future[None]] = deque()
            for name, data in changed.items():
                body = _pickle(data)
                try:
                    raw, mac = _sealed(key, body)
                finally:
                    body.release()
                file = f"{name}.{generation}.pickle"
                pending.append(writers.submit(publish.atomic_write, self.folder / file, raw))
                parts[name] = (file, mac)
                while len(pending) >= _WRITERS:
                    pending.popleft().result()
            for done in pending:
                done.result()  # re-raises a failed write's OSError: no manifest names an unwritten part
        manifest = {"version": CACHE_VERSION, "generation": generation, "stamp": self.stamp,
                    "config": self.config, "parts": {n: [f, m.hex()] for n, (f, m) in sorted(parts.items())}}
        publish.atomic_write(self.folder / MANIFEST, _sealed(key, json.dumps(manifest).encode())[0])
        self.generation, self.parts = generation, parts
        self.sweep()

    def sweep(self) -> None:
        """Delete the part files and temp files that the committed manifest does not name."""
        named = {file for file, _ in self.parts.values()}
        with contextlib.suppress(OSError), os.scandir(self.folder) as it:
            for entry in it:
                if entry.name not in named and _OURS.fullmatch(entry.name):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def _highest(self) -> int:
        try:
            names = os.listdir(self.folder)
        except OSError:
            return 0
        return max((int(m.group(1)) for n in names if (m := re.fullmatch(r"[a-z0-9-]+\.(\d+)\.pickle", n))), default=0)

    def _new_key(self) -> bytes:
        key = secrets.token_bytes(_KEY_SIZE)
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.key_path.with_name(f".{self.key_path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.key_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.parts = {}  # nothing signed with another key may stay named
        return key
