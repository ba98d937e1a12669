"""Measure ``feedwright build`` against Hugo and the naive baseline on generated sites of 1,000 to 100,000 posts.

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000,100000] [--repeats 3] [--baseline-repeats 1]
                                       [--hugo-max 50000] [--no-hugo] [--plain]

When ``hugo`` is on the PATH, the same posts are also built by Hugo as a peer (``hugo.toml``, written by
``generate.py``: RSS only, for the home page, sections, taxonomies and terms, 50 items each; no HTML), cold
(``public`` output, resource cache and ``resources/`` removed first) in the same run, up to ``--hugo-max`` posts;
the table then gives feedwright's time over Hugo's. Before timing, the run checks that Hugo read the same front
matter: the titles and dates of its home feed's items against feedwright's site-wide feed (see
:func:`hugo_agrees`). Hugo does the same work in every case, so its cold build stands for all four (marked †).

For each size, in one run: a cold build (no state, no cache, empty output/), a warm build with nothing changed,
a build after one post is edited, and a build after 100 new posts; each as the wall time and peak RSS of the
whole process (median of ``--repeats`` runs), and the same for the baseline (``baseline.py``), which does the
same work in every case. Each measurement runs in a fresh wrapper process (``--measure``) that reports the
``RUSAGE_CHILDREN`` peak RSS (the largest single process) and, sampled every 10 ms, the summed RSS of the process
tree (feedwright's worker processes included; see :func:`_tree_rss_kb`); the larger of the two is shown. Prints a
Markdown table.
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
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import generate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FEEDWRIGHT = [PYTHON, "-m", "feedwright"]
BASELINE = [PYTHON, str(Path(__file__).with_name("baseline.py"))]
HUGO_BIN = shutil.which("hugo")
HUGO_OUT = "output-hugo"
CASES = ("cold", "warm", "edit", "add100")
ENV = {**os.environ, "SOURCE_DATE_EPOCH": str(int(generate.NOW.timestamp())), "PYTHONPATH": str(REPO / "src")}


def _tree_rss_kb(pid: int) -> int:
    """Summed RSS (``VmRSS`` of /proc/PID/status) of ``pid`` and its descendants (0 where unavailable).

    RSS, not PSS: reading ``smaps_rollup`` (PSS) walks the page tables, 5.9 ms of CPU per read of a 330 MB
    process (measured 2026-11-28), so sampling the tree every 10 ms took about half a core from the build being
    measured on this 2-core machine; ``status`` costs ~40 µs. The workers are started by exec, not forked, so
    they share only the interpreter's and libraries' file pages with their parent: the sum counts those
    (~10-20 MB a process) more than once, an over-estimate of feedwright's memory, never an under-estimate.

    A child caught between its fork and its exec (the same command line as its parent) is not counted: until the
    exec it is the parent's own pages, shared, and a sample taken then counted them twice. A build that starts its
    render workers after loading every record of 100,000 posts (``add100``) showed 620-730 MB for ~410 MB of
    processes (2026-11-28, session 6).
    """
    total, todo = 0, [(pid, None)]
    while todo:
        p, parent_cmdline = todo.pop()
        try:
            with open(f"/proc/{p}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{p}/task/{p}/children") as fh:
                children = [int(c) for c in fh.read().split()]
            if cmdline != parent_cmdline:
                with open(f"/proc/{p}/status") as fh:
                    total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            todo += [(c, cmdline) for c in children]
        except (OSError, ValueError):
            continue
    return total


def measure_here(cmd: list[str]) -> None:
    """The wrapper: run ``cmd`` once, print {"seconds", "max_rss_mb", "tree_rss_mb", "status"} as JSON."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**ENV, "PYTHONPATH": os.environ["FEEDWRIGHT_BENCH_SRC"]},
                            stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "max_rss_mb": maxrss / 1024, "tree_rss_mb": peak / 1024,
                      "status": proc.returncode}))


def measure(cmd: list[str], src: Path = REPO / "src") -> dict[str, float]:
    env = {**os.environ, "FEEDWRIGHT_BENCH_SRC": str(src)}
    out = subprocess.run([PYTHON, __file__, "--measure", "--", *cmd], capture_output=True, text=True, check=True,
                         env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] not in (0, 1):
        raise SystemExit(f"{cmd} failed with status {result['status']}")
    result["rss_mb"] = max(result["max_rss_mb"], result["tree_rss_mb"])
    return result


def warm_page_cache(site: Path) -> None:
    """Read every content file once, so that the first build measured does not read them from the disk.

    This machine's kernel reclaims page cache left idle for a few minutes (``kdamond``): a cold 100,000-post build
    right after a pause took 21.8 s (5.9 s of system time), the next one 11.5 s (2.0 s), with the same code, at
    load 0.5-0.8 (2026-11-28). Both peers are measured with the files in memory, as on a site being worked on.
    """
    for folder, _, names in os.walk(site / "content"):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def _reset(site: Path) -> None:
    for name in ("output", "output-baseline", ".feedwright", HUGO_OUT, ".hugo-cache", "resources"):
        shutil.rmtree(site / name, ignore_errors=True)


def hugo_command(site: Path) -> list[str]:
    assert HUGO_BIN is not None
    return [HUGO_BIN, "--quiet", "--source", str(site), "--destination", str(site / HUGO_OUT),
            "--cacheDir", str(site / ".hugo-cache")]


def hugo_agrees(site: Path) -> str:
    """Check that Hugo read the posts as feedwright did (after a build by each): every item of Hugo's home feed
    and of three category feeds that feedwright publishes has feedwright's title and date (``categories`` read
    from the front matter; dates from ``date:`` or the file name). Hugo's "now" is the machine's clock, not
    SOURCE_DATE_EPOCH: posts dated between the benchmark's now and today are Hugo's alone and left out (on a
    large site they fill Hugo's whole home feed, which then has nothing to compare)."""
    import xml.etree.ElementTree as ET
    from email.utils import parsedate_to_datetime

    def hugo(path: Path) -> list[tuple[str, datetime]]:
        items = ET.parse(path).getroot().iter("item")
        found = [(" ".join((i.findtext("title") or "").split()), parsedate_to_datetime(i.findtext("pubDate") or ""))
                 for i in items]
        return [(title, date) for title, date in found if date <= generate.NOW]

    def ours(path: Path) -> list[tuple[str, datetime]]:
        items = json.loads(path.read_text(encoding="utf-8"))["items"]
        return [(i["title"], datetime.fromisoformat(i["date_published"])) for i in items]

    lines, compared = [], 0
    feeds = [("home", "index.xml", "feed.json")] + [
        (f"category {name}", f"categories/{name.lower()}/index.xml", f"categories/{name.lower()}/feed.json")
        for name in ("Culture", "News", "Economy")
    ]
    for name, theirs, mine in feeds:
        h, f = hugo(site / HUGO_OUT / theirs), ours(site / "output" / mine)
        same = sum(item in f for item in h)
        if same != len(h):
            raise SystemExit(f"Hugo's {name} feed does not hold feedwright's posts: {same} of {len(h)} agree")
        compared += same
        lines.append(f"{name}: {same} of Hugo's items up to the benchmark's now have feedwright's title and date")
    if not compared:
        raise SystemExit("Hugo's feeds hold none of feedwright's posts")
    return "; ".join(lines)


def run_cases(
    site: Path, n: int, cmd: list[str], repeats: int, cases: tuple[str, ...], src: Path = REPO / "src",
    plain: bool = False,
) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {case: [] for case in cases}
    newest = n - 1 if (n - 1) % 300 != 299 else n - 2  # the newest post, in the site feed (not a future one)
    for rep in range(repeats):
        generate.remove_added(site)
        _reset(site)
        results["cold"].append(measure(cmd, src))
        if "warm" in cases:
            results["warm"].append(measure(cmd, src))
        if "edit" in cases:
            generate.edit(site, n, newest, times=rep + 1, plain=plain)
            results["edit"].append(measure(cmd, src))
        if "add100" in cases:
            generate.add(site, n, 100, plain=plain)
            results["add100"].append(measure(cmd, src))
            generate.remove_added(site)
    return results


# feedwright without the CLI's collector pause (ops/heap.py), to see what the pause is worth.
_NO_GC_PAUSE = (
    "import contextlib, sys; import feedwright.cli as cli; cli.collector_paused = contextlib.nullcontext; "
    "sys.exit(cli.main(sys.argv[1:]))"
)


def compare(n: int, site: Path, old: Path, repeats: int, no_gc: bool, plain: bool) -> list[dict]:
    """Old code (``old``/src, e.g. a ``git archive`` of main) and this tree, and optionally this tree without the
    collector pause, each on its own copy of the site, interleaved run by run."""
    variants = {"old": (site.with_name(site.name + "-old"), [*FEEDWRIGHT], old / "src"), "new": (site, FEEDWRIGHT,
                REPO / "src")}
    if no_gc:
        variants["new, no gc pause"] = (site.with_name(site.name + "-nogc"), [PYTHON, "-c", _NO_GC_PAUSE], REPO / "src")
    for copy, _, _ in variants.values():
        if copy != site:
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(site, copy, symlinks=True)
    time.sleep(2.5)  # the copies' files must not look "racy" (written within 2 s of a build)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(repeats):
        for name, (copy, cmd, src) in variants.items():
            runs = run_cases(copy, n, [*cmd, "build", "-q", "--site", str(copy)], 1, CASES, src, plain)
            for case, measured in runs.items():
                results.setdefault((name, case), []).extend(measured)
    return [{"n": n, "variant": name, "case": case, "s": _median(runs, "seconds"), "mb": _median(runs, "rss_mb"),
             "runs": len(runs)} for (name, case), runs in results.items()]


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
    parser.add_argument("--old", type=Path, help="also measure this older checkout (its src/), interleaved")
    parser.add_argument("--no-gc-variant", action="store_true", help="with --old: also this tree without gc pause")
    parser.add_argument("--no-hugo", action="store_true", help="do not measure Hugo even if it is on the PATH")
    parser.add_argument("--hugo-max", type=int, default=50_000, help="measure Hugo up to this many posts")
    parser.add_argument("--hugo-repeats", type=int, help="Hugo runs per size (default: --repeats)")
    parser.add_argument("--plain", action="store_true", help="posts without kramdown and Liquid (earlier rounds)")
    args = parser.parse_args()
    generate.compile_sources()
    if args.old:
        generate.compile_sources(args.old / "src")

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        site = generate.prepared(args.work, n, args.plain)
        if args.old:
            print(f"comparing old and new at {n} ...", file=sys.stderr)
            for row in compare(n, site, args.old, args.repeats, args.no_gc_variant, args.plain):
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
            continue
        hugo: list[dict] = []
        if HUGO_BIN and not args.no_hugo and n <= args.hugo_max:
            generate.remove_added(site)
            _reset(site)
            subprocess.run([*FEEDWRIGHT, "build", "-q", "--site", str(site)], env=ENV, check=False,
                           stdout=subprocess.DEVNULL)
            subprocess.run(hugo_command(site), check=True, stdout=subprocess.DEVNULL)
            print(f"hugo at {n}: {hugo_agrees(site)}", file=sys.stderr)
        warm_page_cache(site)
        print(f"measuring feedwright{' and Hugo' if HUGO_BIN and not args.no_hugo and n <= args.hugo_max else ''} "
              f"at {n} ...", file=sys.stderr)
        ours: dict[str, list[dict]] = {case: [] for case in CASES}
        for _ in range(args.repeats):  # one repeat of each in turn: both see the same load on a shared machine
            for case, runs in run_cases(site, n, [*FEEDWRIGHT, "build", "-q", "--site", str(site)], 1, CASES,
                                        plain=args.plain).items():
                ours[case] += runs
            if HUGO_BIN and not args.no_hugo and n <= args.hugo_max and len(hugo) < (args.hugo_repeats or 1 << 30):
                _reset(site)
                hugo.append(measure(hugo_command(site)))
        theirs: dict[str, list[dict]] = {}
        if not args.no_baseline:
            print(f"measuring the baseline at {n} ...", file=sys.stderr)
            cases = CASES if n <= args.baseline_cases_max else ("cold",)
            theirs = run_cases(site, n, [*BASELINE, str(site)], args.baseline_repeats, cases, plain=args.plain)
        generate.remove_added(site)
        for case in CASES:
            row = {"n": n, "case": case, "s": _median(ours[case], "seconds"), "mb": _median(ours[case], "rss_mb"),
                   "runs": len(ours[case])}
            base = theirs.get(case) or theirs.get("cold")
            if base:
                row |= {"bs": _median(base, "seconds"), "bmb": _median(base, "rss_mb"), "bruns": len(base),
                        "bsame": case not in theirs}
            if hugo:
                row |= {"hs": _median(hugo, "seconds"), "hmb": _median(hugo, "rss_mb"), "hruns": len(hugo)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    if args.old:
        print("| posts | case | code | s | peak MB | runs |\n|---:|---|---|---:|---:|---:|")
        for r in sorted(rows, key=lambda r: (r["n"], CASES.index(r["case"]), r["variant"])):
            print(f"| {r['n']:,} | {r['case']} | {r['variant']} | {r['s']:.2f} | {r['mb']:.0f} | {r['runs']} |")
        return
    print("| posts | case | feedwright s | feedwright peak MB | Hugo s | Hugo peak MB | feedwright / Hugo "
          "| baseline s | baseline peak MB | feedwright / baseline |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        hugo_cols = "– | – | –"
        if "hs" in r:
            mark = " †" if r["case"] != "cold" else ""
            hugo_cols = f"{r['hs']:.2f}{mark} | {r['hmb']:.0f}{mark} | {r['s'] / r['hs']:.2f}"
        base = "– | – | –"
        if "bs" in r:
            mark = " †" if r["bsame"] else ""
            base = f"{r['bs']:.2f}{mark} | {r['bmb']:.0f}{mark} | {r['s'] / r['bs']:.3f}"
        print(f"| {r['n']:,} | {r['case']} | {r['s']:.2f} | {r['mb']:.0f} | {hugo_cols} | {base} |")
    print("\n† Hugo and the baseline rebuild everything every time: their cold build stands for every case.")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure_here(sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:])
    else:
        main()
