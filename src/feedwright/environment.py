"""The environment variables feedwright reads: read once, by the command line, and passed down as values.

``SOURCE_DATE_EPOCH``
    Whole seconds since 1970: pins "now" for reproducible builds and golden tests (reproducible-builds.org).
``FEEDWRIGHT_LOCK_TIMEOUT``
    Seconds ``build`` (and the daemon, and ``serve --watch``) waits for another run's lock; default 30.

The library never looks at ``os.environ``: a program that imports feedwright passes an :class:`Environment` (or
``now`` and ``wait``) itself, and two sites built in one process cannot see each other's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import ConfigError

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
LOCK_TIMEOUT = "FEEDWRIGHT_LOCK_TIMEOUT"
DEFAULT_WAIT = 30.0


@dataclass(frozen=True)
class Environment:
    """What the environment asks of a run; the defaults are an empty environment's."""

    pinned_now: datetime | None = None  # SOURCE_DATE_EPOCH
    lock_wait: float = DEFAULT_WAIT  # FEEDWRIGHT_LOCK_TIMEOUT

    def now(self) -> datetime:
        """The time a build takes as "now": pinned, or the clock's (aware, UTC)."""
        return self.pinned_now or datetime.now(UTC)


def read_environment(environ: Mapping[str, str]) -> Environment:
    """The settings in ``environ`` (``os.environ`` at the edge); a bad value is a :class:`ConfigError`."""
    return Environment(pinned_now=_epoch(environ.get(SOURCE_DATE_EPOCH, "").strip()),
                       lock_wait=_wait(environ.get(LOCK_TIMEOUT, "").strip()))


def _epoch(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"{SOURCE_DATE_EPOCH} must be whole seconds since 1970, got {text!r}") from None


def _wait(text: str) -> float:
    if not text:
        return DEFAULT_WAIT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:  # also rejects NaN
        raise ConfigError(f"{LOCK_TIMEOUT} must be a number of seconds (0 or more), got {text!r}")
    return value


def checked_wait(value: float) -> float:
    """``value`` as a lock wait in seconds, or a :class:`ConfigError` when it is negative or not a number."""
    if not value >= 0:  # also rejects NaN
        raise ConfigError(f"the lock wait must be 0 seconds or more, got {value}")
    return value
