"""How soon ``feedwright daemon --watch`` republishes a saved post, and what it costs while idle (run by hand).

    .venv/bin/python benchmarks/watch.py                          # 100,000 posts in /tmp/feedwright-watch
    .venv/bin/python benchmarks/watch.py --posts 10000 --edits 20 --idle 10

Generates the site with ``generate.py`` (once: it is kept between runs, with its ``.feedwright/``), starts the real
daemon with ``--watch``, waits for its first build, then edits 20 different posts that feeds carry, one at a time.
Each latency runs from the close of the edited file to the rename (inotify ``IN_MOVED_TO`` on ``output/``) of the
last feed file that carries the post (every format of the site-wide and category feeds it is in), and the new
bytes are checked to hold the edit. Prints the median and 95th percentile, then the daemon's CPU over ``--idle``
seconds of nothing happening, and its CPU per edit. ``SOURCE_DATE_EPOCH`` pins "now" to generate.py's.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
import generate  # noqa: E402
from generate import NOW  # noqa: E402

IN_MOVED_TO = 0x80
_EVENT = struct.Struct("iIII")
FORMATS = ("atom.xml", "feed.json", "rss.xml")


class Renames:
    """IN_MOVED_TO under output/ and its feed folders, read with the inotify system calls (no watchdog: its own
    threads would add to what is measured)."""

    def __init__(self, output: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.folders: dict[int, str] = {}
        for folder in [output, *(p for p in output.rglob("*") if p.is_dir())]:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_MOVED_TO)
            self.folders[wd] = folder.relative_to(output).as_posix()

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            os.read(self.fd, 65536)

    def until(self, wanted: set[str], timeout: float) -> float | None:
        """The moment (time.monotonic) the last of ``wanted`` (output-relative paths) was renamed into place."""
        left, deadline = set(wanted), time.monotonic() + timeout
        while left:
            rest = deadline - time.monotonic()
            if rest <= 0 or not select.select([self.fd], [], [], rest)[0]:
                return None
            data, seen = os.read(self.fd, 65536), time.monotonic()
            offset = 0
            while offset < len(data):
                wd, _mask, _cookie, size = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size: offset + _EVENT.size + size].rstrip(b"\0").decode()
                offset += _EVENT.size + size
                folder = self.folders.get(wd, "?")
                left.discard(f"{folder}/{name}" if folder != "." else name)
            if not left:
                return seen
        return time.monotonic()


def _cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def _feeds_by_post(output: Path) -> dict[str, set[str]]:
    """Post URL -> the feed folders ("" for the site-wide feed) whose JSON Feed carries it."""
    found: dict[str, set[str]] = {}
    for path in output.rglob("feed.json"):
        folder = path.parent.relative_to(output).as_posix()
        for item in json.loads(path.read_bytes())["items"]:
            found.setdefault(item["url"], set()).add("" if folder == "." else folder)
    return found


def _sources(content: Path) -> dict[str, Path]:
    return {p.stem: p for p in content.rglob("*.md")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--site", type=Path, help="default /tmp/feedwright-watch-N")
    parser.add_argument("--fresh", action="store_true", help="generate the site again")
    args = parser.parse_args()
    generate.compile_sources()
    root = args.site or Path(f"/tmp/feedwright-watch-{args.posts}")
    here = Path(__file__).parent
    if args.fresh:
        shutil.rmtree(root, ignore_errors=True)
    if not (root / "content").is_dir():
        subprocess.run([sys.executable, str(here / "generate.py"), str(root), str(args.posts)], check=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    log_path = root / "daemon.log"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedwright", "daemon", "--site", str(root), "--watch", "--every", "1h",
             "--log-format", "json"], stderr=log, env=env)
    try:
        return _measure(root, daemon, args, log_path)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(10)


def _builds(log_path: Path) -> int:
    return sum('"event": "build"' in line for line in log_path.read_text().splitlines())


def _measure(root: Path, daemon: subprocess.Popen[bytes], args: argparse.Namespace, log_path: Path) -> int:
    start = time.monotonic()
    while _builds(log_path) < 1:
        if daemon.poll() is not None or time.monotonic() - start > 600:
            print(log_path.read_text(), file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"first build (loads the cache, or builds cold): {time.monotonic() - start:.1f} s wall")
    output = root / "output"
    carried = _feeds_by_post(output)
    sources = _sources(root / "content")
    chosen = sorted(carried, key=lambda url: (-len(carried[url]), url))[: args.edits]
    renames = Renames(output)
    time.sleep(1.0)
    latencies: list[float] = []
    cpu_before = _cpu(daemon.pid)
    for i, url in enumerate(chosen):
        stem = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        path = sources[stem]
        wanted = {f"{folder}/{name}" if folder else name for folder in carried[url] for name in FORMATS}
        renames.drain()
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"\nEdited by the watch benchmark, edit {i} at {time.time()}.\n")
        closed = time.monotonic()
        done = renames.until(wanted, timeout=30)
        if done is None:
            print(f"edit {i}: {path.name} did not reach {sorted(wanted)} within 30 s", file=sys.stderr)
            return 1
        marker = f"edit {i} at"
        folder = next(iter(carried[url]))
        assert marker in (output / folder / "feed.json" if folder else output / "feed.json").read_text()
        latencies.append(done - closed)
        print(f"edit {i:2d}: {path.relative_to(root)} -> {len(wanted)} feed files in {done - closed:.3f} s")
        time.sleep(1.5)  # edits seconds apart, as a writer makes them: the last build's cache save is done
    cpu_edits = _cpu(daemon.pid) - cpu_before
    time.sleep(1.0)
    idle_start, cpu_start = time.monotonic(), _cpu(daemon.pid)
    time.sleep(args.idle)
    idle = (_cpu(daemon.pid) - cpu_start) / (time.monotonic() - idle_start)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    load = os.getloadavg()
    rss = next(line.split()[1] for line in Path(f"/proc/{daemon.pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    print(f"{args.posts} posts, {len(latencies)} edits: median {statistics.median(latencies):.3f} s, "
          f"95th percentile {p95:.3f} s, max {latencies[-1]:.3f} s")
    print(f"daemon CPU: {cpu_edits / len(latencies):.3f} s per edit; idle {100 * idle:.2f} % of one core "
          f"over {args.idle:g} s; builds logged: {_builds(log_path)}; daemon RSS {int(rss) / 1024:.0f} MB")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
