"""The daemon under load for minutes, every build on worker processes (see ``tests/test_daemon_load.py``).

    .venv/bin/python scripts/daemon_load.py [--seconds 300] [--burners 2]

Prints the number of builds, the seconds SIGTERM took and any failure; exits 1 on a failure, a stray process or
a daemon that stopped building.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_daemon_load import run_daemon_under_load  # noqa: E402  (needs tests/ on the path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--burners", type=int, default=2, help="CPU-bound processes running beside the daemon")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="feedwright-load-"))
    try:
        outcome = run_daemon_under_load(root, args.seconds, args.burners)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{outcome.builds} builds in {args.seconds:g} s with {args.burners} CPU burners; SIGTERM took "
          f"{outcome.stop_seconds:.2f} s (exit {outcome.exit_status}); {len(outcome.strays)} stray processes; "
          f"{len(outcome.failures)} failures")
    for line in outcome.failures:
        print("FAIL", line)
    return 1 if outcome.failures or outcome.strays or outcome.exit_status else 0


if __name__ == "__main__":
    sys.exit(main())
