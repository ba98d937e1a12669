"""Real sizes for remote image enclosures (``[enclosures] fetch = true``), remembered in ``.feedwright/``.

Runs after rendering, on the images of the posts the feeds carry (never on every post of a large site). Each
remote image's server is asked once (:mod:`~feedwright.pipeline.probe`, a few threads at a time, each look-up
within ``enclosures.timeout``), and the answer is kept in ``.feedwright/enclosures.json`` by URL, with when it
was asked: a rebuild asks nobody until the answer is ``max_age`` old. A failed look-up is asked again after a
day (at most ``max_age``), so a daemon building every few minutes does not knock on a broken URL each time.

A failure never fails a build: the image keeps what it had before the look-up (length 0, the type from its
extension), or, when an earlier look-up succeeded, what that one learnt; either way one warning names the post
and the URL. The rendered-post cache holds only an image's URL, and the feed cache hashes each entry's image,
so a size learnt later reaches the feeds; and a size read back from the file gives the same bytes every build.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from .. import __version__
from ..config import Site
from .announce import Round
from .probe import Client, Found, LookupFailed, ask
from .render import Entry, Image, site_file

CACHE_FILE = "enclosures.json"
VERSION = 1
RETRY_FAILED = timedelta(days=1)
JOIN_GRACE = 1.0  # see announce.JOIN_GRACE: only a DNS lookup can outlive its deadline, on a daemon thread


@dataclass(frozen=True)
class Known:
    """One URL's last look-up: when, and the size and type it gave, or why it gave none."""

    checked: datetime
    length: int = 0
    type: str | None = None
    error: str | None = None  # the last attempt failed; length/type are from an earlier success, if any

    def due(self, now: datetime, max_age: timedelta) -> bool:
        age = now - self.checked
        return not timedelta(0) <= age < (min(RETRY_FAILED, max_age) if self.error else max_age)

    def to_json(self) -> dict[str, object]:
        return {"checked": self.checked.isoformat(), "length": self.length, "type": self.type, "error": self.error}


def _known(data: object) -> Known:
    if not isinstance(data, dict):
        raise ValueError("not a mapping")
    checked = datetime.fromisoformat(str(data["checked"]))
    length, kind, error = data.get("length"), data.get("type"), data.get("error")
    if checked.tzinfo is None or isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError("bad record")
    if kind is not None and not (isinstance(kind, str) and kind.startswith("image/") and kind.isprintable()):
        raise ValueError("bad type")
    if error is not None and not isinstance(error, str):
        raise ValueError("bad error")
    return Known(checked, length, kind, error)


@dataclass
class Sizes:
    """The look-ups one build knows: read from ``.feedwright/enclosures.json``, saved by :meth:`save`."""

    path: Path
    known: dict[str, Known] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _read: bytes = b""

    @classmethod
    def load(cls, path: Path) -> Sizes:
        sizes = cls(path)
        try:
            sizes._read = path.read_bytes()
        except FileNotFoundError:
            return sizes
        except OSError as exc:
            sizes.warnings.append(f"{path}: cannot read ({exc.strerror}); image sizes are looked up again")
            return sizes
        try:
            doc = json.loads(sizes._read)
            if doc.get("version") != VERSION:
                return sizes  # another version's file: start over quietly
            sizes.known = {str(url): _known(data) for url, data in doc["images"].items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            sizes.warnings.append(f"{path}: damaged; image sizes are looked up again")
        return sizes

    def to_bytes(self) -> bytes:
        images = {url: self.known[url].to_json() for url in sorted(self.known)}
        return (json.dumps({"version": VERSION, "images": images}, indent=1, ensure_ascii=False) + "\n").encode()

    def save(self) -> None:
        """Write the file if it changed (atomically); a failure is a warning, never a failed build."""
        from .publish import atomic_write

        data = self.to_bytes()
        if data == self._read:
            return
        try:
            atomic_write(self.path, data)
            self._read = data
        except OSError as exc:
            self.warnings.append(f"{self.path}: cannot write ({exc.strerror}); image sizes are looked up again")


Ask = Callable[[str, Client, Round], Found]


def look_up(
    urls: list[str], client: Client, timeout: float, concurrency: int, now: datetime,
    stop: threading.Event | None = None, asker: Ask = ask,
) -> dict[str, Known]:
    """Ask about every URL, ``concurrency`` at a time, each within ``timeout`` seconds; raises nothing.

    When ``stop`` is set (the daemon is stopping) the look-ups end at once, and those it cut short are left out
    of the result: they did not fail, they were not asked."""
    results: dict[str, Known] = {}
    current: list[Round | None] = [None] * min(concurrency, len(urls))  # each thread's look-up in progress
    todo, lock, over = iter(urls), threading.Lock(), threading.Event()

    def work(n: int) -> None:
        # `over`: a thread left behind in a DNS lookup starts no other look-up once the round has returned.
        while not over.is_set() and (stop is None or not stop.is_set()):
            with lock:
                url = next(todo, None)
                if url is None:
                    return
                current[n] = round_ = Round(timeout, stop)
            try:
                found = asker(url, client, round_)
                known = Known(now, found.length, found.type)
            except LookupFailed as exc:
                known = Known(now, error=str(exc))
            finally:
                round_.close()
            if stop is not None and stop.is_set():
                return
            with lock:
                results[url] = known

    threads = [threading.Thread(target=work, args=(n,), name=f"enclosure-{n}", daemon=True)
               for n in range(len(current))]
    for thread in threads:
        thread.start()
    while _supervise(threads, current, lock):
        pass
    over.set()
    if stop is not None and stop.is_set():
        return results
    return {url: results.get(url) or Known(now, error=f"no answer within {timeout:g} s") for url in urls}


def _supervise(threads: list[threading.Thread], current: list[Round | None], lock: threading.Lock) -> bool:
    """Wait a moment; expire each look-up past its deadline. False once no thread needs waiting for: all ended,
    or the only ones left are stuck past their deadline (in a DNS lookup, which nothing can cancel)."""
    alive = [n for n, thread in enumerate(threads) if thread.is_alive()]
    if not alive:
        return False
    threads[alive[0]].join(0.05)
    waiting = False
    with lock:
        for n in alive:
            round_ = current[n]
            if round_ is None or time.monotonic() < round_.end + JOIN_GRACE:
                waiting = True
            if round_ is not None and round_.left() <= 0:
                round_.expire()  # each look-up's own deadline, enforced on its sockets
    return waiting


def _merge(old: Known | None, new: Known) -> Known:
    # A failed refresh keeps what an earlier look-up learnt: a passing fault never shrinks a feed's enclosure.
    if new.error is None or old is None or (old.error is not None and old.length == 0):
        return new
    return replace(old, checked=new.checked, error=new.error)


def _candidates(site: Site, entries: dict[str, Entry]) -> dict[str, str]:
    """Remote image URL -> the first post (by file) showing it; images that are files of the site are sized."""
    found: dict[str, str] = {}
    for entry in sorted(entries.values(), key=lambda e: e.post.source):
        image = entry.image
        if image is not None and image.url not in found and not image.length and site_file(site, image.url) is None:
            found[image.url] = entry.post.source
    return found


def _warnings(site: Site, wanted: dict[str, str], known: dict[str, Known]) -> list[str]:
    """One line per image the feeds show without a size learnt this time, naming the first post showing it."""
    out = []
    for url, source in wanted.items():
        found = known.get(url)
        if found is None:
            out.append(f"{site.content / source}: image {url}: not asked (stopping); enclosure length left at 0")
        elif found.error:
            kept = f"kept the length {found.length} learnt before" if found.length else "enclosure length left at 0"
            out.append(f"{site.content / source}: image {url}: {found.error}; {kept}")
    return out


def enclose(
    site: Site, entries: dict[str, Entry], now: datetime, stop: threading.Event | None = None, asker: Ask = ask,
) -> tuple[dict[str, Entry], Sizes]:
    """``entries`` with the real size (and type) of each remote image, and the :class:`Sizes` to save after
    publishing (its ``warnings`` name each post whose image could not be sized)."""
    sizes = Sizes.load(site.state_dir / CACHE_FILE)
    wanted = _candidates(site, entries)
    due = [url for url in wanted if url not in sizes.known or sizes.known[url].due(now, site.enclosure_max_age)]
    if due:
        client = Client(f"feedwright/{__version__} (+{site.url})", site.enclosure_allow_private)
        fresh = look_up(due, client, site.enclosure_timeout, site.enclosure_concurrency, now, stop, asker)
        for url, known in fresh.items():
            sizes.known[url] = _merge(sizes.known.get(url), known)
    # Only what the feeds show is remembered (and asked about: a stopping daemon may have left some unasked).
    sizes.known = {url: sizes.known[url] for url in wanted if url in sizes.known}
    images: dict[str, Image] = {}
    out: dict[str, Entry] = {}
    for key, entry in entries.items():
        image = entry.image
        if image is None or image.url not in sizes.known:
            out[key] = entry
            continue
        if image.url not in images:
            learnt = sizes.known[image.url]
            images[image.url] = Image(image.url, learnt.type or image.type, learnt.length)
        out[key] = replace(entry, image=images[image.url])
    sizes.warnings += _warnings(site, wanted, sizes.known)
    return out, sizes
