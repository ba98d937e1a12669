"""``feedwright build`` killed with SIGKILL at random moments: every feed file is the old version or the new one.

A site is built at version 1 (OLD), its content changed to version 2 (edits, new posts, a new category, a
retired one, deleted posts) and built on a copy (NEW). Then, again and again: restore the version-1 output and
state, start ``feedwright build`` on version 2, SIGKILL it after a random delay within one build's duration, and
check that each file in ``output/`` has exactly the bytes of its OLD or NEW version (both validated once), that
no file present in both versions is missing, and that the next build heals the site to exactly NEW.

The suite kills 20 times over a few hundred posts; ``scripts/kill_test.py`` kills 100+ times over thousands.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import NOW, validate_feed

CATEGORIES = ["news", "seoul", "culture", "tech", "sports", "opinion", "world", "science", "food", "디지털 성범죄"]
WORDS = ["feed", "reader", "atomic", "rename", "fsync", "newsroom", "seoul", "library", "council", "budget", "시민",
         "안전", "정책", "도서관", "야간", "개관", "reporters", "published", "archive"]
TAGS = 40  # tag feeds too: a few hundred feed files, so that kills land while they are being written
ENV = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "FEEDWRIGHT_LOCK_TIMEOUT": "5"}


def write_content(content: Path, posts: int, version: int) -> None:
    """Version 1 or 2 of a deterministic site of about ``posts`` posts."""
    rng = random.Random(posts)
    if content.exists():
        shutil.rmtree(content)
    content.mkdir(parents=True)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(posts):
        if version == 2 and i % 37 == 0:
            continue  # deleted in version 2
        categories = [CATEGORIES[i % len(CATEGORIES)]]
        if version == 1 and i % 11 == 0:
            categories.append("retired")  # a category that disappears: its feed files are removed
        title = f"Post {i}" + (" (corrected)" if version == 2 and i % 5 == 0 else "")
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(4))
        date = (start + timedelta(hours=7 * i)).isoformat()
        tags = [f"tag{i % TAGS}", f"tag{(i * 7) % TAGS}"]
        text = f"---\ntitle: {title}\ndate: {date}\ncategories: {categories}\ntags: {tags}\n---\n{body}\n"
        (content / f"post-{i:05d}.md").write_text(text, encoding="utf-8")
    if version == 2:
        for j in range(len(CATEGORIES) + 5):  # new posts in every category, newest of all: every feed changes
            categories = [CATEGORIES[j % len(CATEGORIES)], "fresh"]
            date = (start + timedelta(hours=7 * posts + j)).isoformat()
            text = f"---\ntitle: New {j}\ndate: {date}\ncategories: {categories}\n---\nNew post {j}.\n"
            (content / f"new-{j:03d}.md").write_text(text, encoding="utf-8")


def digests(folder: Path) -> dict[str, str]:
    """Output-relative path -> sha256 of every file under ``folder`` (dot-files included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def feedwright(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedwright", *args], capture_output=True, text=True, env=ENV,
                          timeout=600, **kwargs)  # type: ignore[call-overload]


def lock_is_free(path: Path) -> bool:
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def live_members(pgid: int, wait: float) -> list[int]:
    """Processes of group ``pgid`` still running (zombies left to a PID 1 that does not reap do not count)."""
    deadline = time.monotonic() + wait
    while True:
        live = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                live.append(int(stat.parent.name))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


@dataclass
class Outcome:
    kills: int = 0
    finished_before_kill: int = 0
    files_checked: int = 0
    heals: int = 0
    failures: list[str] = field(default_factory=list)
    stray_processes: int = 0
    temp_files_left: int = 0  # kills after which a temp file lay in output/ (the next build must remove it)


class KillRig:
    """A site with its version-1 build saved, the version-2 output known, and a way to kill builds of it."""

    def __init__(self, root: Path, posts: int, cold: bool = False) -> None:
        self.root = root
        self.site = root / "site"
        self.saved = root / "saved"
        self.site.mkdir(parents=True)
        (self.site / "feedwright.toml").write_text(
            '[site]\ntitle = "Crash"\nurl = "https://crash.example/"\n[build]\nlimit = 100\ntag_feeds = true\n',
            encoding="utf-8",
        )
        write_content(self.site / "content", posts, 1)
        self._build_ok()
        self.old = digests(self.site / "output")
        self.saved.mkdir()
        for name in ("output", ".feedwright"):
            shutil.copytree(self.site / name, self.saved / name, symlinks=True)
        if cold:  # every killed build parses and renders everything: no cache
            shutil.rmtree(self.saved / ".feedwright" / "cache", ignore_errors=True)
        write_content(self.site / "content", posts, 2)
        # NEW: the same version-2 build, uninterrupted, timed (the kill delays are drawn from this span).
        self.restore()
        started = time.monotonic()
        self._build_ok()
        self.duration = time.monotonic() - started
        self.new = digests(self.site / "output")
        for path in (self.site / "output").rglob("*"):
            if path.is_file():
                validate_feed(path)
        changed = {rel for rel in self.old.keys() & self.new.keys() if self.old[rel] != self.new[rel]}
        assert changed and self.old.keys() - self.new.keys() and self.new.keys() - self.old.keys()

    def _build_ok(self) -> None:
        result = feedwright("build", "--site", str(self.site))
        assert result.returncode == 0, result.stderr

    def restore(self) -> None:
        """Back to the moment before the version-2 build: version-1 output, state and cache."""
        for name in ("output", ".feedwright"):
            shutil.rmtree(self.site / name, ignore_errors=True)
            shutil.copytree(self.saved / name, self.site / name, symlinks=True)

    def kill_once(self, rng: random.Random, outcome: Outcome, heal: bool) -> None:
        self.restore()
        delay = rng.uniform(0, self.duration)
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedwright", "build", "--site", str(self.site), "-q"],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        else:
            outcome.finished_before_kill += 1
        proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]
        outcome.kills += 1
        when = f"kill {outcome.kills} after {delay:.3f} s"
        # The kernel drops a killed process's flock; its pool workers (big sites parse and render on every
        # core) must not keep it, nor outlive it for long.
        if not lock_is_free(self.site / ".feedwright" / "build.lock"):
            outcome.failures.append(f"{when}: the site lock is still held")
        strays = live_members(proc.pid, wait=2.0)
        if strays:
            outcome.stray_processes += len(strays)
            for pid in strays:
                os.kill(pid, signal.SIGKILL)
        left_temp = self.check(when, outcome)
        if heal or left_temp:  # a kill that left temp files is always followed by a build that must remove them
            self._build_ok()
            outcome.heals += 1
            now = digests(self.site / "output")
            if now != self.new:
                diff = sorted(set(now.items()) ^ set(self.new.items()))[:5]
                outcome.failures.append(f"kill {outcome.kills}: the next build did not heal: {diff}")

    def check(self, when: str, outcome: Outcome) -> bool:
        """Every file in output/ is its OLD or NEW version; none present in both versions is missing.

        Returns whether temp files were left in output/.
        """
        output = self.site / "output"
        now = digests(output)
        temp = False
        for rel, digest in now.items():
            outcome.files_checked += 1
            if rel.startswith(".") or "/." in rel:
                temp = True
                continue  # an interrupted write's temp file: hidden, and removed by the next build
            if digest not in (self.old.get(rel), self.new.get(rel)):
                outcome.failures.append(f"{when}: {rel} is neither the old nor the new version")
        for rel in self.old.keys() & self.new.keys():
            if rel not in now:
                outcome.failures.append(f"{when}: {rel} is missing")
        outcome.temp_files_left += temp
        return temp


def run_kills(
    root: Path, posts: int, kills: int, seed: int, heal_every: int = 5, cold: bool = False
) -> tuple[KillRig, Outcome]:
    """Build the rig and kill ``kills`` builds; the returned outcome lists every failure."""
    rig = KillRig(root, posts, cold)
    rng = random.Random(seed)
    outcome = Outcome()
    for i in range(kills):
        rig.kill_once(rng, outcome, heal=(i % heal_every == heal_every - 1) or i == kills - 1)
    return rig, outcome


def test_sigkill_at_random_moments_leaves_old_or_new_files(tmp_path: Path) -> None:
    rig, outcome = run_kills(tmp_path, posts=300, kills=20, seed=20251124)
    assert not outcome.failures, "\n".join(outcome.failures)
    assert outcome.stray_processes == 0
    assert outcome.heals >= 20 // 5  # every fifth kill, and after any kill that left a temp file
    # The kills must land inside builds, not after them.
    assert outcome.finished_before_kill < outcome.kills // 2, (outcome, rig.duration)
