"""Run the fuzz property of ``tests/test_fuzz.py`` (collector + normalisers + renderer + serialisers) for a while.

    .venv/bin/python scripts/fuzz.py MINUTES [--batch N] [--log FILE]

Runs batches of Hypothesis examples with fresh random seeds until the time is up. A failing batch is shrunk by
Hypothesis, its minimal example is printed (and appended to ``--log``), and the run goes on with the next batch.
Exits 1 if anything failed. The suite runs the same property for 200 examples.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

import test_fuzz  # noqa: E402  (needs tests/ on the path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("minutes", type=float)
    parser.add_argument("--batch", type=int, default=500, help="examples per Hypothesis run (default 500)")
    parser.add_argument("--log", type=Path, help="append failures here")
    args = parser.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    examples = failures = batches = 0
    counting = test_fuzz.Sandbox.check

    slowest = (0.0, "", 0)

    def check(self: test_fuzz.Sandbox, name: str, data: bytes) -> None:
        nonlocal examples, slowest
        examples += 1
        started = time.monotonic()
        try:
            counting(self, name, data)
        finally:
            took = time.monotonic() - started
            if took > slowest[0]:
                slowest = (took, name, len(data))

    test_fuzz.Sandbox.check = check  # type: ignore[method-assign]
    while time.monotonic() < deadline:
        batches += 1
        try:
            test_fuzz.run_property(args.batch)
        except Exception:  # a falsified property: Hypothesis has shrunk it and reports the example
            failures += 1
            report = f"--- failure {failures} (batch {batches}) ---\n{traceback.format_exc()}"
            print(report, flush=True)
            if args.log:
                with args.log.open("a", encoding="utf-8") as fh:
                    fh.write(report + "\n")
        print(f"{time.strftime('%H:%M:%S')} batches {batches}, examples {examples}, failures {failures}, "
              f"slowest example {slowest[0]:.2f} s ({slowest[1]}, {slowest[2]} bytes)", flush=True)
    print(f"done: {examples} examples in {batches} batches, {failures} failing batches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
