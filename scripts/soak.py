#!/usr/bin/env python3
"""Soak test for ``feedwright daemon`` (not part of CI): run it for a while under a stream of content changes.

    .venv/bin/python scripts/soak.py [--duration 600] [--every 2] [--seed 1] [--keep DIR]

A temporary site gets a daemon on an ``--every`` second schedule; every 0.5-3 s a post is added, edited or
deleted, and every ~20 s a post dated 2-4 s ahead is added. Every 30 s it prints the daemon's memory (VmRSS from
/proc/<pid>/status) and its run count (from .feedwright/status.json). At the end it stops the daemon with
SIGTERM and checks: exit status 0; no ERROR or WARNING in the log; no missed or skipped runs; at least one
run per interval; every scheduled post out within 1 s of its moment; every feed parseable and carrying the
posts that exist; memory steady (RSS at the end within 10 MiB of RSS after the first minute). Exit 0 if all hold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

CATEGORIES = ["news", "culture", "tech", "opinion", "디지털 성범죄"]
WORDS = ["feed", "daemon", "schedule", "atom", "rss", "json", "river", "bridge", "library", "night", "market",
         "spring", "summer"]
RSS_SLACK_KIB = 10 * 1024


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def status(site: Path) -> dict:
    try:
        return json.loads((site / ".feedwright" / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_post(site: Path, name: str, title: str, date: str, rng: random.Random) -> None:
    cats = rng.sample(CATEGORIES, rng.randint(0, 2))
    body = "\n\n".join(" ".join(rng.choices(WORDS, k=rng.randint(20, 80))) for _ in range(rng.randint(1, 6)))
    path = site / "content" / f"{name}.md"
    tmp = path.with_name(f".{path.name}.tmp")  # dot-files are skipped: the daemon never sees half a post
    tmp.write_text(f"---\ntitle: {json.dumps(title)}\ndate: {date}\ncategories: {json.dumps(cats)}\n---\n\n{body}\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--every", type=int, default=2, help="daemon schedule in seconds (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", help="use (and keep) this folder instead of a temporary one")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="feedwright-soak-"))
    site = work / "site"
    if site.exists():
        shutil.rmtree(site)
    (site / "content").mkdir(parents=True)
    (site / "feedwright.toml").write_text(
        '[site]\ntitle = "Soak"\nurl = "https://soak.example.org/"\n[build]\nlimit = 50\ntag_feeds = false\n',
        encoding="utf-8",
    )
    posts: dict[str, str] = {}  # name -> title
    serial = 0

    def new_name() -> str:
        nonlocal serial
        serial += 1
        return f"post-{serial:05d}"

    for _ in range(40):
        name = new_name()
        posts[name] = f"Post {name}"
        write_post(site, name, posts[name], f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", rng)

    log_path = work / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedwright", "daemon", "--site", str(site), "--every", f"{args.every}s",
             "--log-format", "json"],
            stdout=subprocess.DEVNULL, stderr=log, env=env,
        )
    launched = time.monotonic()
    print(f"soak: {args.duration:.0f} s, daemon pid {daemon.pid}, every {args.every} s, site {site}", flush=True)
    while not status(site) and daemon.poll() is None and time.monotonic() < launched + 60:
        time.sleep(0.05)  # the first build

    start = time.monotonic()
    deadline = start + args.duration
    next_report, next_future = start, start + 10
    memory: list[tuple[float, int]] = []
    pending: list[tuple[float, str, str]] = []  # (moment, name, title) of scheduled posts
    on_time = late = 0
    edits = {"add": 0, "edit": 0, "delete": 0, "scheduled": 0}
    while time.monotonic() < deadline and daemon.poll() is None:
        now = time.monotonic()
        if now >= next_report:
            kib, st = rss_kib(daemon.pid), status(site)
            memory.append((now - start, kib))
            print(f"  t={now - start:6.0f} s  rss={kib / 1024:6.1f} MiB  runs={st.get('runs', 0):5d}  "
                  f"missed={st.get('missed', 0)}  published={st.get('published', 0)}  outcome={st.get('outcome')}",
                  flush=True)
            next_report += 30
        if now >= next_future:
            name, moment = new_name(), time.time() + rng.uniform(2, 4)
            moment = float(int(moment))
            title = f"Scheduled {name}"
            stamp = datetime.fromtimestamp(moment, UTC).strftime('"%Y-%m-%d %H:%M:%S +0000"')
            write_post(site, name, title, stamp, rng)
            posts[name] = title
            pending.append((moment, name, title))
            edits["scheduled"] += 1
            next_future += 20
        for item in list(pending):
            moment, name, title = item
            if time.time() >= moment + 1.0:
                feed = (site / "output" / "feed.json").read_text(encoding="utf-8")
                if json.dumps(title, ensure_ascii=False) in feed or title in feed:
                    on_time += 1
                else:
                    late += 1
                    print(f"  LATE: {title} not in feed.json 1 s after its moment", flush=True)
                pending.remove(item)
        action = rng.choices(["add", "edit", "delete"], weights=[4, 4, 3])[0]
        regular = [n for n in posts if not posts[n].startswith("Scheduled")]
        if action == "delete" and len(regular) > 20:
            name = rng.choice(regular)
            (site / "content" / f"{name}.md").unlink()
            del posts[name]
        elif action == "edit" and regular:
            name = rng.choice(regular)
            posts[name] = f"Post {name} v{rng.randint(2, 999)}"
            write_post(site, name, posts[name], f"2025-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}", rng)
        else:
            action = "add"
            name = new_name()
            posts[name] = f"Post {name}"
            write_post(site, name, posts[name], f"2025-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}", rng)
        edits[action] += 1
        time.sleep(rng.uniform(0.5, 3.0))

    died = daemon.poll()
    time.sleep(args.every + 1.0)  # let the last edits reach the feeds
    memory.append((time.monotonic() - start, rss_kib(daemon.pid) if died is None else 0))
    final_status = status(site)
    life = time.monotonic() - launched
    daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        code = None

    records = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    builds = [r for r in records if r.get("event") == "build"]
    by_trigger = {t: sum(r.get("trigger") == t for r in builds) for t in ("schedule", "publish", "reload")}
    problems = [r for r in records if r["level"] in ("WARNING", "ERROR")]
    # The build at start plus one per interval; the last interval may be cut by SIGTERM (or start-up time).
    expected = int(life // args.every)

    bad_feeds = []
    for path in sorted((site / "output").rglob("*")):
        try:
            if path.suffix == ".xml":
                ET.parse(path)
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
        except (ET.ParseError, ValueError) as exc:
            bad_feeds.append(f"{path}: {exc}")
    feed = json.loads((site / "output" / "feed.json").read_text(encoding="utf-8"))
    titles = {item["title"] for item in feed["items"]}
    stray = titles - set(posts.values())

    warm = [kib for t, kib in memory if t >= 60] or [kib for _, kib in memory]
    first, last, peak = warm[0], memory[-1][1], max(kib for _, kib in memory)
    print(f"edits: {edits}")
    print(f"memory: rss {memory[0][1] / 1024:.1f} MiB at start, {first / 1024:.1f} MiB after warm-up, "
          f"{last / 1024:.1f} MiB at the end, peak {peak / 1024:.1f} MiB")
    print(f"runs: at least {expected} regular expected (1 at start + {life:.0f} s / {args.every} s, less one "
          f"for the cut last interval), seen {by_trigger['schedule']} "
          f"regular + {by_trigger['publish']} at scheduled posts' moments = {len(builds)} "
          f"(status file: {final_status.get('runs')}); missed/skipped: {final_status.get('missed')}")
    print(f"scheduled posts: {on_time} on time, {late} late; failed builds: "
          f"{sum(r.get('outcome') == 'failed' for r in builds)}; warnings/errors logged: {len(problems)}")
    print(f"feeds: {len(list((site / 'output').rglob('*.xml')))} XML files, unparseable: {len(bad_feeds)}, "
          f"items not matching a post: {len(stray)}; daemon exit status {code}")

    failures = []
    if died is not None:
        failures.append(f"the daemon exited early with status {died}")
    if code != 0:
        failures.append(f"the daemon exited with {code} on SIGTERM")
    if problems:
        failures.append(f"{len(problems)} warnings/errors, first: {problems[0]['message']}")
    if final_status.get("missed"):
        failures.append(f"{final_status['missed']} missed runs")
    if by_trigger["schedule"] < expected:
        failures.append(f"only {by_trigger['schedule']} regular runs, expected {expected}")
    if late:
        failures.append(f"{late} scheduled posts late")
    if bad_feeds or stray:
        failures.append(f"feeds wrong: {bad_feeds[:2]} {sorted(stray)[:2]}")
    if last - first > RSS_SLACK_KIB:
        failures.append(f"memory grew by {(last - first) / 1024:.1f} MiB after warm-up")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("soak: OK" if not failures else "soak: FAILED")
    if not args.keep and not failures:
        shutil.rmtree(work)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
