"""The daemon under load, every build parsing and rendering on worker processes: no deadlock, no stray process.

The daemon builds in an APScheduler worker thread. A worker process forked from a threaded process can inherit a
lock another thread held and hang on it; feedwright's workers are fresh interpreters (never forks). Here every
build uses them (the thresholds are lowered), posts change all the time, SIGHUP re-reads the config meanwhile and
CPU burners load the machine. The suite runs it for a few seconds; ``scripts/daemon_load.py`` for minutes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import make_site, wait_for, write_post
from test_crash import live_members

# The daemon, with every parse and render on two worker processes however few files there are.
PARALLEL_DAEMON = """
import sys
import feedwright.build as build
import feedwright.pipeline.collect as collect
from feedwright.incremental import parallel
from feedwright.cli import main

collect.PARALLEL_MIN_FILES = build.PARALLEL_MIN_RENDERS = 1
parallel.workers = lambda: 2
sys.exit(main(sys.argv[1:]))
"""
_BURN = "while True: pass"


@dataclass
class LoadOutcome:
    builds: int
    failures: list[str]
    stop_seconds: float
    exit_status: int
    strays: list[int]


def run_daemon_under_load(root: Path, seconds: float, burners: int = 2) -> LoadOutcome:
    """Run the daemon for ``seconds`` under load, editing posts throughout; then SIGTERM it."""
    site = make_site(root / "site")
    for i in range(40):
        write_post(site, f"p{i:02d}.md", {"title": f"Post {i}", "date": f"2024-01-01T00:00:{i:02d}Z"})
    log = root / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    burning = [subprocess.Popen([sys.executable, "-c", _BURN]) for _ in range(burners)]
    with log.open("wb") as sink:
        daemon = subprocess.Popen(
            [sys.executable, "-c", PARALLEL_DAEMON, "daemon", "--site", str(site), "--every", "1s"],
            stdout=subprocess.DEVNULL, stderr=sink, env=env, start_new_session=True,
        )
    try:
        wait_for(lambda: "built" in log.read_text(encoding="utf-8"), "the first build", timeout=60)
        ends, i = time.monotonic() + seconds, 0
        while time.monotonic() < ends:
            i += 1
            write_post(site, f"p{i % 40:02d}.md", {"title": f"Post {i % 40} v{i}", "date": "2024-01-01"})
            if i % 10 == 0:
                daemon.send_signal(signal.SIGHUP)
            time.sleep(0.2)
        before = _builds(log)
        # Still building: a deadlocked daemon would stop here.
        wait_for(lambda: _builds(log) > before, "a build after the edits", timeout=60)
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(60)
        stop_seconds = time.monotonic() - stopping
    finally:
        for proc in (daemon, *burning):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text(encoding="utf-8")
    # Anything logged above INFO is a failure, except runs missed because the loaded machine was slow.
    failures = [line for line in text.splitlines()
                if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback", line) and "was missed" not in line]
    return LoadOutcome(_builds(log), failures, stop_seconds, status, live_members(daemon.pid, wait=3.0))


def _builds(log: Path) -> int:
    return len(re.findall(r"\bbuilt \d+ posts", log.read_text(encoding="utf-8")))


def test_the_daemon_builds_on_workers_under_load_without_deadlock(tmp_path: Path) -> None:
    outcome = run_daemon_under_load(tmp_path, seconds=6)
    assert not outcome.failures, outcome.failures
    assert outcome.builds >= 3, outcome
    assert outcome.exit_status == 0
    assert not outcome.strays, f"processes left behind: {outcome.strays}"
