"""Write feeds into ``output/`` atomically, and only the files whose bytes changed.

A reader (or a web server) sees either the old file or the new one, never half of one; a file whose bytes are
the same keeps its mtime, so ETag and Last-Modified stay put. Files feedwright wrote before and no longer
produces are removed; anything else in ``output/`` is never touched, except stray temp files of feedwright's
own naming, which a killed publish leaves behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PublishError
from .keep import NOTHING_HELD, Group, Hold

MANIFEST = "manifest.json"
# Beside the manifest while a publish runs; found at the start of the next one, it means temp files may be left.
PUBLISHING = "publishing"
_TEMP_NAME = re.compile(r"^\.(.+)\.[a-z0-9_]{8}\.tmp$")  # tempfile.mkstemp(prefix=".<name>.", suffix=".tmp")
# Changed files are staged and renamed this many bytes at a time. Staging all of them first would need room for
# the old and the new version of every changed file at once: a disk with less free space than that could never
# publish again. A site whose changes fit in one batch (most) still changes no feed at all when a write fails.
BATCH_BYTES = 32 * 1024 * 1024
_FULL = (errno.ENOSPC, errno.EDQUOT)


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
    files: dict[str, bytes], output: Path, manifest: Path, feeds: list[Group] | None = None, keep: Hold = NOTHING_HELD,
    same: frozenset[str] = frozenset(),
) -> PublishResult:
    """Make ``output`` hold exactly ``files`` (output-relative path -> bytes) among the files feedwright owns.

    ``feeds`` (what each feed was built from) goes into the manifest for the next build's :func:`~.keep.hold`;
    the files in ``keep`` are left exactly as they are, neither rewritten nor removed. The files in ``same`` are
    known to hold this build's bytes already (archive documents the cache vouches for): they are neither read nor
    written, and count as unchanged.

    Changed files go in batches of at most :data:`BATCH_BYTES` (one file may exceed it): every file of a batch
    is first written beside its target as a temp file and synced, then all are renamed into place. A write that
    fails (a full disk, a file where a folder should be) therefore changes no feed of its batch, and none at all
    when the changes fit in one batch; renaming needs no space. Raises :class:`PublishError` if anything cannot
    be written; a full disk's message says how much free space publishing needs.
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
        # Only a killed publish leaves temp files (also in folders of feeds that are gone since), and it leaves
        # the marker: the walk of output/ is not paid on every build (0.2 s for 2,000 categories, busy machine).
        if marker.exists():
            sweep_temp_files(output)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        result.unchanged += sorted(same - keep.files)
        batches = _batches(_changed(files, output, root, result))
        if len(batches) > 1:  # a failure between batches leaves new files in place: own them before writing any
            atomic_write(manifest, (json.dumps({"files": sorted({*previous, *files})}, indent=0) + "\n").encode())
        for batch in batches:
            _stage_batch(batch, output, staged)
            for i, (rel, tmp) in enumerate(staged):
                os.replace(tmp, output / rel)
                staged[i] = (rel, "")
                result.written.append(rel)
            staged.clear()
        for folder in sorted({(output / rel).parent for rel in result.written}):
            _fsync_dir(folder)
        # Record the new set before deleting: a crash in between leaves only stray old files, never lost ones.
        groups = [g for g in feeds or () if keep.files.isdisjoint(g["files"])] + list(keep.groups)
        record = {"files": sorted({*files, *kept, *same}), "feeds": groups}
        atomic_write(manifest, (json.dumps(record, indent=0, ensure_ascii=False) + "\n").encode())
        for rel in previous:
            if rel not in files and rel not in keep.files and rel not in same:
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


def _changed(files: dict[str, bytes], output: Path, root: Path, result: PublishResult) -> list[tuple[str, bytes]]:
    """The files whose bytes differ from what ``output`` holds, in path order; the others go to ``result``."""
    changed: list[tuple[str, bytes]] = []
    for rel, data in sorted(files.items()):
        target = output / rel
        if root not in target.resolve().parents:
            raise PublishError(f"{target}: refusing to write outside {output}")
        if _same_bytes(target, data):
            result.unchanged.append(rel)
        else:
            changed.append((rel, data))
    return changed


def _meant(path: Path) -> Path:
    """The file a hidden temp file was staged for (users never asked for ``.rss.xml.x1y2z3w4.tmp``)."""
    temp = _TEMP_NAME.match(path.name)
    return path.parent / temp.group(1) if temp else path


def write_error(exc: OSError, fallback: Path) -> PublishError:
    """A write failure as one line naming the file meant (never the hidden temp file), its folder and the fix."""
    where = _meant(Path(exc.filename) if exc.filename else fallback)
    blocked = not_a_folder(where) if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT) else None
    if blocked:
        return PublishError(blocked)
    folder = where.parent if where != Path(exc.filename or fallback) or not where.is_dir() else where
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


def _batches(changed: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    batches: list[list[tuple[str, bytes]]] = [[]]
    size = 0
    for rel, data in changed:
        if batches[-1] and size + len(data) > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append((rel, data))
        size += len(data)
    return [batch for batch in batches if batch]


def _stage_batch(batch: list[tuple[str, bytes]], output: Path, staged: list[tuple[str, str]]) -> None:
    """Stage every file of ``batch`` into ``staged``; a full disk raises a :class:`PublishError` with the need."""
    try:
        for rel, data in batch:
            staged.append((rel, _stage(output / rel, data)))
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        for _, tmp in staged:  # freed first, so that the free space reported is what the next build finds
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        staged.clear()
        raise PublishError(_no_space(exc, output, batch)) from None


def _no_space(exc: OSError, output: Path, batch: list[tuple[str, bytes]]) -> str:
    # Each temp file takes its size rounded up to whole blocks; 4 KiB is the common block size.
    need = sum(-(-len(data) // 4096) * 4096 for _, data in batch)
    try:
        free = f"{_mb(shutil.disk_usage(output).free)} free"
    except OSError:
        free = "free space unknown"
    return (f"{_meant(Path(exc.filename or output))}: cannot write ({exc.strerror or exc}); publishing needs about "
            f"{_mb(need)} free in {output} ({free})")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{-(-size // 1000)} kB"


def sweep_temp_files(output: Path) -> list[str]:
    """Remove every temp file of feedwright's naming under ``output`` (a killed publish leaves them beside the
    feeds, also in the folder of a feed that is gone since) and the folders that held only those; nothing else.
    Returns the paths removed."""
    removed: list[str] = []
    for folder, _dirs, names in os.walk(output, topdown=False):
        for name in names:
            path = os.path.join(folder, name)
            if _TEMP_NAME.match(name) and os.path.isfile(path) and not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed.append(path)
        if removed and folder != str(output) and removed[-1].startswith(folder + os.sep):
            with contextlib.suppress(OSError):  # only if now empty: a folder that holds anything else stays
                os.rmdir(folder)
    return removed


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
