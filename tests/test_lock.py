"""The site lock: one writer at a time, a bounded wait, exit 75 for a cron build that gives up, no stale locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import SLOW_FEEDWRIGHT, wait_for
from feedwright.cli import main
from feedwright.errors import ConfigError, LockTimeout, PublishError
from feedwright.ops.lock import DEFAULT_WAIT, LOCK_NAME, WAIT_ENV, lock_wait, site_lock


def _site(root: Path) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "feedwright.toml").write_text('[site]\nurl = "https://example.org/"\n', encoding="utf-8")
    (root / "content" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nBody\n", encoding="utf-8")
    return root


def test_lock_is_exclusive_and_the_wait_is_bounded(tmp_path: Path) -> None:
    state = tmp_path / ".feedwright"
    with site_lock(state, 0) as path:
        assert path == state / LOCK_NAME
        assert path.read_text().strip() == str(os.getpid())
        start = time.monotonic()
        busy = rf"feedwright process {os.getpid()} is building this site"
        with pytest.raises(LockTimeout, match=busy), site_lock(state, 0.3):
            pass
        assert 0.3 <= time.monotonic() - start < 3
    with site_lock(state, 0):  # released on leaving the block
        pass


def test_a_stop_event_ends_the_wait_early(tmp_path: Path) -> None:
    state, stop = tmp_path / ".feedwright", threading.Event()
    with site_lock(state, 0):
        threading.Timer(0.2, stop.set).start()
        start = time.monotonic()
        with pytest.raises(LockTimeout), site_lock(state, 30, stop=stop):
            pass
        assert time.monotonic() - start < 5


def test_a_waiter_gets_the_lock_when_the_holder_lets_go(tmp_path: Path) -> None:
    state = tmp_path / ".feedwright"
    holder = site_lock(state, 0)
    holder.__enter__()
    threading.Timer(0.3, holder.__exit__, (None, None, None)).start()
    start = time.monotonic()
    with site_lock(state, 10):
        assert time.monotonic() - start >= 0.25


def test_a_killed_holder_never_leaves_a_stale_lock(tmp_path: Path) -> None:
    state = tmp_path / ".feedwright"
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom feedwright.ops.lock import site_lock\n"
        "with site_lock(Path(sys.argv[1]), 0):\n    print('locked', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockTimeout, match=rf"process {proc.pid} "), site_lock(state, 0.1):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    with site_lock(state, 5):  # the kernel released the flock with the process
        pass


def test_an_unusable_state_folder_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / ".feedwright").write_text("a file, not a folder")
    with pytest.raises(PublishError) as info, site_lock(tmp_path / ".feedwright", 0):
        pass
    assert str(info.value) == f"{tmp_path / '.feedwright'} is a file, not a folder; remove or rename it"


def test_a_state_folder_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    (tmp_path / "site").write_text("a file where the site's folder should be")
    with pytest.raises(PublishError) as info, site_lock(tmp_path / "site" / ".feedwright", 0):
        pass
    assert str(info.value) == f"{tmp_path / 'site'} is a file, not a folder; remove or rename it"


def test_lock_wait_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_ENV, raising=False)
    assert lock_wait() == DEFAULT_WAIT == 30
    assert lock_wait(2.5) == 2.5
    monkeypatch.setenv(WAIT_ENV, "0.5")
    assert lock_wait() == 0.5
    assert lock_wait(3) == 3  # the option wins over the environment
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(WAIT_ENV, bad)
        with pytest.raises(ConfigError):
            lock_wait()


def test_cron_build_gives_up_with_exit_75(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path / "site")
    with site_lock(site / ".feedwright", 0):
        start = time.monotonic()
        assert main(["build", "--site", str(site), "-q", "--wait", "0.2"]) == 75
        assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert err.startswith("feedwright: feedwright process") and "gave up after 0.2 s" in err
    assert len(err.strip().splitlines()) == 1
    assert not (site / "output").exists()
    assert main(["build", "--site", str(site), "-q"]) == 0
    assert (site / "output" / "rss.xml").is_file()


def test_the_wait_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path / "site")
    monkeypatch.setenv(WAIT_ENV, "0.1")
    with site_lock(site / ".feedwright", 0):
        assert main(["build", "--site", str(site)]) == 75
    assert "gave up after 0.1 s" in capsys.readouterr().err


def test_two_concurrent_builds_never_interleave(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    trace = tmp_path / "trace.txt"
    env = {**os.environ, "FW_TRACE": str(trace), "FW_DELAY": "0.15"}
    env.pop("SOURCE_DATE_EPOCH", None)
    cmd = [sys.executable, "-c", SLOW_FEEDWRIGHT, "build", "--site", str(site), "-q"]
    first = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: trace.exists() and "start" in trace.read_text(), "the first build to write")
        # A post the first build did not see, so that the second one has something to write too.
        (site / "content" / "b.md").write_text("---\ntitle: B\ndate: 2024-02-01\n---\nMore\n", encoding="utf-8")
        impatient = subprocess.run([*cmd, "--wait", "0.2"], env=env, capture_output=True, text=True, timeout=30)
        assert impatient.returncode == 75, impatient.stderr
        assert "is building this site" in impatient.stderr
        patient = subprocess.run([*cmd, "--wait", "30"], env=env, capture_output=True, text=True, timeout=60)
        assert patient.returncode == 0, patient.stderr
        assert first.wait(30) == 0
    finally:
        first.kill()
    pids = [line.split()[0] for line in trace.read_text().splitlines()]
    assert len(set(pids)) == 2, "both the first and the waiting build wrote"
    switches = sum(a != b for a, b in zip(pids, pids[1:], strict=False))
    assert switches == 1, f"writes interleaved: {trace.read_text()}"
    assert pids[0] == str(first.pid)
    assert "<title>B</title>" in (site / "output" / "rss.xml").read_text()
