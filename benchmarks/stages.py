"""Per-stage wall-clock seconds of ``feedwright build --timings``, cold and warm, on generated sites.

    .venv/bin/python benchmarks/stages.py [--sizes 1000,10000,100000] [--work /tmp/feedwright-bench] [--plain]

For each size: a cold build (no state, no cache, empty ``output/``) and then a warm one (nothing changed), each
in its own ``python -m feedwright build -q --timings`` process with ``SOURCE_DATE_EPOCH`` pinned, with the CPU
seconds (user + system, worker processes included) of that process tree. Uses the same sites as ``run.py``
(generated there if missing). Prints a Markdown table: one row per stage, one column per size and case.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import generate  # noqa: E402
import run  # noqa: E402

_TIME = re.compile(r"time: (.+?) +(\d+\.\d+) s")


def timed_build(site: Path) -> tuple[dict[str, float], float]:
    """One build's stages (seconds) and the CPU seconds of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*run.FEEDWRIGHT, "build", "-q", "--timings", "--site", str(site)], env=run.ENV,
                         capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):
        raise SystemExit(f"build of {site} failed ({out.returncode}): {out.stderr[-2000:]}")
    stages = {m.group(1): float(m.group(2)) for line in out.stdout.splitlines() if (m := _TIME.fullmatch(line))}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return stages, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedwright-bench"))
    parser.add_argument("--plain", action="store_true", help="posts without kramdown and Liquid (earlier rounds)")
    args = parser.parse_args()
    generate.compile_sources()
    columns: dict[str, tuple[dict[str, float], float]] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        site = generate.prepared(args.work, n, args.plain)
        generate.remove_added(site)
        run._reset(site)
        run.warm_page_cache(site)
        for case in ("cold", "warm"):
            print(f"{case} build of {n} posts ...", file=sys.stderr)
            columns[f"{n:,} {case}"] = timed_build(site)
    stages = list(dict.fromkeys(stage for timings, _ in columns.values() for stage in timings))
    print("| stage | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for stage in stages:
        cells = [f"{timings[stage]:.3f}" if stage in timings else "–" for timings, _ in columns.values()]
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print("| CPU s (process tree) | " + " | ".join(f"{cpu:.2f}" for _, cpu in columns.values()) + " |")


if __name__ == "__main__":
    main()
