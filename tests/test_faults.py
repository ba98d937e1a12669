"""Disk faults and damaged state: the old feeds stay intact, the error is one line, the next good build heals.

We run as root, so a read-only folder does not stop a write: faults are made with a regular file where a folder
should be, with ``os.fsync`` failing with ENOSPC in-process, and (when this process may mount) a real, small
tmpfs that fills up, or that is remounted read-only.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import NOW, make_site, output_files, run_build, write_post
from feedwright.cli import main
from feedwright.errors import PublishError
from feedwright.pipeline import publish as publish_module

ENV_NOW = str(int(NOW.timestamp()))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small site built once (version 1); its content then changed so that every feed changes (version 2)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", ENV_NOW)
    root = make_site(tmp_path / "site")
    for i in range(6):
        write_post(root, f"2024-01-0{i + 1}-post-{i}.md", {"title": f"Post {i}", "categories": ["news", f"c{i % 2}"]})
    write_post(root, "undated.md", {"title": "No date of its own"})
    assert main(["build", "--site", str(root), "-q"]) == 0
    for i in range(6):
        write_post(root, f"2024-01-0{i + 1}-post-{i}.md", {"title": f"Post {i}, corrected",
                                                          "categories": ["news", f"c{i % 2}"]})
    return root


def _reference(site: Path, tmp_path: Path) -> dict[str, bytes]:
    """What a clean build of the site's current content (and state) gives."""
    copy = tmp_path / "reference"
    shutil.copytree(site, copy)
    shutil.rmtree(copy / "output", ignore_errors=True)
    run_build(copy)
    return output_files(copy / "output")


def _temp_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob(".*.tmp"))


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_disk_full_while_writing_changes_no_feed_and_the_next_build_heals(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = output_files(site / "output")
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 3:  # the state and a few feeds get through, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    capsys.readouterr()
    assert main(["build", "--site", str(site)]) == 74
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("feedwright: ") and "No space left on device" in line
    assert output_files(site / "output") == before  # not one feed changed: all are written before any is renamed
    assert _temp_files(site / "output") == []
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert main(["build", "--site", str(site), "-q"]) == 0
    assert output_files(site / "output") == _reference(site, tmp_path)
    assert _temp_files(site / "output") == []


def test_rename_failing_half_way_leaves_each_file_whole(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = output_files(site / "output")
    real_replace, calls = os.replace, []

    def replace(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) > 4:
            raise OSError(errno.EIO, "Input/output error", dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PublishError, match="Input/output error"):
        run_build(site)
    after = output_files(site / "output")
    assert after.keys() == before.keys()
    assert any(after[rel] != before[rel] for rel in after)  # some were renamed ...
    assert any(after[rel] == before[rel] for rel in after)  # ... and the rest are the old files, whole
    assert _temp_files(site / "output") == []


def test_a_file_where_a_feed_folder_should_be(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = output_files(site / "output")
    blocker = site / "output" / "categories" / "c1"
    shutil.rmtree(blocker)
    blocker.write_bytes(b"someone else's file")
    before = {rel: data for rel, data in before.items() if not rel.startswith("categories/c1/")}
    capsys.readouterr()
    assert main(["build", "--site", str(site)]) == 74
    line = _one_line(capsys.readouterr().err)
    assert line == f"feedwright: {blocker} is a file, not a folder; remove or rename it"
    assert output_files(site / "output") == {**before, "categories/c1": b"someone else's file"}
    assert _temp_files(site / "output") == []
    blocker.unlink()
    assert main(["build", "--site", str(site), "-q"]) == 0
    assert output_files(site / "output") == _reference(site, tmp_path)


def test_output_that_is_a_file_exits_74_and_heals(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(site / "output")
    (site / "output").write_bytes(b"not a folder")
    capsys.readouterr()
    assert main(["build", "--site", str(site)]) == 74
    line = _one_line(capsys.readouterr().err)
    assert line == f"feedwright: {site / 'output'} is a file, not a folder; remove or rename it"
    assert (site / "output").read_bytes() == b"not a folder"
    (site / "output").unlink()
    assert main(["build", "--site", str(site), "-q"]) == 0


def test_state_folder_that_is_a_file_exits_74(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = output_files(site / "output")
    shutil.rmtree(site / ".feedwright")
    (site / ".feedwright").write_bytes(b"not a folder")
    capsys.readouterr()
    message = f"{site / '.feedwright'} is a file, not a folder; remove or rename it"
    assert main(["build", "--site", str(site)]) == 74
    assert _one_line(capsys.readouterr().err) == f"feedwright: {message}"  # was "cannot create the lock file"
    assert main(["status", "--site", str(site)]) == 1
    assert _one_line(capsys.readouterr().err) == f"feedwright: {message}"
    with pytest.raises(PublishError) as info:  # the library, without the lock: the first state write says it
        run_build(site)
    assert str(info.value) == message
    assert output_files(site / "output") == before


def _can_mount_tmpfs(path: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True)
    return result.returncode == 0


@pytest.fixture
def tmpfs_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty site whose output/ is a 64 KiB tmpfs (skips where this process may not mount)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", ENV_NOW)
    root = make_site(tmp_path / "site")
    (root / "output").mkdir()
    if not _can_mount_tmpfs(root / "output"):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root / "output")], check=False)


def _remount(root: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(root / "output")], check=True)


def test_a_real_full_disk(tmpfs_site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Version 1 fits on the 64 KiB output/, version 2 does not; after growing the disk the build heals."""
    root = tmpfs_site
    write_post(root, "a.md", {"title": "Small", "date": "2024-01-01"})
    assert main(["build", "--site", str(root), "-q"]) == 0
    before = output_files(root / "output")
    write_post(root, "a.md", {"title": "Large", "date": "2024-01-01"}, body="Lorem ipsum dolor. " * 3000)
    capsys.readouterr()
    assert main(["build", "--site", str(root)]) == 74
    assert "No space left on device" in _one_line(capsys.readouterr().err)
    assert output_files(root / "output") == before
    assert _temp_files(root / "output") == []
    _remount(root, "size=8m")
    assert main(["build", "--site", str(root), "-q"]) == 0
    assert "Lorem ipsum" in (root / "output" / "feed.json").read_text(encoding="utf-8")


def _big_posts(root: Path, tag: str) -> None:
    for i in range(8):
        write_post(root, f"p{i}.md", {"title": f"P{i} {tag}", "date": f"2024-01-0{i + 1}", "categories": [f"c{i}"]},
                   body=f"{tag} lorem ipsum dolor sit amet {i}. " * 200)


def test_a_disk_without_room_for_both_versions_still_publishes(
    tmpfs_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """About 410 KB of feeds on a 640 KiB output/: the old and the new version of every feed do not fit at once
    (staging everything before renaming could never publish again), one batch beside the old files does."""
    root = tmpfs_site
    _remount(root, "size=640k")
    _big_posts(root, "one")
    assert main(["build", "--site", str(root), "-q"]) == 0
    before = output_files(root / "output")
    _big_posts(root, "two")
    monkeypatch.setattr(publish_module, "BATCH_BYTES", 10**9)  # everything staged at once, as before
    capsys.readouterr()
    assert main(["build", "--site", str(root)]) == 74
    line = _one_line(capsys.readouterr().err)
    assert "No space left on device" in line and f"publishing needs about 0.4 MB free in {root / 'output'} (" in line
    assert output_files(root / "output") == before and _temp_files(root / "output") == []
    monkeypatch.setattr(publish_module, "BATCH_BYTES", 100_000)
    assert main(["build", "--site", str(root), "-q"]) == 0
    assert output_files(root / "output") == _reference(root, tmp_path)
    assert b"P7 two" in (root / "output" / "categories" / "c7" / "feed.json").read_bytes()
    assert _temp_files(root / "output") == []


def test_a_read_only_output_exits_74_keeps_the_feeds_and_heals(
    tmpfs_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """output/ remounted read-only: even root cannot write there (EROFS)."""
    root = tmpfs_site
    write_post(root, "a.md", {"title": "First", "date": "2024-01-01"})
    assert main(["build", "--site", str(root), "-q"]) == 0
    before = output_files(root / "output")
    _remount(root, "ro")
    write_post(root, "b.md", {"title": "Second", "date": "2024-01-02"})
    capsys.readouterr()
    assert main(["build", "--site", str(root)]) == 74
    assert "Read-only file system" in _one_line(capsys.readouterr().err)
    assert output_files(root / "output") == before
    _remount(root, "rw")
    assert main(["build", "--site", str(root), "-q"]) == 0
    assert "Second" in (root / "output" / "feed.json").read_text(encoding="utf-8")
    assert _temp_files(root / "output") == []


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00\xff garbage",
        b"[1, 2, 3]",
        b'{"version": 1, "posts": {"x": ',  # truncated
        b'{"version": 0, "posts": {}}',  # an older format
        b'{"version": 99, "posts": {}}',  # a newer one
        b'{"version": 1, "posts": []}',
        b'{"version": 1, "posts": {"undated.md": {"first_seen": "0001-01-01T00:00:00+14:00"}}}',
        b'{"version": 1, "posts": {"undated.md": {"first_seen": "yesterday"}, "a.md": 7}}',
        b"[" * 100_000,
    ],
    ids=["empty", "garbage", "list", "truncated", "older", "newer", "posts-list", "overflow", "bad-entries", "deep"],
)
def test_damaged_state_is_rebuilt_and_given_dates_do_not_move(site: Path, damage: bytes) -> None:
    good = run_build(site)
    state = site / ".feedwright" / "state.json"
    state.write_bytes(damage)
    report = run_build(site)
    assert report.result is not None  # published
    if damage not in (b'{"version": 1, "posts": {"undated.md": {"first_seen": "0001-01-01T00:00:00+14:00"}}}',
                      b'{"version": 1, "posts": {"undated.md": {"first_seen": "yesterday"}, "a.md": 7}}'):
        assert any("state" in w for w in report.warnings), report.warnings
    kept = {p.source: (p.id, p.published) for p in good.collection.posts if p.source != "undated.md"}
    assert {p.source: (p.id, p.published) for p in report.collection.posts if p.source != "undated.md"} == kept
    assert json.loads(state.read_bytes())["version"] == 1  # rewritten in the current format


def test_damaged_manifest_is_not_fatal(site: Path) -> None:
    (site / ".feedwright" / "manifest.json").write_bytes(b"[" * 100_000)
    assert run_build(site).result is not None
