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


def not_a_folder(folder: Path) -> str | None:
    """The one-line reason ``folder`` cannot hold files when a file stands on its path (``.feedwright`` or
    ``output`` created as a file by mistake), else None. Without it the user reads "File exists" or "Not a
    directory" about a path that does not exist."""
    for path in (folder, *folder.parents):
        try:
            if path.is_dir():
                return None
            if path.exists():
                return f"{path} is a file, not a folder; remove or rename it"
        except OSError:
            return None
    return None


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _read_manifest(path: Path) -> list[str]:
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        return [f for f in files if isinstance(f, str)]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return []


def publish(files: dict[str, bytes], output: Path, manifest: Path) -> PublishResult:
    """Make ``output`` hold exactly ``files`` (output-relative path -> bytes) among the files feedwright owns.

    Two steps: every changed file is first written beside its target as a temp file and synced, then all are
    renamed into place. A write that fails (a full disk, a file where a folder should be) therefore changes no
    feed at all; renaming needs no space. Raises :class:`PublishError` if anything cannot be written.
    """
    result = PublishResult()
    # resolve() even when output/ does not exist yet: a symlinked site folder must not look like an escape.
    root = output.resolve()
    marker = manifest.with_name(PUBLISHING)
    staged: list[tuple[str, str]] = []  # (rel, temp file); the temp file is "" once renamed
    try:
        previous = _read_manifest(manifest)
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
        atomic_write(manifest, (json.dumps({"files": sorted(files)}, indent=0) + "\n").encode())
        for rel in previous:
            if rel not in files:
                _remove(output, rel)
                result.removed.append(rel)
        marker.unlink()
    except OSError as exc:
        where = exc.filename or output
        blocked = not_a_folder(Path(where)) if exc.errno in (errno.ENOTDIR, errno.EEXIST) else None
        raise PublishError(blocked or f"{where}: cannot write ({exc.strerror or exc})") from None
    finally:
        for _, tmp in staged:
            if tmp:  # written but never renamed: a later write failed
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    return result


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
