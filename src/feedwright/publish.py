"""Write feeds into ``output/`` atomically, and only the files whose bytes changed.

A reader (or a web server) sees either the old file or the new one, never half of one; a file whose bytes are
the same keeps its mtime, so ETag and Last-Modified stay put. Files feedwright wrote before and no longer
produces are removed; anything else in ``output/`` is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PublishError

MANIFEST = "manifest.json"


@dataclass
class PublishResult:
    """Output-relative paths, by what happened to them."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


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


def _read_manifest(path: Path) -> list[str]:
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        return [f for f in files if isinstance(f, str)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def publish(files: dict[str, bytes], output: Path, manifest: Path) -> PublishResult:
    """Make ``output`` hold exactly ``files`` (output-relative path -> bytes) among the files feedwright owns.

    Raises :class:`PublishError` if anything cannot be written; files already replaced are complete.
    """
    result = PublishResult()
    # resolve() even when output/ does not exist yet: a symlinked site folder must not look like an escape.
    root = output.resolve()
    try:
        for rel, data in sorted(files.items()):
            target = output / rel
            if root not in target.resolve().parents:
                raise PublishError(f"{target}: refusing to write outside {output}")
            if _same_bytes(target, data):
                result.unchanged.append(rel)
            else:
                atomic_write(target, data)
                result.written.append(rel)
        previous = _read_manifest(manifest)
        # Record the new set before deleting: a crash in between leaves only stray old files, never lost ones.
        atomic_write(manifest, (json.dumps({"files": sorted(files)}, indent=0) + "\n").encode())
        for rel in previous:
            if rel not in files:
                _remove(output, rel)
                result.removed.append(rel)
    except OSError as exc:
        where = exc.filename or output
        raise PublishError(f"{where}: cannot write ({exc.strerror or exc})") from None
    return result


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
