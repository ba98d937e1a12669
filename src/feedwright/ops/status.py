"""The last run, for people and monitors: ``.feedwright/status.json``, written after every build.

Both the daemon and a cron ``feedwright build`` record here when the run started, how long it took, whether it
published, its counts and (for the daemon) when the next run is due. ``feedwright status`` reads it back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..config import STATE_DIR
from ..errors import FeedwrightError
from ..pipeline.publish import atomic_write, not_a_folder

STATUS_NAME = "status.json"
STATUS_VERSION = 1
# A daemon whose next run is this late is not running (killed, machine off); a slow build never lags this much.
OVERDUE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Status:
    """One run. ``outcome`` is ``ok`` (the feeds were published, perhaps without some rejected posts) or
    ``failed`` (nothing new was published; ``error`` says why)."""

    mode: str
    pid: int
    started: datetime
    duration: float
    outcome: str
    error: str | None = None
    published: int = 0
    rejected: int = 0
    scheduled: int = 0
    feeds_changed: int = 0
    next_run: datetime | None = None
    runs: int = 1
    failures: int = 0
    missed: int = 0

    @property
    def failed(self) -> bool:
        return self.outcome != "ok"

    def overdue(self, now: datetime) -> bool:
        """The daemon promised a run that has not happened long after its time: it is not running."""
        return self.next_run is not None and now > self.next_run + OVERDUE_AFTER

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping; datetimes as ISO 8601 with their offset."""
        data = asdict(self)
        for key in ("started", "next_run"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def status_path(root: Path) -> Path:
    """Where the status file of the site folder ``root`` lives."""
    return root / STATE_DIR / STATUS_NAME


def write_status(root: Path, status: Status) -> None:
    """Replace the status file atomically (a monitor never reads half of it). Raises OSError."""
    data = {"version": STATUS_VERSION, **status.to_json()}
    atomic_write(status_path(root), (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def read_status(root: Path) -> Status | None:
    """The last recorded run; None if there is none yet. Raises :class:`FeedwrightError` if it is unreadable."""
    path = status_path(root)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise FeedwrightError(not_a_folder(path.parent) or f"{path}: cannot read the status file ({exc})") from None
    try:
        if data.pop("version") != STATUS_VERSION:
            raise ValueError("unknown version")
        known = {f.name for f in fields(Status)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("started", "next_run"):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key])
        return Status(**values)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise FeedwrightError(f"{path}: status file not understood ({exc})") from None


def _when(moment: datetime, now: datetime) -> str:
    seconds = int((moment - now).total_seconds())
    span = abs(seconds)
    text = f"{span} s" if span < 120 else f"{span // 60} min" if span < 7200 else f"{span // 3600} h"
    return f"{moment.isoformat(timespec='seconds')} ({'in ' + text if seconds > 0 else text + ' ago'})"


def describe(status: Status, now: datetime) -> list[str]:
    """The status as a few lines of text for ``feedwright status``."""
    who = "the daemon" if status.mode == "daemon" else "feedwright build"
    lines = [
        f"last run: {'FAILED' if status.failed else 'ok'}, started {_when(status.started, now)}, "
        f"took {status.duration:.2f} s, by {who} (pid {status.pid})"
    ]
    if status.error:
        lines.append(f"error: {status.error}")
        if status.failures > 1:
            lines.append(f"failed runs in a row: {status.failures}")
    if not (status.failed and status.published == status.rejected == 0):  # a failed build counted nothing
        lines.append(
            f"posts: {status.published} published, {status.rejected} rejected, {status.scheduled} scheduled; "
            f"{status.feeds_changed} feed files changed"
        )
    if status.mode == "daemon":
        lines.append(f"runs by this daemon: {status.runs}, missed: {status.missed}")
        if status.next_run is None:
            lines.append("next run: none (the daemon has stopped)")
        else:
            late = " -- OVERDUE: is the daemon running?" if status.overdue(now) else ""
            lines.append(f"next run: {_when(status.next_run, now)}{late}")
    return lines
