"""Measure ``feedwright build`` against the naive baseline on generated sites of 1,000 to 100,000 posts.

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000,100000] [--repeats 3] [--baseline-repeats 1]
                                       [--code old=/tmp/old/src --code new=src]

For each size, in one run: a cold build (no state, no cache, empty output/), a warm build with nothing changed,
a build after one post is edited, and a build after 100 new posts; each as the wall time and peak RSS of the
whole process (median of ``--repeats`` runs), and the same for the baseline (``baseline.py``), which does the
same work in every case. Each measurement runs in a fresh wrapper process (``--measure``) that reports the
``RUSAGE_CHILDREN`` peak RSS (the largest single process) and, sampled every 10 ms, the summed PSS of the process
tree (feedwright's worker processes included; PSS so that pages shared after fork count once); the larger of the
two is shown. Prints a Markdown table.

With ``--code LABEL=SRC`` (repeatable), each version of feedwright (a ``src`` folder: snapshot it first, as the
cache's code stamp covers the source files) is measured in turn within each repeat, on the same site: old and
new side by side, under the same machine load.
"""

from __future__ import annotations

import argparse
import json
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
PYTHON = sys.executable
FEEDWRIGHT = [PYTHON, "-m", "feedwright"]
BASELINE = [PYTHON, str(Path(__file__).with_name("baseline.py"))]
CASES = ("cold", "warm", "edit", "add100")
ENV = {**os.environ, "SOURCE_DATE_EPOCH": str(int(generate.NOW.timestamp())), "PYTHONPATH": str(REPO / "src")}


def _tree_rss_kb(pid: int) -> int:
    """Summed PSS of ``pid`` and its descendants, from /proc (0 where unavailable).

    PSS, not RSS: forked workers share their parent's pages, and summing RSS would count those twice.
    """
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure_here(cmd: list[str]) -> None:
    """The wrapper: run ``cmd`` once, print {"seconds", "max_rss_mb", "tree_rss_mb", "status"} as JSON."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**ENV, "PYTHONPATH": os.environ.get("BENCH_SRC", ENV["PYTHONPATH"])},
                            stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build and the workers it waited for
    print(json.dumps({"seconds": seconds, "max_rss_mb": usage.ru_maxrss / 1024, "tree_rss_mb": peak / 1024,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime, "status": proc.returncode}))


def measure(cmd: list[str], src: str | None = None) -> dict[str, float]:
    env = {**os.environ, "BENCH_SRC": src} if src else None
    out = subprocess.run([PYTHON, __file__, "--measure", "--", *cmd], capture_output=True, text=True, check=True,
                         env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] not in (0, 1):
        raise SystemExit(f"{cmd} failed with status {result['status']}")
    result["rss_mb"] = max(result["max_rss_mb"], result["tree_rss_mb"])
    return result


def _reset(site: Path) -> None:
    for name in ("output", "output-baseline", ".feedwright"):
        shutil.rmtree(site / name, ignore_errors=True)


def run_cases(
    site: Path, n: int, cmd: list[str], repeats: int, cases: tuple[str, ...], codes: dict[str, str | None] | None = None
) -> dict[str, dict[str, list[dict]]]:
    """Per code version (label -> src folder; None: this checkout), per case, the measurements."""
    codes = codes or {"": None}
    results: dict[str, dict[str, list[dict]]] = {label: {case: [] for case in cases} for label in codes}
    newest = n - 1 if (n - 1) % 300 != 299 else n - 2  # the newest post, in the site feed (not a future one)
    for rep in range(repeats):
        for label, src in codes.items():
            generate.remove_added(site)
            if rep or len(codes) > 1:  # every version starts from the same content, not "racy" (written > 2 s ago)
                generate.edit(site, n, newest, times=0)
                time.sleep(2.1)
            _reset(site)
            results[label]["cold"].append(measure(cmd, src))
            if "warm" in cases:
                results[label]["warm"].append(measure(cmd, src))
            if "edit" in cases:
                generate.edit(site, n, newest, times=rep + 1)
                results[label]["edit"].append(measure(cmd, src))
            if "add100" in cases:
                generate.add(site, n, 100)
                results[label]["add100"].append(measure(cmd, src))
                generate.remove_added(site)
    return results


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3, help="feedwright runs per case (median)")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="baseline runs per case (median)")
    parser.add_argument("--baseline-cases-max", type=int, default=10_000,
                        help="above this size the baseline is measured cold only (it does the same in every case)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedwright-bench"), help="where sites are generated")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--code", action="append", default=[], metavar="LABEL=SRC",
                        help="a version of feedwright to measure (its src folder); repeat to compare side by side")
    args = parser.parse_args()
    codes: dict[str, str | None] = {}
    for spec in args.code:
        label, _, src = spec.partition("=")
        codes[label] = str(Path(src).resolve())
    codes = codes or {"": None}

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        site = args.work / f"site-{n}"
        stamp = site / ".generated"
        if not stamp.exists() or stamp.read_text() != repr((n, generate.CONFIG)):
            print(f"generating {n} posts in {site} ...", file=sys.stderr)
            generate.generate(site, n)
            stamp.write_text(repr((n, generate.CONFIG)))
            time.sleep(2.5)  # files written within 2 s of a build are re-hashed by it ("racy"); real ones are older
        print(f"measuring feedwright at {n} ...", file=sys.stderr)
        all_ours = run_cases(site, n, [*FEEDWRIGHT, "build", "-q", "--site", str(site)], args.repeats, CASES, codes)
        theirs: dict[str, list[dict]] = {}
        if not args.no_baseline:
            print(f"measuring the baseline at {n} ...", file=sys.stderr)
            cases = CASES if n <= args.baseline_cases_max else ("cold",)
            theirs = run_cases(site, n, [*BASELINE, str(site)], args.baseline_repeats, cases)[""]
        generate.remove_added(site)
        for case in CASES:
            for label, ours in all_ours.items():
                row = {"n": n, "case": case, "code": label, "s": _median(ours[case], "seconds"),
                       "cpu": _median(ours[case], "cpu_seconds"),
                       "all_cpu": [round(r["cpu_seconds"], 2) for r in ours[case]],
                       "mb": _median(ours[case], "rss_mb"), "runs": len(ours[case]),
                       "all_s": [round(r["seconds"], 2) for r in ours[case]]}
                base = theirs.get(case) or theirs.get("cold")
                if base:
                    row |= {"bs": _median(base, "seconds"), "bmb": _median(base, "rss_mb"), "bruns": len(base),
                            "bsame": case not in theirs}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    code = "code | " if len(codes) > 1 else ""
    print(f"| posts | case | {code}feedwright s | CPU s | feedwright peak RSS MB | baseline s | baseline peak RSS MB "
          "| time ratio |")
    print("|---:|---|" + ("---|" if code else "") + "---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "bs" in r:
            mark = " †" if r["bsame"] else ""
            base = f"{r['bs']:.2f}{mark} | {r['bmb']:.0f}{mark} | {r['s'] / r['bs']:.3f}"
        else:
            base = "– | – | –"
        label = f"{r['code']} | " if code else ""
        print(f"| {r['n']:,} | {r['case']} | {label}{r['s']:.2f} | {r['cpu']:.2f} | {r['mb']:.0f} | {base} |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure_here(sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:])
    else:
        main()
