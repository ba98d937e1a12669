"""One writer per site: ``build`` and ``daemon`` take ``.feedwright/build.lock`` before touching ``output/``.

The lock is ``flock(2)`` on that file, so the kernel releases it when its holder exits, however it exits: a
``kill -9`` or a crash never leaves a stale lock. The file itself stays; deleting it would let two processes
lock two different files of the same name. The descriptors are close-on-exec and feedwright never forks without
exec (its workers are fresh interpreters), so no child process can hold a lock after its holder is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError, LockTimeout, PublishError
from ..pipeline.publish import not_a_folder

LOCK_NAME = "build.lock"
DAEMON_LOCK_NAME = "daemon.lock"  # held for a daemon's whole life: one daemon per site
DEFAULT_WAIT = 30.0
WAIT_ENV = "FEEDWRIGHT_LOCK_TIMEOUT"
_POLL = 0.05
_daemons: set[Path] = set()  # daemon locks this process holds (daemon_lock is re-entrant within a process)


def lock_wait(value: float | None = None) -> float:
    """Seconds to wait for the lock: ``value`` if given, else ``$FEEDWRIGHT_LOCK_TIMEOUT``, else 30."""
    if value is None:
        text = os.environ.get(WAIT_ENV, "").strip()
        if not text:
            return DEFAULT_WAIT
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{WAIT_ENV} must be a number of seconds, got {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise ConfigError(f"the lock wait must be 0 seconds or more, got {value}")
    return value


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "another feedwright process"
    return f"feedwright process {pid}" if pid.isdigit() else "another feedwright process"


def _open(state_dir: Path, path: Path) -> int:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        reason = not_a_folder(state_dir) or f"{path}: cannot create the lock file ({exc.strerror or exc})"
        raise PublishError(reason) from None


def _claim(fd: int) -> None:
    # Who holds it, for the message the next waiter prints; informative only, the flock is the lock.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


@contextlib.contextmanager
def daemon_lock(state_dir: Path) -> Iterator[Path]:
    """Be the only daemon of this site for the ``with`` block; raises :class:`LockTimeout` at once otherwise.

    Two daemons would each build on their own schedule, and ``status`` would show only one of them.
    """
    path = state_dir / DAEMON_LOCK_NAME
    if path in _daemons:  # this process already holds it (the CLI takes it before loading the scheduler)
        yield path
        return
    fd = _open(state_dir, path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockTimeout(
                f"a daemon is already running for this site: {_holder(fd)} (lock {path}); stop it first"
            ) from None
        _claim(fd)
        _daemons.add(path)
        yield path
    finally:
        _daemons.discard(path)
        os.close(fd)


@contextlib.contextmanager
def site_lock(state_dir: Path, wait: float, stop: threading.Event | None = None) -> Iterator[Path]:
    """Hold the site's build lock for the ``with`` block; yields the lock file's path.

    Waits at most ``wait`` seconds (or until ``stop`` is set), then raises :class:`LockTimeout`. Raises
    :class:`PublishError` if the state folder cannot hold the lock file.
    """
    path = state_dir / LOCK_NAME
    fd = _open(state_dir, path)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0 or (stop is not None and stop.is_set()):
                    raise LockTimeout(
                        f"{_holder(fd)} is building this site (lock {path}); gave up after {wait:g} s"
                    ) from None
                if stop is not None:
                    stop.wait(min(_POLL, left))
                else:
                    time.sleep(min(_POLL, left))
        _claim(fd)
        yield path
    finally:
        os.close(fd)
