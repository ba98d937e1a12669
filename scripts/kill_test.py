"""SIGKILL ``feedwright build`` at random moments, many times, over a large site (see ``tests/test_crash.py``).

    .venv/bin/python scripts/kill_test.py [--posts 3000] [--kills 100] [--seed N] [--heal-every 5] [--cold]
                                          [--keep DIR]

After each kill every file in ``output/`` must be byte-identical to its version before the build or after an
uninterrupted one, nothing present in both may be missing, the site lock must be free and no worker process may
survive; every ``--heal-every`` kills (and after the last) the next build must restore exactly the new output.
Prints the figures; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_crash import KillRig, Outcome  # noqa: E402  (needs tests/ on the path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--heal-every", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="no cache: every killed build parses everything")
    parser.add_argument("--keep", type=Path, help="build the site here and keep it (default: a temp folder)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="feedwright-kill-"))
    started = time.monotonic()
    try:
        rig = KillRig(root, args.posts, args.cold)
        print(f"site: {args.posts} posts, {len(rig.new)} feed files; one build takes {rig.duration:.2f} s; "
              f"seed {args.seed}", flush=True)
        rng = random.Random(args.seed)
        outcome = Outcome()
        for i in range(args.kills):
            heal = (i + 1) % args.heal_every == 0 or i == args.kills - 1
            before = len(outcome.failures)
            rig.kill_once(rng, outcome, heal)
            for failure in outcome.failures[before:]:
                print("FAIL", failure, flush=True)
            if (i + 1) % 10 == 0:
                print(f"{i + 1} kills, {outcome.files_checked} files checked, {len(outcome.failures)} failures",
                      flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(
        f"done in {time.monotonic() - started:.0f} s: {outcome.kills} kills ({outcome.finished_before_kill} builds "
        f"finished first), {outcome.files_checked} files checked, {outcome.heals} healing builds, "
        f"{outcome.stray_processes} stray processes, {outcome.temp_files_left} kills left temp files (all removed "
        f"by the next build), {len(outcome.failures)} failures"
    )
    return 1 if outcome.failures or outcome.stray_processes else 0


if __name__ == "__main__":
    sys.exit(main())
