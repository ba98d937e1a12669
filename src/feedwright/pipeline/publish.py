"""Write feeds into ``output/`` atomically, and only the files whose bytes changed.

A reader (or a web server) sees either the old file or the new one, never half of one; a file whose bytes are
the same keeps its mtime, so ETag and Last-Modified stay put. Files feedwright wrote before and no longer
produces are removed; anything else in ``output/`` is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PublishError
from .keep import NOTHING_HELD, Group, Hold

MANIFEST = "manifest.json"
# Beside the manifest while a publish runs; found at the start of the next one, it means temp files may be left.
PUBLISHING = "publishing"
_TEMP_NAME = re.compile(r"^\.(.+)\.[a-z0-9_]{8}\.tmp$")  # tempfile.mkstemp(prefix=".<name>.", suffix=".tmp")


@dataclass
class PublishResult:
    """Output-relative paths, by what happened to them."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: temp file in the same folder, fsync, rename."""
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _stage(path: Path, data: bytes) -> str:
    """Write ``data`` to a new temp file beside ``path`` (``.<name>.<random>.tmp``), on disk; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder itself is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def read_manifest(path: Path) -> tuple[list[str], list[Group] | None]:
    """The files feedwright published last, and per feed its files and sources (None: an older manifest)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = [f for f in data["files"] if isinstance(f, str)]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return [], None
    feeds = data.get("feeds")
    if not isinstance(feeds, list) or not all(_is_group(g) for g in feeds):
        return files, None
    return files, feeds


def _is_group(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(k), list) and all(isinstance(v, str) for v in value[k]) for k in ("files", "sources")
    )


def publish(
    files: dict[str, bytes], output: Path, manifest: Path, feeds: list[Group] | None = None, keep: Hold = NOTHING_HELD
) -> PublishResult:
    """Make ``output`` hold exactly ``files`` (output-relative path -> bytes) among the files feedwright owns.

    ``feeds`` (what each feed was built from) goes into the manifest for the next build's :func:`~.keep.hold`;
    the files in ``keep`` are left exactly as they are, neither rewritten nor removed.

    Two steps: every changed file is first written beside its target as a temp file and synced, then all are
    renamed into place. A write that fails (a full disk, a file where a folder should be) therefore changes no
    feed at all; renaming needs no space. Raises :class:`PublishError` if anything cannot be written.
    """
    result = PublishResult()
    # resolve() even when output/ does not exist yet: a symlinked site folder must not look like an escape.
    root = output.resolve()
    marker = manifest.with_name(PUBLISHING)
    staged: list[tuple[str, str]] = []  # (rel, temp file); the temp file is "" once renamed
    files = {rel: data for rel, data in files.items() if rel not in keep.files}
    try:
        previous = read_manifest(manifest)[0]
        kept = [rel for rel in previous if rel in keep.files]
        if marker.exists():  # the last publish was killed: its temp files may still lie beside the feeds
            _sweep_temp_files(output, [*files, *previous])
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        for rel, data in sorted(files.items()):
            target = output / rel
            if root not in target.resolve().parents:
                raise PublishError(f"{target}: refusing to write outside {output}")
            if _same_bytes(target, data):
                result.unchanged.append(rel)
            else:
                staged.append((rel, _stage(target, data)))
        for i, (rel, tmp) in enumerate(staged):
            os.replace(tmp, output / rel)
            staged[i] = (rel, "")
            result.written.append(rel)
        for folder in sorted({(output / rel).parent for rel in result.written}):
            _fsync_dir(folder)
        # Record the new set before deleting: a crash in between leaves only stray old files, never lost ones.
        groups = [g for g in feeds or () if keep.files.isdisjoint(g["files"])] + list(keep.groups)
        record = {"files": sorted({*files, *kept}), "feeds": groups}
        atomic_write(manifest, (json.dumps(record, indent=0, ensure_ascii=False) + "\n").encode())
        for rel in previous:
            if rel not in files and rel not in keep.files:
                _remove(output, rel)
                result.removed.append(rel)
        marker.unlink()
    except OSError as exc:
        raise write_error(exc, output) from None
    finally:
        for _, tmp in staged:
            if tmp:  # written but never renamed: a later write failed
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    return result


def write_error(exc: OSError, fallback: Path) -> PublishError:
    """A write failure as one line naming the file meant (never the hidden temp file), its folder and the fix."""
    where = Path(exc.filename) if exc.filename else fallback
    temp = _TEMP_NAME.match(where.name)
    if temp:
        where = where.parent / temp.group(1)
    folder = where.parent if temp or not where.is_dir() else where
    fixes = {
        errno.ENOSPC: f"free some space on the disk that holds {folder}",
        errno.EDQUOT: f"raise this user's disk quota or free some space under {folder}",
        errno.EACCES: f"make {folder} writable for this user (uid {os.geteuid()})",
        errno.EPERM: f"make {folder} writable for this user (uid {os.geteuid()})",
        errno.EROFS: f"{folder} is on a read-only file system; remount it read-write or set build.output elsewhere",
        errno.EISDIR: f"a folder is in the way of {where}; remove it",
        errno.ENOTDIR: f"a file is in the way of a folder under {folder}; remove it",
        errno.EEXIST: f"a file is in the way of a folder under {folder}; remove it",
    }
    fix = fixes.get(exc.errno or 0, f"check that {folder} exists and is writable")
    return PublishError(f"{where}: cannot write ({exc.strerror or exc}); {fix}")


def _sweep_temp_files(output: Path, owned: list[str]) -> None:
    """Remove the temp files a killed publish left beside feeds feedwright owns; nothing else."""
    names: dict[Path, set[str]] = {}
    for rel in owned:
        target = output / rel
        names.setdefault(target.parent, set()).add(target.name)
    for folder, owned_names in names.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            m = _TEMP_NAME.match(entry.name)
            if m and m.group(1) in owned_names and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _remove(output: Path, rel: str) -> None:
    target = output / rel
    if output.resolve() not in target.resolve().parents:
        return
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    # Drop the folders that only held this feed (categories/<slug>/), never output/ itself.
    folder = target.parent
    while folder != output and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
