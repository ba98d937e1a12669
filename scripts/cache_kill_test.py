"""Kill a build at every write and deletion of its cache save, one by one, and check that the next build heals.

    .venv/bin/python scripts/cache_kill_test.py [--posts 300] [--work DIR]

The long version of ``tests/test_cache_integrity.py``: each kill point twice (the file not yet written, and
written beside its final name but not renamed), on the example site (first save; save after a change that puts
a draft where a published post was) and on a generated site of ``--posts`` posts (the same two scenarios).
After every kill the next build must write, byte for byte, what a build without a cache writes, and no draft.
Prints the number of kills per case; exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import generate  # noqa: E402

from conftest import copy_example_site  # noqa: E402
from test_cache_integrity import _built_and_changed, every_kill  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--work", type=Path, help="where to build (default: a temp folder, in /dev/shm if any)")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    root = args.work or Path(tempfile.mkdtemp(prefix="feedwright-cache-kill-", dir=shm if shm.is_dir() else None))
    (root / "sources").mkdir(parents=True)
    sites = {"example": copy_example_site(root / "sources"), "generated": generate.generate(root / "gen", args.posts)}
    failed = False
    try:
        for name, site in sites.items():
            for scenario, prepare in (("first save", lambda site: None), ("after a change", _built_and_changed)):
                for staged in (False, True):
                    tmp = root / f"{name}-{scenario.replace(' ', '-')}-{staged}"
                    tmp.mkdir()
                    started = time.monotonic()
                    try:
                        kills = every_kill(prepare, site, tmp, staged)
                    except AssertionError as exc:
                        print(f"FAILED {name}, {scenario}, staged={staged}: {exc}")
                        failed = True
                        continue
                    print(f"{name}, {scenario}, {'staged' if staged else 'not staged'}: {kills} kills, each healed "
                          f"({time.monotonic() - started:.0f} s)")
                    shutil.rmtree(tmp)
    finally:
        if not args.work:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
