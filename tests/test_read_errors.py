"""A read error is an error: unreadable content is reported, exits non-zero, and removes nothing.

Permission cases run the CLI as an unprivileged user (root reads everything): under root they drop to
nobody with ``setpriv``; as any other user they run directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import NOW, copy_example_site, output_files, write_post
from feedwright.build import build
from feedwright.config import load_site
from feedwright.errors import ContentError

NOBODY = 65534


@pytest.fixture
def open_site() -> Iterator[Path]:
    """A copy of the example site in a folder an unprivileged user can reach and own."""
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
    folder = Path(tempfile.mkdtemp(prefix="feedwright-trust-"))
    folder.chmod(0o755)
    site = copy_example_site(folder)
    if os.geteuid() == 0:
        for path in [site, *site.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    yield site
    for path in [site, *site.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``feedwright ARGS --site SITE`` as an unprivileged user."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PYTHONWARNINGS": "ignore",
           "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "feedwright", *args, "--site", str(site)]
    if os.geteuid() == 0:
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/", timeout=120, check=False)


def _post(site: Path, rel: str, title: str) -> None:
    path = write_post(site, rel, {"title": title, "date": "2025-06-01 09:00:00 +0900", "categories": ["Technology"]})
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)


def test_unreadable_category_folder_keeps_its_feeds_byte_for_byte(open_site: Path) -> None:
    first = run(open_site, "build")
    assert first.returncode == 0, first.stderr
    output = open_site / "output"
    before = output_files(output)
    culture = {rel: data for rel, data in before.items() if rel.startswith("categories/culture/")}
    assert culture, "the example site has a culture category feed"
    (open_site / "content" / "culture").chmod(0)
    _post(open_site, "news/2025-06-01-fresh.md", "A fresh story")

    proc = run(open_site, "build")

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "content/culture" in proc.stderr and "Permission denied" in proc.stderr
    after = output_files(output)
    assert {rel: data for rel, data in after.items() if rel.startswith("categories/culture/")} == culture
    # The feeds carrying culture posts are held (site-wide, News); Technology still updates.
    for held in ("rss.xml", "categories/news/rss.xml"):
        assert after[held] == before[held]
    assert b"A fresh story" in after["categories/technology/rss.xml"]
    status = run(open_site, "status")
    assert status.returncode == 1 and "content/culture" in status.stdout

    (open_site / "content" / "culture").chmod(0o755)
    healed = run(open_site, "build")
    assert healed.returncode == 0, healed.stderr
    assert b"A fresh story" in (output / "rss.xml").read_bytes()
    assert output_files(output)["categories/culture/rss.xml"] == culture["categories/culture/rss.xml"]


def test_unreadable_post_keeps_its_feeds(open_site: Path) -> None:
    assert run(open_site, "build").returncode == 0
    output = open_site / "output"
    before = output_files(output)
    post = next((open_site / "content" / "culture").glob("*.md"))
    post.chmod(0)

    proc = run(open_site, "build")

    assert proc.returncode == 1
    assert f"content/culture/{post.name}: cannot read" in proc.stderr
    after = output_files(output)
    held = [rel for rel in before if rel.startswith("categories/culture/") or rel == "atom.xml"]
    assert held and all(after[rel] == before[rel] for rel in held)


def test_unreadable_content_root_removes_nothing(open_site: Path) -> None:
    assert run(open_site, "build").returncode == 0
    output = open_site / "output"
    before = output_files(output)
    (open_site / "content").chmod(0)

    proc = run(open_site, "build")

    assert proc.returncode == 1
    assert "content: cannot list the folder" in proc.stderr
    assert output_files(output) == before
    check = run(open_site, "check")
    assert check.returncode == 1 and "content: cannot list the folder" in check.stderr


def test_empty_content_folder_is_refused_unless_allowed(example_site: Path) -> None:
    from feedwright.cli import main

    assert main(["build", "--quiet", "--site", str(example_site)]) == 0
    output = example_site / "output"
    before = output_files(output)
    shutil.rmtree(example_site / "content")
    (example_site / "content").mkdir()  # an unmounted share: the mount point is there, empty

    with pytest.raises(ContentError, match="no posts found"):
        build(load_site(example_site), now=NOW)
    assert main(["build", "--site", str(example_site)]) == 1
    assert output_files(output) == before

    assert main(["build", "--allow-empty", "--site", str(example_site)]) == 0
    assert json.loads((output / "feed.json").read_text())["items"] == []


def test_manifest_records_each_feeds_sources(example_site: Path) -> None:
    build(load_site(example_site), now=NOW)
    manifest = json.loads((example_site / ".feedwright" / "manifest.json").read_text())
    culture = next(g for g in manifest["feeds"] if "categories/culture/rss.xml" in g["files"])
    assert culture["sources"] and all(s.startswith("culture/") for s in culture["sources"])


def _deny(monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    """``os.scandir`` of any ``.../folder`` fails as an unreadable folder does (root ignores permission bits)."""
    from feedwright.pipeline import collect

    real = collect.os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path).endswith(os.sep + folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(collect.os, "scandir", scandir)


def test_the_daemon_logs_a_read_error_at_error_and_status_shows_it(
    example_site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from feedwright.ops.daemon import Daemon
    from feedwright.ops.schedule import Schedule
    from feedwright.ops.status import read_status

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    site = load_site(example_site)
    daemon = Daemon(site, Schedule(), lock_wait=5)
    daemon._job()
    before = output_files(example_site / "output")
    _deny(monkeypatch, "culture")
    with caplog.at_level(logging.INFO, logger="feedwright"):
        daemon._job()
    monkeypatch.undo()  # os.scandir is the os module's: reading output/ needs the real one
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("content/culture/: cannot list the folder: Permission denied" in e for e in errors), errors
    after = output_files(example_site / "output")
    assert all(after[rel] == data for rel, data in before.items() if rel.startswith("categories/culture/"))
    status = read_status(example_site)
    assert status is not None and status.failed and "content/culture/" in (status.error or "")
    assert status.failures == 1


def test_a_post_unreadable_when_rendered_keeps_its_feeds(
    example_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedwright.pipeline import render

    site = load_site(example_site)
    build(site, now=NOW)
    before = output_files(example_site / "output")
    for path in (example_site / "content" / "culture").glob("*.md"):  # changed: not rendered from the cache
        path.write_text(path.read_text(encoding="utf-8").replace("\n---\n", "\n---\nEdited.\n", 1))
    real = render.read_body

    def flaky(site_: object, post: render.Post) -> tuple[str, str]:
        if post.source.startswith("culture/"):
            raise PermissionError(13, "Permission denied")
        return real(site_, post)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "read_body", flaky)
    report = build(site, now=NOW)

    assert report.unreadable and all(e.path.startswith("content/culture/") for e in report.unreadable)
    after = output_files(example_site / "output")
    assert all(after[rel] == data for rel, data in before.items() if rel.startswith("categories/culture/"))
    assert after["rss.xml"] == before["rss.xml"]
