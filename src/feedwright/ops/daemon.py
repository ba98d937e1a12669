"""``feedwright daemon``: build now, then on the schedule, and at the moment each scheduled post is due.

One APScheduler ``BlockingScheduler`` with one worker thread: the regular job (interval or cron) and a one-off
job at the next future post's publish moment. Runs never overlap (``max_instances=1``, one worker, the site
lock) and never stack (``coalesce=True``: a machine that slept runs once when it wakes). A failed build is
logged and retried at the next run; the daemon itself stops only on SIGTERM/SIGINT, within 2 s: a WebSub round
in progress ends at once, and a build still running after :data:`STOP_GRACE` is abandoned as a kill would abandon
it (every file is replaced atomically, so nothing is torn; the next build completes it).
SIGHUP re-reads ``feedwright.toml``. Everything is reported through :mod:`logging` (logger ``feedwright``).

With ``watch`` (``--watch``), :mod:`.watch` also builds after every coalesced batch of file-system events, on its
own thread (one build at a time all the same: the build lock and the site lock), and the builds keep what they
learnt in memory (:mod:`feedwright.incremental.live`): a saved post is republished without reloading the cache or
re-stat-ing the tree. The scheduled runs then look at every file, in case an event was missed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from ..build import build_links, prepare_rendering
from ..config import CONFIG_NAME, Site, load_site, require_url
from ..environment import Environment
from ..errors import ConfigError, FeedwrightError, LockTimeout
from ..incremental.live import Live
from .heap import collector_paused
from .lock import daemon_lock, site_lock
from .runs import Run, timed_build
from .schedule import Schedule
from .status import Status, write_status
from .watch import Batch, Watcher

log = logging.getLogger("feedwright.daemon")

BUILD_JOB, PUBLISH_JOB, RELOAD_JOB = "build", "publish", "reload"
# What signal.signal() returns and accepts: a handler function, SIG_DFL/SIG_IGN, or None (set outside Python).
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
# How long a stop signal waits for the build in progress: the daemon must be gone within 2 s of SIGTERM.
STOP_GRACE = 1.5
# Stop (SIGTERM, SIGINT) and reload (SIGHUP, where there is one).
_SIGNALS = (signal.SIGTERM, signal.SIGINT, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


def _nothing(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: the signal's number has already reached the daemon (signal.set_wakeup_fd)."""


class Daemon:
    """The scheduler loop for one site. ``fixed``: the schedule came from the command line and SIGHUP keeps it."""

    def __init__(self, site: Site, schedule: Schedule, *, fixed: bool = False, env: Environment | None = None,
                 watch: bool = False, poll: float | None = None, settle: float | None = None):
        self._site = site
        # --watch: the memory of the last build, and the watcher feeding it (started by run()).
        self._live = Live(site) if watch or poll is not None else None
        self._watch_poll, self._settle = poll, settle
        self._watcher: Watcher | None = None
        self._schedule = schedule
        self._fixed = fixed
        self._env = env or Environment()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._wakeup: tuple[int, int] | None = None  # (the wakeup fd before ours, ours) while the handlers are set
        # Held for a whole build: shutdown waits on it (for STOP_GRACE), so a short write is not cut.
        self._building = threading.Lock()
        self.abandoned = False  # a build was still running when the daemon stopped
        self._runs = self._failures = self._missed = 0
        self._rejected: set[str] = set()
        self._publish_at: datetime | None = None
        self._last: Status | None = None
        self._scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    # --- the loop -----------------------------------------------------------------------------------------

    def run(self) -> int:
        """Build now, then on the schedule, until SIGTERM or SIGINT; returns the exit status (0).

        Raises :class:`LockTimeout` at once when another daemon runs for the same site.
        """
        with daemon_lock(self._site.state_dir):
            return self._run()

    def _run(self) -> int:
        previous = self._install_signals()
        self._scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        tz = self._site.timezone
        self._scheduler.add_job(
            self._job, self._schedule.trigger(tz), id=BUILD_JOB, name="build",
            # A late run still happens (once) as long as the next one is not due yet: a laptop waking up builds.
            misfire_grace_time=self._schedule.period(tz), next_run_time=datetime.now(UTC),
        )
        log.info("feedwright daemon started for %s, %s (pid %d)", self._site.root, self._schedule.describe(),
                 os.getpid())
        if self._env.pinned_now is not None:
            log.warning("SOURCE_DATE_EPOCH is set: 'now' is pinned, so scheduled posts will not appear on time")
        try:
            if self._live is not None:
                self._watcher = Watcher(self._site, self._on_batch, poll=self._watch_poll, quiet=self._settle)
                self._watcher.start()
            if not self._stop.is_set():
                self._scheduler.start()  # blocks until _shutdown() stops it
        finally:
            self._stop.set()
            if self._watcher is not None:
                self._watcher.stop(timeout=0.2)
            if self._building.acquire(timeout=STOP_GRACE):  # the build in progress, if any, may end
                self._building.release()
            else:
                self.abandoned = True
                log.warning("stopped in the middle of a build: output/ keeps whole files; the next build completes it")
            self._done.set()
            self._restore_signals(previous)
        if self._last is not None:
            # No next run: `feedwright status` shows a stopped daemon, not an overdue one.
            self._write_status(self._site.root, replace(self._last, next_run=None))
        log.info("feedwright daemon stopped")
        return 0

    def _job(self, why: str = "schedule") -> None:
        # The build runs on a daemon thread and the scheduler's worker only waits for it: that worker is joined
        # at interpreter exit, and a stop must not wait for a long build (or a slow hub) to end.
        if self._stop.is_set():
            return
        worker = threading.Thread(target=self._build, args=(why,), name="feedwright-build", daemon=True)
        worker.start()
        while worker.is_alive() and not self._stop.is_set():
            worker.join(0.1)

    def _build(self, why: str) -> None:
        with self._building:
            if self._stop.is_set():
                return
            site, live = self._site, self._live
            if live is not None and why == "schedule":
                live.rescan()  # a safety net: an event missed (a network file system) is made up for
            try:
                with site_lock(site.state_dir, self._env.lock_wait, stop=self._stop), \
                        collector_paused(collect=why != "watch"):
                    run = timed_build(site, now=self._env.now(), stop=self._stop, live=live)
                    self._record(site, run, why)
                    if live is not None and run.ok:
                        live.prepare(build_links, partial(prepare_rendering, site.markdown))
            except LockTimeout as exc:
                if not self._stop.is_set():
                    log.warning("%s; trying again at the next run", exc)
            except FeedwrightError as exc:
                self._failures += 1
                log.error("cannot build: %s; trying again at the next run", exc)
            except Exception:  # a bug: on this thread, the scheduler would not see it to log it
                self._failures += 1
                log.exception("unexpected error (a feedwright bug); trying again at the next run")

    def _on_batch(self, batch: Batch) -> None:
        """A coalesced batch of file-system events (on the watcher's thread): build now."""
        if self._stop.is_set() or self._live is None:
            return
        if batch.reload:
            log.info("%s changed: reloading the settings", batch.reload)
            if not self._load_settings(f"{batch.reload} changed"):
                return
        if batch.rescan:
            # Lost events are worth a warning; a folder created or moved is only why this build lists the folder.
            log.log(logging.WARNING if batch.lost else logging.INFO, "%s; scanning every file", batch.rescan)
            self._live.rescan()
        self._live.changed(batch.paths)
        self._build("watch")

    # --- after a build ------------------------------------------------------------------------------------

    def _record(self, site: Site, run: Run, why: str) -> None:
        self._runs += 1
        if run.report is not None:
            self._plan_publish(run.report.next_publish)
        recovered = self._failures if run.ok else 0
        self._failures = 0 if run.ok else self._failures + 1
        next_run = self._next_run()
        self._write_status(
            site.root,
            run.status("daemon", next_run=next_run, runs=self._runs, failures=self._failures, missed=self._missed),
        )
        self._log(run, next_run, recovered, why)

    def _log(self, run: Run, next_run: datetime | None, recovered: int, why: str) -> None:
        report = run.report
        if report is not None:
            for warning in report.warnings:
                log.warning("%s", warning)
            for error in report.unreadable:
                log.error("%s; the feeds built from it are kept as they were", error,
                          extra={"fields": {"path": error.path, "reason": error.reason}})
            # Each rejection is logged when it appears, not on every run; the run line keeps counting it.
            current = {str(error) for error in (*report.rejected, *report.near_misses)}
            for error in report.rejected:
                if str(error) not in self._rejected:
                    log.warning("rejected %s", error, extra={"fields": {"path": error.path, "reason": error.reason}})
            for error in report.near_misses:
                if str(error) not in self._rejected:
                    log.warning("%s", error, extra={"fields": {"path": error.path, "reason": error.reason}})
            self._rejected = current
        retry = next_run.isoformat(timespec="seconds") if next_run else "the next run"
        if not run.wrote_feeds:
            fields = {"event": "build", "trigger": why, "outcome": "failed", "error": run.reason,
                      "failures": self._failures}
            bug = run.error is not None and not isinstance(run.error, FeedwrightError)
            log.error(
                "build failed: %s%s; output/ keeps the feeds already published; retrying at %s",
                "unexpected error (a feedwright bug): " if bug else "", run.reason, retry,
                exc_info=run.error if bug else None, extra={"fields": fields},
            )
            return
        assert report is not None
        if recovered:
            log.info("recovered after %d failed runs", recovered)
        log.info(
            "built %d posts, %d feeds changed, %d rejected in %.2f s",
            report.live, run.feeds_changed, len(report.rejected), run.duration,
            extra={"fields": {
                "event": "build", "trigger": why, "outcome": "ok", "published": report.live,
                "feeds_changed": run.feeds_changed, "rejected": len(report.rejected),
                "scheduled": report.scheduled, "duration": round(run.duration, 3),
                "next_run": next_run.isoformat() if next_run else None,
            }},
        )

    def _plan_publish(self, moment: datetime | None) -> None:
        # A moment already past means "now" is pinned (SOURCE_DATE_EPOCH) or the clock moved: building again
        # would not publish it, and would loop.
        if moment is not None and moment <= datetime.now(UTC):
            moment = None
        if moment == self._publish_at and (moment is None or self._scheduler.get_job(PUBLISH_JOB)):
            return
        self._publish_at = moment
        if moment is None:
            if self._scheduler.get_job(PUBLISH_JOB):
                self._scheduler.remove_job(PUBLISH_JOB)
            return
        self._scheduler.add_job(
            self._job, DateTrigger(run_date=moment), args=("publish",), id=PUBLISH_JOB, name="publish",
            replace_existing=True,
            misfire_grace_time=None,  # however late (the machine slept), the post must still come out
        )
        log.info("next scheduled post at %s; a build is set for then", moment.isoformat(timespec="seconds"))

    def _next_run(self) -> datetime | None:
        now = datetime.now(UTC)
        job = self._scheduler.get_job(BUILD_JOB)
        times = [job.trigger.get_next_fire_time(None, now) if job else None]
        if self._publish_at is not None and self._publish_at > now:
            times.append(self._publish_at)
        return min((t for t in times if t is not None), default=None)

    def _write_status(self, root: Path, status: Status) -> None:
        try:
            write_status(root, status)
            self._last = status
        except OSError as exc:
            log.error("cannot write the status file: %s", exc.strerror or exc)

    def _on_missed(self, event: JobEvent) -> None:
        # Counted in the status either way; only a run lost past its grace time is worth a warning. A run
        # skipped because the previous one is still going is the coalescing the daemon is built for.
        self._missed += 1
        if event.code == EVENT_JOB_MISSED:
            log.warning("a %s run was missed (due at %s): the machine was asleep or overloaded", event.job_id,
                        event.scheduled_run_time.isoformat(timespec="seconds"))  # type: ignore[attr-defined]
        else:
            log.info("a %s run was skipped: the previous build was still running", event.job_id)

    # --- signals ------------------------------------------------------------------------------------------

    def _install_signals(self) -> dict[int, _Handler]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        # Python runs a handler in the main thread, between two bytecodes, and only once that thread runs again;
        # the kernel may hand a process's signal to any of its threads (the watcher's, the scheduler's), and then
        # nothing wakes the main thread, asleep in the scheduler until the next build is due: the daemon ignored
        # SIGTERM for up to the schedule's period (caught with py-spy in 2 of 60 runs of
        # test_sigterm_with_watch_stops_within_2_s, under load). So the number of each signal is written to a pipe
        # by the C-level handler itself, in whatever thread caught it (signal.set_wakeup_fd), and read by a thread
        # started here. The Python-level handlers do nothing but keep the default action (exit) away; nothing
        # that takes a lock (starting a thread, logging) ever runs in a handler.
        read, write = os.pipe()
        os.set_blocking(write, False)  # set_wakeup_fd's requirement: a full pipe must never block a handler
        threading.Thread(target=self._signalled, args=(read,), name="feedwright-signals", daemon=True).start()
        previous: dict[int, _Handler] = {}
        for signum in _SIGNALS:
            previous[signum] = signal.signal(signum, _nothing)
        self._wakeup = (signal.set_wakeup_fd(write), write)
        return previous

    def _restore_signals(self, previous: dict[int, _Handler]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if self._wakeup is not None:
            before, write = self._wakeup
            signal.set_wakeup_fd(before)
            os.close(write)  # after set_wakeup_fd: the number must not be reused while a handler may write to it
            self._wakeup = None

    def _signalled(self, read: int) -> None:
        try:
            while data := os.read(read, 64):
                for signum in data:
                    if signum == getattr(signal, "SIGHUP", None):
                        self._reload()
                    elif signum in (signal.SIGTERM, signal.SIGINT):
                        self.stop(signum)
        finally:
            os.close(read)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop after the build in progress (at most STOP_GRACE); what SIGTERM and SIGINT do."""
        if not self._stop.is_set():
            self._stop.set()
            self._shutdown(signum)

    def _shutdown(self, signum: int) -> None:
        log.info("%s: stopping after the build in progress (waiting at most %g s)", signal.Signals(signum).name,
                 STOP_GRACE)
        while not self._done.is_set():
            try:
                self._scheduler.shutdown(wait=False)
                return
            except SchedulerNotRunningError:  # the signal came before start(): try again once it runs
                time.sleep(0.05)

    def _reload(self) -> None:
        if not self._load_settings("SIGHUP"):
            return
        log.info("SIGHUP: reloaded %s; %s", CONFIG_NAME, self._schedule.describe())
        # Build once now with the new settings, queued behind any build in progress.
        self._scheduler.add_job(self._job, args=("reload",), id=RELOAD_JOB, name="reload", replace_existing=True,
                                misfire_grace_time=None)

    def _load_settings(self, why: str) -> bool:
        """Read the settings again (SIGHUP, or --watch saw them change); False if they are bad (logged, the old
        ones kept) or the daemon is stopping."""
        root = self._site.root
        try:
            site = load_site(root)
            require_url(site)
            schedule = site.schedule or Schedule()
        except ConfigError as exc:
            log.error("%s: %s; keeping the previous configuration", why, exc)
            return False
        if self._stop.is_set():
            return False
        if self._fixed:
            schedule = self._schedule
        if schedule != self._schedule or site.timezone != self._site.timezone:
            self._scheduler.reschedule_job(BUILD_JOB, trigger=schedule.trigger(site.timezone))
            self._scheduler.modify_job(BUILD_JOB, misfire_grace_time=schedule.period(site.timezone))
        self._site, self._schedule = site, schedule
        if self._live is not None and self._watcher is not None:
            self._live.rescan()  # the new settings are read by live.begin(): a new Site loads everything again
            self._watcher.rewatch(site)
        return True
