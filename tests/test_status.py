"""The status file: every cron ``build`` records its run; ``feedwright status`` prints it and says when to worry."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedwright.cli import main
from feedwright.errors import FeedwrightError
from feedwright.ops.status import Status, describe, read_status, status_path, write_status

NOW = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


def _site(root: Path) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "feedwright.toml").write_text('[site]\nurl = "https://example.org/"\n', encoding="utf-8")
    for name in ("a", "b"):
        (root / "content" / f"{name}.md").write_text(f"---\ntitle: {name}\ndate: 2024-01-01\n---\nx\n", "utf-8")
    return root


def test_a_cron_build_records_its_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path / "site")
    (site / "content" / "bad.md").write_text("---\ndate: 2024-01-01\n---\nno title\n", encoding="utf-8")
    assert main(["build", "--site", str(site), "-q"]) == 1
    status = read_status(site)
    assert status is not None
    assert (status.mode, status.outcome, status.error) == ("build", "ok", None)
    assert (status.published, status.rejected, status.feeds_changed, status.next_run) == (2, 1, 3, None)
    assert 0 <= status.duration < 30
    assert abs((datetime.now(UTC) - status.started).total_seconds()) < 60
    capsys.readouterr()
    assert main(["build", "--site", str(site), "-q"]) == 1
    assert read_status(site).feeds_changed == 0  # type: ignore[union-attr]

    assert main(["status", "--site", str(site)]) == 0  # rejected posts are the author's problem, not a failed run
    out = capsys.readouterr().out
    assert "last run: ok" in out and "by feedwright build" in out and "2 published, 1 rejected" in out
    assert main(["status", "--site", str(site), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "ok" and data["healthy"] is True and data["rejected"] == 1


def test_a_failed_cron_build_is_recorded_and_status_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path / "site")
    assert main(["build", "--site", str(site), "-q"]) == 0
    before = (site / "output" / "rss.xml").read_bytes()
    (site / "content" / "c.md").write_text("---\ntitle: c\ndate: 2024-02-01\n---\nx\n", encoding="utf-8")
    (site / "output" / "atom.xml").unlink()
    (site / "output" / "atom.xml").mkdir()  # output/ cannot be written (root ignores chmod, so break a path)
    for attempt in (1, 2):
        assert main(["build", "--site", str(site), "-q"]) == 74
        status = read_status(site)
        assert status is not None and status.outcome == "failed" and status.failures == attempt
        assert "cannot write" in (status.error or "")
    assert (site / "output" / "rss.xml").read_bytes() == before
    capsys.readouterr()
    assert main(["status", "--site", str(site)]) == 1
    out = capsys.readouterr().out
    assert "last run: FAILED" in out and "error: " in out and "failed runs in a row: 2" in out
    assert main(["status", "--site", str(site), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["healthy"] is False

    shutil.rmtree(site / "output" / "atom.xml")
    assert main(["build", "--site", str(site), "-q"]) == 0
    assert read_status(site).failures == 0  # type: ignore[union-attr]
    assert main(["status", "--site", str(site)]) == 0


def test_strict_rejection_is_a_failed_run(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    (site / "content" / "bad.md").write_text("---\ntitle: [1\n---\n", encoding="utf-8")
    assert main(["build", "--site", str(site), "--strict", "-q"]) == 1
    status = read_status(site)
    assert status is not None and status.outcome == "failed" and "--strict" in (status.error or "")


def test_no_status_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--site", str(tmp_path)]) == 1
    assert "no run recorded yet" in capsys.readouterr().err


def test_an_unreadable_status_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = status_path(tmp_path)
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    assert main(["status", "--site", str(tmp_path)]) == 1
    assert "cannot read the status file" in capsys.readouterr().err
    path.write_text('{"version": 99}', encoding="utf-8")
    with pytest.raises(FeedwrightError, match="not understood"):
        read_status(tmp_path)


def test_status_round_trip_and_daemon_lines(tmp_path: Path) -> None:
    status = Status(
        mode="daemon", pid=42, started=NOW, duration=0.41, outcome="ok", published=124, rejected=2, scheduled=1,
        feeds_changed=3, next_run=NOW + timedelta(minutes=10), runs=7, missed=0,
    )
    write_status(tmp_path, status)
    assert read_status(tmp_path) == status
    text = "\n".join(describe(status, NOW + timedelta(seconds=20)))
    assert "by the daemon (pid 42)" in text and "runs by this daemon: 7" in text
    assert "next run: 2025-11-24T16:10:00+00:00 (in 9 min)" in text
    assert not status.overdue(NOW + timedelta(minutes=14))
    assert status.overdue(NOW + timedelta(minutes=16))
    assert "OVERDUE" in "\n".join(describe(status, NOW + timedelta(minutes=16)))


def test_an_overdue_daemon_makes_status_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    write_status(tmp_path, Status(mode="daemon", pid=1, started=long_ago, duration=0.1, outcome="ok",
                                  next_run=long_ago + timedelta(minutes=10)))
    assert main(["status", "--site", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["overdue"] is True


def test_no_status_yet_as_json_is_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json", "--site", str(tmp_path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["healthy"] is False and data["outcome"] == "none" and "no run recorded yet" in data["error"]
