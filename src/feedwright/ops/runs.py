"""One run of the pipeline as cron and the daemon see it: timed, under the site lock, recorded in the status.

:func:`timed_build` never raises for a failed build: the daemon must outlive every fault, so the error is
returned in the :class:`Run`. :func:`recorded_build` is the one-shot form ``feedwright build`` uses.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ..build import BuildReport, build
from ..config import Site
from ..errors import ConfigError, FeedwrightError
from ..incremental.live import Live
from ..pipeline.pages import PAGES
from .lock import site_lock
from .status import Status, read_status, write_status


@dataclass(frozen=True)
class Run:
    """A finished build: its report, or the exception that stopped it (a bug included)."""

    started: datetime
    duration: float
    report: BuildReport | None
    error: Exception | None = None

    @property
    def wrote_feeds(self) -> bool:
        """The feeds were written (possibly without rejected posts)."""
        return self.report is not None and self.report.result is not None

    @property
    def ok(self) -> bool:
        """Published, and every content file could be read: nothing is held back."""
        return self.wrote_feeds and not (self.report is not None and self.report.unreadable)

    @property
    def feeds_changed(self) -> int:
        result = self.report.result if self.report else None
        if result is None:
            return 0
        # feed.xsl, index.html and feeds.opml are published with the feeds but are not feeds.
        return sum(rel not in PAGES for rel in (*result.written, *result.removed))

    @property
    def reason(self) -> str | None:
        """Why nothing new was published, in one line; None when the feeds were published."""
        if self.error is not None:
            return str(self.error) or type(self.error).__name__
        if self.report is not None and self.report.unreadable:
            return unreadable_summary(self.report)
        if self.report is not None and not self.wrote_feeds:
            problems = len(self.report.rejected) + len(self.report.near_misses)
            return f"{problems} posts rejected or with near-miss keys, with --strict; output left as it was"
        return None

    def status(
        self, mode: str, *, next_run: datetime | None = None, runs: int = 1, failures: int = 0, missed: int = 0
    ) -> Status:
        """This run as a status record; the keyword arguments are what only the daemon knows."""
        report = self.report
        return Status(
            mode=mode,
            pid=os.getpid(),
            started=self.started,
            duration=round(self.duration, 3),
            outcome="ok" if self.ok else "failed",
            error=self.reason,
            published=report.live if report else 0,
            rejected=len(report.rejected) if report else 0,
            scheduled=report.scheduled if report else 0,
            feeds_changed=self.feeds_changed,
            next_run=next_run,
            runs=runs,
            failures=failures,
            missed=missed,
        )


def unreadable_summary(report: BuildReport) -> str:
    """One line for a build that could not read part of the content: what, and what was kept."""
    first, more = report.unreadable[0], len(report.unreadable) - 1
    also = f" (and {more} more)" if more else ""
    return (f"cannot read {first.path}: {first.reason}{also}; {len(report.held)} output files built from it "
            "were kept as they were")


def timed_build(
    site: Site, *, strict: bool = False, allow_empty: bool = False, stop: threading.Event | None = None,
    now: datetime | None = None, live: Live | None = None,
) -> Run:
    """Build ``site`` and time it; a failure of any kind is returned in ``Run.error``, never raised. ``live``: what
    the daemon's last build learnt, in memory (``--watch``)."""
    started, clock = datetime.now(UTC), time.monotonic()
    try:
        content = site.root / site.content
        # collect() would read a vanished (unmounted, deleted) content folder as "no posts" and empty every feed.
        if not content.is_dir():
            raise ConfigError(f"{content}: content folder does not exist")
        report, error = build(site, now=now, strict=strict, allow_empty=allow_empty, stop=stop, live=live), None
    except Exception as exc:  # the daemon keeps its schedule whatever went wrong; the caller reports it
        report, error = None, exc
    return Run(started, time.monotonic() - clock, report, error)


def _failures_before(site: Site) -> int:
    """Failed runs in a row before this one, so that the status tells since when a cron build has failed."""
    try:
        last = read_status(site.root)
    except FeedwrightError:
        return 0
    return last.failures if last is not None and last.failed else 0


def recorded_build(
    site: Site, *, strict: bool = False, wait: float, allow_empty: bool = False, now: datetime | None = None
) -> BuildReport:
    """``build()`` under the site lock, recorded in the status file whether it worked or not.

    Raises :class:`LockTimeout` when another run holds the lock for more than ``wait`` seconds (nothing is
    recorded then), and re-raises whatever the build raised. A status file that cannot be written becomes a
    warning in the report.
    """
    with site_lock(site.state_dir, wait):
        run = timed_build(site, strict=strict, allow_empty=allow_empty, now=now)
        try:
            failures = 0 if run.ok else _failures_before(site) + 1
            write_status(site.root, run.status("build", failures=failures))
            problem = None
        except OSError as exc:
            problem = f"cannot record the run in the status file ({exc.strerror or exc})"
    if run.error is not None:
        raise run.error
    assert run.report is not None
    if problem:
        run.report.warnings.append(problem)
    return run.report
