"""What ``[build] archives = true`` costs: CPU seconds of ``feedwright build`` with and without archives.

    .venv/bin/python benchmarks/archives.py [--posts 10000] [--repeats 3] [--size 100]

On a generated site (``generate.py``), for archives off and on, interleaved run by run: **cold** (no state, no
cache, empty ``output/``), **warm** (nothing changed), **add1** (one new post, the newest). Each figure is the user
+ system CPU time of the whole process tree (the build and its worker processes, from ``RUSAGE_CHILDREN``), the
median of the runs, with the wall time beside it: on a shared machine CPU time is the figure to compare.
Prints a Markdown table and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import generate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "SOURCE_DATE_EPOCH": str(int(generate.NOW.timestamp())), "PYTHONPATH": str(REPO / "src")}
CASES = ("cold", "warm", "add1")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(site: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one ``feedwright build`` of ``site``."""
    cpu, wall = _cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "feedwright", "build", "-q", "--site", str(site)], env=ENV,
                          check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"build of {site} failed with status {done.returncode}")
    return _cpu() - cpu, time.perf_counter() - wall


def _configure(site: Path, archives: bool, size: int) -> None:
    config = generate.CONFIG.replace("[build]\n", f"[build]\narchives = {str(archives).lower()}\n"
                                     f"archive_size = {size}\n")
    (site / "feedwright.toml").write_text(config, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=100, help="archive_size")
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedwright-bench-archives"))
    args = parser.parse_args()
    generate.compile_sources()
    sites = {}
    for archives in (False, True):
        site = args.work / f"site-{'on' if archives else 'off'}"
        generate.generate(site, args.posts)
        _configure(site, archives, args.size)
        sites[archives] = site
    time.sleep(2.5)  # the files must not look "racy" (written within 2 s of a build)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    runs: dict[tuple[bool, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for archives, site in sites.items():
            generate.remove_added(site)
            for name in ("output", ".feedwright"):
                shutil.rmtree(site / name, ignore_errors=True)
            runs.setdefault((archives, "cold"), []).append(measure(site))
            runs.setdefault((archives, "warm"), []).append(measure(site))
            generate.add(site, args.posts, 1)
            runs.setdefault((archives, "add1"), []).append(measure(site))
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(f"| {args.posts:,} posts | archives | CPU s (runs) | wall s |")
    print("|---|---|---:|---:|")
    for case in CASES:
        for archives in (False, True):
            measured = runs[(archives, case)]
            cpu = statistics.median(c for c, _ in measured)
            wall = statistics.median(w for _, w in measured)
            each = ", ".join(f"{c:.2f}" for c, _ in measured)
            print(f"| {case} | {'on' if archives else 'off'} | {cpu:.2f} ({each}) | {wall:.2f} |")
    for archives, site in sites.items():
        files = sum(1 for p in (site / "output").rglob("*") if p.is_file())
        print(f"archives {'on' if archives else 'off'}: {files} files in output/", file=sys.stderr)


if __name__ == "__main__":
    main()
