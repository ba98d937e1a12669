"""The cache is one unit and is never trusted (issue 15): whatever point its save is killed at, whichever of its
files is restored from an older build or edited, the next build writes the bytes of a build without a cache.

The kills are injected, not timed: a forked child builds and ends itself with ``os._exit`` just before its n-th
write (or deletion) in the cache, for every n, and once more with the n-th file staged but not renamed.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import SEED, output_files, run_build, write_post
from feedwright.incremental.store import CACHE_DIR, KEY_FILE, MANIFEST, _opened, _sealed
from feedwright.pipeline import publish

HELD_BACK = "Held back by its author"
KILLED, FINISHED = 137, 0


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder in memory where there is one (/dev/shm): dozens of builds fsync hundreds of files."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="feedwright-kill-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _posts(site: Path) -> list[Path]:
    return sorted(p for p in (site / "content").rglob("*.md"))


def _change(site: Path) -> None:
    """The same number of posts, at other places in the walk: a draft first, the last post gone, SEED edited.

    A plan that took posts by their place in the list would now carry the draft."""
    _posts(site)[-1].unlink()
    write_post(site, "0-draft.md", {"title": HELD_BACK, "date": "2025-11-20", "draft": True, "categories": ["New"]})
    path = site / "content" / SEED
    path = path if path.exists() else _posts(site)[0]  # (scripts/cache_kill_test.py: a generated site)
    path.write_text(path.read_text(encoding="utf-8") + "\nA correction.\n", encoding="utf-8")


def _same_as_a_clean_build(site: Path, tmp: Path) -> None:
    """Build ``site`` (with whatever cache it has) and a copy without cache or output; the bytes must agree."""
    twin = tmp / f"clean-{len(list(tmp.iterdir()))}"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    run_build(site)
    run_build(twin)
    got, expected = output_files(site / "output"), output_files(twin / "output")
    assert got == expected
    assert not [name for name, data in got.items() if HELD_BACK.encode() in data]
    assert (site / ".feedwright/state.json").read_bytes() == (twin / ".feedwright/state.json").read_bytes()


def _in_cache(site: Path, path: object) -> bool:
    path = Path(os.fspath(path))  # type: ignore[arg-type]
    return path.parent == site / ".feedwright" / CACHE_DIR or path.name == KEY_FILE


def _killed_build(site: Path, at: int, staged: bool) -> bool:
    """Build ``site`` in a forked child that dies at its ``at``-th write or deletion in the cache (``staged``:
    with that file written beside its final name, not renamed). True if it died, False if it finished first."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            count = 0
            real_write, real_unlink = publish.atomic_write, os.unlink

            def event(path: object) -> None:
                nonlocal count
                if _in_cache(site, path):
                    count += 1
                    if count == at:
                        os._exit(KILLED)

            def write(path: Path, data: bytes) -> None:
                if staged and _in_cache(site, path) and count + 1 == at:
                    publish._stage(path, data)
                event(path)
                real_write(path, data)

            def unlink(path: object, *args: object, **kwargs: object) -> None:
                event(path)
                real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

            real_replace = os.replace

            def replace(src: object, dst: object, *args: object, **kwargs: object) -> None:
                if Path(os.fspath(dst)).name == KEY_FILE:  # type: ignore[arg-type]  # the key: not by atomic_write
                    event(dst)
                real_replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

            publish.atomic_write = write  # type: ignore[assignment]
            os.unlink = unlink  # type: ignore[assignment]
            os.replace = replace  # type: ignore[assignment]
            run_build(site)
            status = FINISHED
        finally:
            os._exit(status)
    _, code = os.waitpid(pid, 0)
    assert os.WIFEXITED(code) and os.WEXITSTATUS(code) in (KILLED, FINISHED), f"child failed: {code}"
    return os.WEXITSTATUS(code) == KILLED


def _clean_output(site: Path, tmp: Path) -> dict[str, bytes]:
    """What a build without a cache writes for ``site`` as it is now (state included)."""
    twin = tmp / f"clean-{len(list(tmp.iterdir()))}"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    run_build(twin)
    return output_files(twin / "output")


def every_kill(prepare: Callable[[Path], None], site: Path, tmp: Path, staged: bool) -> int:
    """For each write or deletion of the cache's save: ``site`` prepared by ``prepare``, its build killed there,
    then healed by the next build, which must write what a build without a cache writes (and no draft).
    Returns how many kills there were.

    Every build runs in the same folder (restored from a snapshot each time): the cache is only ever reused by
    a build of the same site, so a copy elsewhere would not reuse what the killed build left."""
    work, snapshot = tmp / "work", tmp / "snapshot"
    _copy(site, work)
    prepare(work)
    _copy(work, snapshot)
    run_build(work)  # the state.json any killed build of it leaves behind
    expected = _clean_output(work, tmp)
    assert not [name for name, data in expected.items() if HELD_BACK.encode() in data]
    for at in range(1, 1000):
        shutil.rmtree(work)
        _copy(snapshot, work)
        if not _killed_build(work, at, staged):
            return at - 1
        run_build(work)
        assert output_files(work / "output") == expected, f"killed at {'staged ' * staged}write {at}"
    raise AssertionError("the save never finished")


def _built_and_changed(site: Path) -> None:
    run_build(site)  # a cache to replace, and files the save must sweep
    _change(site)


def _copy(site: Path, to: Path) -> Path:
    shutil.copytree(site, to)
    return to


# (scripts/cache_kill_test.py runs these with the n-th file also staged but not renamed, and on larger sites.)
def test_a_kill_at_any_write_of_the_first_save_heals(example_site: Path, fast_tmp: Path) -> None:
    assert every_kill(lambda site: None, example_site, fast_tmp, staged=False) >= 4


def test_a_kill_at_any_write_of_a_save_heals_and_never_publishes_a_draft(example_site: Path, fast_tmp: Path) -> None:
    assert every_kill(_built_and_changed, example_site, fast_tmp, staged=False) >= 6


def _plan_files(site: Path) -> list[Path]:
    return sorted((site / ".feedwright" / CACHE_DIR).glob("plan*.pickle"))


def test_the_previous_builds_plan_restored_is_not_used(example_site: Path, tmp_path: Path) -> None:
    # The reproduction from issue 15: the plan file of the build before, beside this build's post records.
    run_build(example_site)
    (old,) = [p.read_bytes() for p in _plan_files(example_site)]
    _change(example_site)
    run_build(example_site)
    for path in _plan_files(example_site):
        path.write_bytes(old)
    _same_as_a_clean_build(example_site, tmp_path)


def _entries_file(site: Path) -> Path:
    raw = (site / ".feedwright" / CACHE_DIR / MANIFEST).read_bytes()
    body = _opened((site / ".feedwright" / KEY_FILE).read_bytes(), raw)
    assert body is not None
    return site / ".feedwright" / CACHE_DIR / json.loads(body.tobytes())["parts"]["entries"][0]


def _with_script(data: bytes) -> bytes:
    entries = pickle.loads(data)
    return pickle.dumps({k: ('<p>hi</p><script>alert("owned")</script>', *v[1:]) for k, v in entries.items()})


@pytest.mark.parametrize("seal", ["kept", "another-key", "no-key-file"])
def test_a_tampered_cache_entry_never_reaches_a_feed(example_site: Path, tmp_path: Path, seal: str) -> None:
    run_build(example_site)
    path = _entries_file(example_site)
    raw = path.read_bytes()
    header = len(b"feedwright-cache\n") + 32
    forged = _with_script(raw[header:])
    if seal == "kept":  # the MAC of the genuine file, in front of other bytes
        path.write_bytes(raw[:header] + forged)
    else:  # sealed properly, under a key of the forger's own (a CI cache from another branch or machine)
        path.write_bytes(_sealed(os.urandom(32), forged)[0])
    if seal == "no-key-file":
        (example_site / ".feedwright" / KEY_FILE).unlink()
    path.parent.joinpath("note").write_text("")  # not ours: never swept
    twin = tmp_path / "clean"
    shutil.copytree(example_site, twin, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    report = run_build(example_site, write=True)
    run_build(twin)
    assert any("authentication" in w for w in report.warnings), report.warnings
    assert output_files(example_site / "output") == output_files(twin / "output")
    assert not [name for name, data in output_files(example_site / "output").items() if b"owned" in data]
    assert (path.parent / "note").exists()
    again = run_build(example_site)  # the rebuilt cache is trusted again, quietly
    assert not [w for w in again.warnings if "cache" in w]
