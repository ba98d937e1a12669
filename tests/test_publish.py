"""``publish()``: atomic writes, untouched unchanged files, removal of stale feeds only, clean failures."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from conftest import output_files
from feedwright.errors import PublishError
from feedwright.pipeline import publish as publish_module
from feedwright.pipeline.publish import publish

OLD_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09, in nanoseconds

FILES = {
    "rss.xml": b"<rss>site</rss>\n",
    "feed.json": b'{"items": []}\n',
    "categories/news/rss.xml": b"<rss>news</rss>\n",
    "categories/old/rss.xml": b"<rss>old</rss>\n",
    "categories/old/feed.json": b"{}\n",
}


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "site" / "output", tmp_path / "site" / ".feedwright" / "manifest.json"


def _age(path: Path) -> None:
    os.utime(path, ns=(OLD_NS, OLD_NS))


def _leftovers(output: Path) -> list[str]:
    return sorted(p.name for p in output.rglob(".*.tmp"))


def test_first_publish_writes_everything(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    result = publish(FILES, output, manifest)
    assert sorted(result.written) == sorted(FILES) and not result.unchanged and not result.removed
    assert output_files(output) == FILES
    assert json.loads(manifest.read_text())["files"] == sorted(FILES)
    assert all((output / rel).stat().st_mode & 0o777 == 0o644 for rel in FILES)
    assert _leftovers(output) == []


def test_equal_bytes_leave_the_file_untouched(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    for rel in FILES:
        _age(output / rel)
    inode = (output / "rss.xml").stat().st_ino
    changed = {**FILES, "feed.json": b'{"items": [1]}\n'}
    result = publish(changed, output, manifest)
    assert result.written == ["feed.json"]
    assert sorted(result.unchanged) == sorted(set(FILES) - {"feed.json"})
    for rel in FILES:
        stat = (output / rel).stat()
        assert (stat.st_mtime_ns == OLD_NS) == (rel != "feed.json"), rel
    assert (output / "rss.xml").stat().st_ino == inode
    assert (output / "feed.json").read_bytes() == b'{"items": [1]}\n'


def test_write_replaces_the_file_rather_than_rewriting_it(dirs: tuple[Path, Path]) -> None:
    """A reader that opened the old file keeps reading the whole old file: the new one is renamed in."""
    output, manifest = dirs
    big = {"rss.xml": b"<rss>" + b"a" * 100_000 + b"</rss>"}
    publish(big, output, manifest)
    with (output / "rss.xml").open("rb") as reader:
        publish({"rss.xml": b"<rss>new</rss>"}, output, manifest)
        assert reader.read() == big["rss.xml"]
    assert (output / "rss.xml").read_bytes() == b"<rss>new</rss>"
    assert _leftovers(output) == []


def test_stale_feeds_and_their_empty_folders_are_removed(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    (output / "index.html").write_text("<h1>home</h1>")
    (output / "categories" / "news" / "notes.txt").write_text("mine")
    keep = {k: v for k, v in FILES.items() if not k.startswith("categories/")}
    result = publish(keep, output, manifest)
    assert sorted(result.removed) == sorted(set(FILES) - set(keep))
    assert not (output / "categories" / "old").exists()
    # A folder that still holds a file feedwright never wrote stays, with that file.
    assert (output / "categories" / "news" / "notes.txt").read_text() == "mine"
    assert not (output / "categories" / "news" / "rss.xml").exists()
    assert (output / "index.html").read_text() == "<h1>home</h1>"
    assert json.loads(manifest.read_text())["files"] == sorted(keep)


def test_removal_keeps_output_itself(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    publish({"rss.xml": b"x"}, output, manifest)
    result = publish({}, output, manifest)
    assert result.removed == ["rss.xml"]
    assert output.is_dir() and list(output.iterdir()) == []


def test_files_not_in_the_manifest_are_never_removed(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    output.mkdir(parents=True)
    (output / "atom.xml").write_bytes(b"hand-made")
    (output / "index.html").write_bytes(b"home")
    publish({"rss.xml": b"x"}, output, manifest)
    publish({"feed.json": b"{}"}, output, manifest)
    assert output_files(output) == {"atom.xml": b"hand-made", "index.html": b"home", "feed.json": b"{}"}


def test_a_manifest_entry_outside_output_is_not_removed(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    output, manifest = dirs
    victim = tmp_path / "site" / "precious.txt"
    publish({"rss.xml": b"x"}, output, manifest)
    victim.write_text("keep")
    manifest.write_text(json.dumps({"files": ["rss.xml", "../precious.txt"]}))
    publish({"rss.xml": b"x"}, output, manifest)
    assert victim.read_text() == "keep"


@pytest.mark.parametrize("rel", ["../escape.xml", "categories/../../escape.xml", "/tmp/feedwright-escape.xml"])
def test_refuses_paths_escaping_output(dirs: tuple[Path, Path], rel: str) -> None:
    output, manifest = dirs
    output.mkdir(parents=True)
    with pytest.raises(PublishError, match="refusing to write outside"):
        publish({rel: b"x"}, output, manifest)
    assert not (output.parent / "escape.xml").exists()
    assert not Path("/tmp/feedwright-escape.xml").exists()


def test_refuses_writing_through_a_symlink_leaving_output(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    output, manifest = dirs
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    output.mkdir(parents=True)
    (output / "categories").symlink_to(elsewhere)
    with pytest.raises(PublishError):
        publish({"categories/news/rss.xml": b"x"}, output, manifest)
    assert list(elsewhere.iterdir()) == []


def test_site_reached_through_a_symlink_publishes(tmp_path: Path) -> None:
    """First build, output/ not there yet, site folder given through a symlink (macOS /tmp, ~/site links)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    publish({"rss.xml": b"x"}, tmp_path / "link" / "output", tmp_path / "link" / "manifest.json")
    assert (tmp_path / "real" / "output" / "rss.xml").read_bytes() == b"x"


def test_output_that_is_a_file_raises_publish_error(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    output.parent.mkdir(parents=True)
    output.write_bytes(b"not a folder")
    with pytest.raises(PublishError) as info:
        publish(FILES, output, manifest)
    assert not isinstance(info.value, OSError)
    assert output.read_bytes() == b"not a folder"
    assert not manifest.exists()


def test_disk_full_raises_publish_error_and_keeps_old_files(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    before, manifest_before = output_files(output), manifest.read_bytes()

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(publish_module.os, "replace", full)
    newer = {rel: data + b"<!-- v2 -->" for rel, data in FILES.items() if "old" not in rel}
    with pytest.raises(PublishError, match="No space left on device"):
        publish(newer, output, manifest)
    assert output_files(output) == before
    assert manifest.read_bytes() == manifest_before
    assert _leftovers(output) == []


def test_read_only_output_raises_publish_error(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    before = output_files(output)
    output.chmod(0o555)
    try:
        if os.access(output, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        with pytest.raises(PublishError):
            publish({"rss.xml": b"changed"}, output, manifest)
    finally:
        output.chmod(0o755)
    assert output_files(output) == before


def test_every_stray_temp_file_is_swept_even_where_no_feed_is_left(dirs: tuple[Path, Path]) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    # A publish killed after staging a feed for a category that has since disappeared (never in the manifest),
    # and one killed beside a feed that still exists: what a SIGKILL leaves, marker included.
    manifest.with_name(publish_module.PUBLISHING).touch()
    gone = output / "categories" / "gone"
    gone.mkdir(parents=True)
    (gone / ".rss.xml.k3j_x9q2.tmp").write_bytes(b"half")
    (output / ".rss.xml.ab12cd34.tmp").write_bytes(b"half")
    # Not feedwright's: another naming, a folder of its own, a symlink.
    mine = output / "mine"
    mine.mkdir()
    (mine / "notes.tmp").write_bytes(b"keep")
    (output / ".htaccess").write_bytes(b"keep")
    (output / ".feed.json.zzzzzzzz.tmp.bak").write_bytes(b"keep")
    os.symlink(output / ".htaccess", output / ".atom.xml.linklink.tmp")
    publish(FILES, output, manifest)
    assert _leftovers(output) == [".atom.xml.linklink.tmp"]
    assert not manifest.with_name(publish_module.PUBLISHING).exists()
    assert not gone.exists() and (output / "categories").is_dir()
    assert (mine / "notes.tmp").read_bytes() == (output / ".htaccess").read_bytes() == b"keep"
    assert (output / ".feed.json.zzzzzzzz.tmp.bak").exists()


def test_changes_are_published_in_bounded_batches(dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    output, manifest = dirs
    publish(FILES, output, manifest)
    monkeypatch.setattr(publish_module, "BATCH_BYTES", 40)
    real_replace, staged_at_rename = os.replace, []

    def replace(src: str, dst: str) -> None:
        if Path(dst).parent.is_relative_to(output):
            staged_at_rename.append(len(_leftovers(output)))
        real_replace(src, dst)

    monkeypatch.setattr(publish_module.os, "replace", replace)
    newer = {rel: data + b"<!-- v2 -->" for rel, data in FILES.items()} | {"categories/new/rss.xml": b"<rss/>\n"}
    result = publish(newer, output, manifest)
    assert output_files(output) == newer
    assert sorted(result.written) == sorted(newer)
    assert max(staged_at_rename) <= 2  # 27-29 bytes a file: at most two staged at once, never all six
    assert json.loads(manifest.read_text())["files"] == sorted(newer)


def test_a_failure_between_batches_leaves_whole_files_and_owns_the_new_ones(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    output, manifest = dirs
    publish({"rss.xml": b"<rss>site</rss>\n"}, output, manifest)
    monkeypatch.setattr(publish_module, "BATCH_BYTES", 1)  # one file a batch
    real_stage = publish_module._stage

    def stage(path: Path, data: bytes) -> str:
        if path == output / "rss.xml":  # the second batch
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real_stage(path, data)

    monkeypatch.setattr(publish_module, "_stage", stage)
    newer = {"categories/a/rss.xml": b"<rss>a</rss>\n", "rss.xml": b"<rss>v2</rss>\n"}
    with pytest.raises(PublishError, match="Input/output error"):
        publish(newer, output, manifest)
    assert output_files(output) == {"categories/a/rss.xml": b"<rss>a</rss>\n", "rss.xml": b"<rss>site</rss>\n"}
    assert _leftovers(output) == []
    # The new feed is owned already: a later build that no longer produces it removes it.
    monkeypatch.setattr(publish_module, "_stage", real_stage)
    publish({"rss.xml": b"<rss>v3</rss>\n"}, output, manifest)
    assert output_files(output) == {"rss.xml": b"<rss>v3</rss>\n"}
