"""``feedwright daemon --watch``: file-system events, coalesced into batches of changed paths.

Events come from the ``watchdog`` library: inotify on Linux. When inotify cannot be used (no inotify, the watch
limit ``fs.inotify.max_user_watches`` reached: ENOSPC, too many instances: EMFILE) or when ``--poll`` asks for it
(network file systems, where inotify sees nothing another machine writes), the tree is polled instead, and the
log says so in one line. What is watched: the content folder (each file's content-relative path is reported),
and what changes the site as a whole (``feedwright.toml``, a Jekyll site's ``_config.yml``, ``_includes/`` and
``_data/``: a settings change reloads everything). ``output/`` and ``.feedwright/`` are the builds' own writes
and are ignored, as are dot-files (the build never reads them).

Bursts coalesce: after the first event the watcher waits for :data:`QUIET` seconds without a new one (at most
:data:`MAX_WAIT` in all), then hands the whole batch over at once, so an editor's save-by-rename or a
``git pull`` touching 5,000 files is one build. Events that arrive while that build runs make the next batch. An
overflowed kernel queue (IN_Q_OVERFLOW) or an observer thread that died means events were lost: the batch then
asks for a full scan, and the log says why.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from ..config import CONFIG_NAME, Site

log = logging.getLogger("feedwright.watch")

QUIET = 0.1  # seconds without an event that end a burst (a loaded machine pauses a `git pull` for tens of ms)
MAX_WAIT = 3.0  # a burst that never goes quiet is built after this long anyway
FALLBACK_POLL = 5.0  # seconds between two looks at the tree when inotify is unavailable
_SETTINGS = {CONFIG_NAME, "_config.yml"}
_SITE_FOLDERS = ("_includes", "_data")  # Liquid's includes and data: every rendered post may depend on them
_IGNORED_EVENTS = {"opened", "closed_no_write"}


@dataclass
class Batch:
    """What changed since the last batch: content-relative paths, and whether a scan or a reload is needed."""

    paths: set[str] = field(default_factory=set)
    rescan: str | None = None  # why every file must be looked at (events were lost, a folder moved)
    reload: str | None = None  # the settings file that changed
    includes: bool = False  # _includes/ or _data/ changed: posts with Liquid render again (their key says so)
    lost: bool = False  # the scan makes up for events that were lost (worth a warning), not for a folder moved

    def __bool__(self) -> bool:
        return bool(self.paths or self.rescan or self.reload or self.includes)


class Watcher(FileSystemEventHandler):
    """Watches one site and calls ``on_batch`` (on the watcher's own thread) with each coalesced batch."""

    def __init__(self, site: Site, on_batch: Callable[[Batch], None], *, poll: float | None = None,
                 quiet: float | None = None) -> None:
        self.site = site
        self._quiet = QUIET if quiet is None else quiet
        self._max_wait = max(MAX_WAIT, 10 * self._quiet)
        self._on_batch = on_batch
        self._poll = poll
        self._lock = threading.Lock()
        self._batch = Batch()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._replaced = False  # the content folder itself was deleted or moved: its watch went with it
        self.polling = False
        self._thread = threading.Thread(target=self._loop, name="feedwright-watch", daemon=True)

    # --- life -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching: inotify, or polling when asked to or when inotify cannot be used (logged)."""
        self._observer = self._observe()
        self._thread.start()

    def stop(self, timeout: float = 0.5) -> None:
        """Stop the observer's threads (waiting at most ``timeout`` for them) and the batching thread."""
        self._stop.set()
        self._wake.set()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout)

    def rewatch(self, site: Site) -> None:
        """Watch ``site`` (reloaded settings may have moved the content folder or added ``_includes/``)."""
        self.site = site
        observer = self._observer
        if observer is None:
            self._observer = self._observe()
            return
        observer.unschedule_all()
        try:
            self._schedule(observer)
        except FileNotFoundError as exc:
            log.error("cannot watch %s: %s; the scheduled builds go on", exc.filename, exc.strerror)
        except OSError as exc:
            self._fall_back(exc)

    # --- observers ------------------------------------------------------------------------------------------

    def _observe(self) -> BaseObserver | None:
        if not (self.site.root / self.site.content).is_dir():
            log.error("cannot watch %s: no such folder; the scheduled builds go on (SIGHUP once it is back)",
                      self.site.root / self.site.content)
            return None
        if self._poll is not None:
            log.info("watching %s by polling every %g s (--poll)", self.site.root, self._poll)
            return self._polling(self._poll)
        try:
            observer = _inotify(self._overflowed)
            self._schedule(observer)
            observer.start()
        except (OSError, ImportError) as exc:
            return self._fallback_observer(exc)
        log.info("watching %s with inotify", self.site.root)
        return observer

    def _fallback_observer(self, exc: BaseException) -> BaseObserver:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        hint = ""
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EMFILE):
            hint = " (raise fs.inotify.max_user_watches / max_user_instances with sysctl)"
        log.warning("inotify unavailable: %s%s; watching by polling every %g s instead", why, hint, FALLBACK_POLL)
        return self._polling(FALLBACK_POLL)

    def _fall_back(self, exc: OSError) -> None:
        old = self._observer
        if old is not None:
            old.stop()
        self._observer = self._fallback_observer(exc)
        self._note(rescan="inotify stopped: files may have changed unseen", lost=True)

    def _polling(self, interval: float) -> BaseObserver:
        self.polling = True
        observer = PollingObserver(timeout=interval)
        self._schedule(observer)
        observer.start()
        return observer

    def _schedule(self, observer: BaseObserver) -> None:
        site = self.site
        content = site.root / site.content
        if content == site.root:  # a Jekyll site: its content folder is its root
            observer.schedule(self, str(site.root), recursive=True)
            return
        observer.schedule(self, str(content), recursive=True)
        observer.schedule(self, str(site.root), recursive=False)  # feedwright.toml; _includes/ appearing
        for name in _SITE_FOLDERS:
            if (site.root / name).is_dir():
                observer.schedule(self, str(site.root / name), recursive=True)

    # --- events ---------------------------------------------------------------------------------------------

    def dispatch(self, event: FileSystemEvent) -> None:
        """Called by watchdog's observer thread for every event (never raises: that would end the thread)."""
        try:
            if event.event_type in _IGNORED_EVENTS or (event.is_directory and event.event_type == "modified"):
                return
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    self._path(os.fsdecode(path), event.is_directory)
        except Exception:  # a bug: never lose events silently
            log.exception("watch: cannot handle %r; scanning everything", event)
            self._note(rescan="an event could not be handled", lost=True)

    def _path(self, path: str, folder: bool) -> None:
        site = self.site
        root, content = str(site.root), str(site.root / site.content)
        for own in (site.root / site.output, site.state_dir):  # the builds' own writes
            if path == str(own) or path.startswith(str(own) + os.sep):
                return
        rel_root = os.path.relpath(path, root)
        if rel_root in _SETTINGS:
            self._note(reload=rel_root)
            return
        if rel_root.split(os.sep)[0] in _SITE_FOLDERS:
            self._note(includes=True)
            return
        if path == content:  # deleted, moved or replaced (a deploy swapping folders): watch the new one, scan it
            self._replaced = True
            self._note(rescan="the content folder itself was replaced")
            return
        if not path.startswith(content + os.sep):
            return
        rel = Path(os.path.relpath(path, content)).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            return  # dot-files and dot-folders: never read (an editor's swap file, .git)
        if folder:
            self._note(rescan=f"folder {rel} changed")
        else:
            self._note(paths={rel})

    def _overflowed(self) -> None:
        self._note(rescan="the kernel's event queue overflowed (events were lost)", lost=True)

    def _note(self, *, paths: set[str] | None = None, rescan: str | None = None, reload: str | None = None,
              includes: bool = False, lost: bool = False) -> None:
        with self._lock:
            if paths:
                self._batch.paths |= paths
            self._batch.rescan = self._batch.rescan or rescan
            self._batch.reload = self._batch.reload or reload
            self._batch.includes = self._batch.includes or includes
            self._batch.lost = self._batch.lost or lost
        self._wake.set()

    # --- batching -------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(timeout=5.0):
                self._check_observer()
                continue
            started = time.monotonic()
            while not self._stop.is_set():  # wait for the burst to go quiet
                self._wake.clear()
                left = self._max_wait - (time.monotonic() - started)
                if left <= 0 or not self._wake.wait(min(self._quiet, left)):
                    break
            if self._stop.is_set():
                return
            with self._lock:
                batch, self._batch = self._batch, Batch()
            if self._replaced:
                self._replaced = False
                self.rewatch(self.site)
            if batch:
                try:
                    self._on_batch(batch)
                except Exception:  # a bug: logged; the watcher goes on, and the next batch scans everything
                    log.exception("unexpected error (a feedwright bug) after a change; scanning at the next one")
                    self._note(rescan="the last batch failed", lost=True)
                    self._wake.clear()

    def _check_observer(self) -> None:
        observer = self._observer
        if observer is not None and not observer.is_alive() and not self._stop.is_set():
            log.error("the file-system observer stopped; starting it again and scanning everything")
            try:
                self._observer = self._observe()
            except OSError as exc:
                log.error("cannot watch %s: %s; the scheduled builds go on", self.site.root, exc.strerror or exc)
                self._observer = None
            self._note(rescan="the observer stopped", lost=True)


def _inotify(overflowed: Callable[[], None]) -> BaseObserver:
    """watchdog's inotify observer, telling ``overflowed`` when the kernel's queue overflows (watchdog itself
    only re-adds its watches and logs it): the events lost must be made up for by a full scan."""
    from watchdog.observers.inotify import InotifyEmitter, InotifyObserver

    class Emitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            super().on_thread_start()
            group: Any = self._inotify
            if group is not None:
                original = group.on_queue_overflow

                def on_queue_overflow() -> None:
                    original()
                    overflowed()

                group.on_queue_overflow = on_queue_overflow

    class Observer(InotifyObserver):
        def __init__(self) -> None:
            super().__init__()
            self._emitter_class = Emitter

    return Observer()
