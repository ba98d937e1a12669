"""WebSub: hub links in every feed, and one ping per hub and changed feed, recorded by a local hub on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree

from conftest import NOW, make_site, run_build, validate_feed, write_post
from feedwright.config import parse_config
from feedwright.errors import ConfigError
from feedwright.pipeline.announce import Ping, notify, ping

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Hub:
    """A hub that records every publish ping it receives and answers with ``statuses`` (then 202)."""

    url: str = ""
    pings: list[dict[str, list[str]]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def urls(self) -> list[str]:
        return sorted(p["hub.url"][0] for p in self.pings)


@contextmanager
def local_hub(statuses: list[int] | None = None) -> Iterator[Hub]:
    hub = Hub(statuses=list(statuses or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("ascii")
            with lock:
                hub.pings.append(parse_qs(body))
                hub.content_types.append(self.headers.get("Content-Type", ""))
                status = hub.statuses.pop(0) if hub.statuses else 202
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_hub() -> Iterator[str]:
    """A hub that accepts connections and never answers (a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now: connections are refused at once
    return f"http://127.0.0.1:{port}/"


def hub_site(root: Path, *hubs: str, timeout: float = 2.0) -> Path:
    listed = ", ".join(f'"{h}"' for h in hubs)
    site = make_site(root, f"[websub]\nhubs = [{listed}]\ntimeout = {timeout}\n")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01 10:00", "categories": ["News"]})
    write_post(site, "b.md", {"title": "B", "date": "2024-01-02 10:00", "categories": ["Sport"]})
    return site


def feed_urls(site: Path, *folders: str) -> list[str]:
    names = ("rss.xml", "atom.xml", "feed.json")
    return sorted(f"https://example.org/{folder}{name}" for folder in folders for name in names)


def test_every_format_announces_the_hubs(tmp_path: Path) -> None:
    site = hub_site(tmp_path, "https://hub.one.example/", "https://hub.two.example/")
    run_build(site, write=False)  # no pings without writing; the bytes are checked through a real build below
    with local_hub() as hub:
        site = hub_site(tmp_path / "two", hub.url, "https://hub.two.example/")
        run_build(site)
    output = site / "output"
    for rel in ("rss.xml", "categories/news/rss.xml"):
        channel = etree.parse(str(output / rel)).getroot().find("channel")
        links = [(link.get("rel"), link.get("href")) for link in channel.iter(f"{ATOM}link")]
        assert links[0][0] == "self"
        assert [href for rel_, href in links if rel_ == "hub"] == [hub.url, "https://hub.two.example/"]
        assert channel.findtext("link") == "https://example.org/"  # the hub links did not steal the channel link
        validate_feed(output / rel)
    atom = validate_feed(output / "atom.xml")
    assert [link["href"] for link in atom.feed.links if link["rel"] == "hub"] == [hub.url, "https://hub.two.example/"]
    doc = validate_feed(output / "feed.json")
    assert doc["hubs"] == [{"type": "WebSub", "url": hub.url}, {"type": "WebSub", "url": "https://hub.two.example/"}]


def test_no_hubs_no_hub_links(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    report = run_build(site)
    assert report.pings == []
    assert b'rel="hub"' not in (site / "output" / "rss.xml").read_bytes()
    assert b"hubs" not in (site / "output" / "feed.json").read_bytes()


def test_pings_once_per_changed_feed_and_never_for_unchanged_ones(tmp_path: Path) -> None:
    with local_hub() as hub:
        site = hub_site(tmp_path, hub.url)
        first = run_build(site)
        assert hub.urls() == feed_urls(site, "", "categories/news/", "categories/sport/")
        assert all(p["hub.mode"] == ["publish"] and len(p) == 2 for p in hub.pings)
        assert set(hub.content_types) == {"application/x-www-form-urlencoded"}
        assert all(p.ok for p in first.pings) and not first.warnings

        hub.pings.clear()
        run_build(site)
        assert hub.pings == []  # nothing changed: no feed rewritten, nobody pinged

        write_post(site, "c.md", {"title": "C", "date": "2024-01-03 10:00", "categories": ["Sport"]})
        report = run_build(site)
        assert hub.urls() == feed_urls(site, "", "categories/sport/")  # the News feeds did not change
        assert len(report.pings) == 6


def test_every_hub_gets_every_changed_feed(tmp_path: Path) -> None:
    with local_hub() as one, local_hub() as two:
        site = hub_site(tmp_path, one.url, two.url)
        run_build(site)
    assert one.urls() == two.urls() == feed_urls(site, "", "categories/news/", "categories/sport/")


def test_a_dead_hub_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    dead = closed_port()
    with local_hub() as alive:
        site = hub_site(tmp_path, dead, alive.url, timeout=1)
        started = time.monotonic()
        report = run_build(site)
        took = time.monotonic() - started
    assert report.result is not None and report.result.written  # the feeds were published
    assert len(alive.pings) == 9  # the live hub is not held back by the dead one
    failed = [p for p in report.pings if not p.ok]
    assert {p.hub for p in failed} == {dead} and len(failed) == 9
    warnings = [w for w in report.warnings if w.startswith("websub: ")]
    assert len(warnings) == 9 and all(dead in w and "failed" in w for w in warnings)
    # Refused at once; retried twice (0.5 s + 1 s pauses) for the first feeds, the rest skipped as unreachable.
    assert took < 10, took


def test_a_hung_hub_costs_at_most_its_timeout(tmp_path: Path) -> None:
    with silent_hub() as hung:
        site = hub_site(tmp_path, hung, timeout=0.3)
        started = time.monotonic()
        report = run_build(site)
        took = time.monotonic() - started
    assert report.result is not None and report.result.written
    assert report.pings and not any(p.ok for p in report.pings)
    # 9 feeds, 8 threads: the ninth ping is not sent (or, as the round ends, skipped or only just sent).
    details = [p.detail for p in report.pings]
    assert details[:8] == ["did not answer within 0.3 s"] * 8, details
    assert details[8] in ("did not answer within 0.3 s", "not sent: the 0.3 s round was over", SKIPPED), details
    assert str(report.pings[0]).startswith(f"websub: {hung} did not answer within 0.3 s (https://example.org/")
    # The whole round is bounded by the timeout, not each attempt: no retry fits after a hung attempt.
    assert took < 4, took


def test_cli_build_with_a_dead_hub_exits_0_and_says_why(tmp_path: Path) -> None:
    site = hub_site(tmp_path, closed_port(), timeout=1)
    result = subprocess.run(
        [sys.executable, "-m", "feedwright", "build", "--site", str(site), "-q"],
        capture_output=True, text=True, timeout=60, env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("warning: websub: http://127.0.0.1:") for line in lines), lines
    assert "Traceback" not in result.stderr


# ping() and notify() on their own, with a fake transport: the retry policy.


def fake_post(answers: list[int | Exception]) -> tuple[list[bytes], object]:
    seen: list[bytes] = []

    def post(hub: str, body: bytes, timeout: float) -> int:
        seen.append(body)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, post


def test_ping_retries_server_errors_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("feedwright.pipeline.announce.BACKOFF", 0.01)
    seen, post = fake_post([503, ConnectionResetError(104, "Connection reset by peer"), 204])
    result = ping("https://hub.example/", "https://example.org/rss.xml?a=1&b", post=post)  # type: ignore[arg-type]
    assert result == Ping("https://hub.example/", "https://example.org/rss.xml?a=1&b", True, 3, "HTTP 204")
    assert seen[0] == b"hub.mode=publish&hub.url=https%3A%2F%2Fexample.org%2Frss.xml%3Fa%3D1%26b"


def test_ping_gives_up_after_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("feedwright.pipeline.announce.BACKOFF", 0.01)
    seen, post = fake_post([500, 502, 429, 202])
    result = ping("https://hub.example/", "https://example.org/rss.xml", post=post)  # type: ignore[arg-type]
    assert not result.ok and result.attempts == 3 and result.detail == "HTTP 429" and len(seen) == 3
    assert str(result) == "websub: https://hub.example/ failed https://example.org/rss.xml (HTTP 429, 3 attempts)"


def test_ping_does_not_retry_a_refusal() -> None:
    seen, post = fake_post([400, 202])
    result = ping("https://hub.example/", "https://example.org/rss.xml", post=post)  # type: ignore[arg-type]
    assert not result.ok and result.attempts == 1 and len(seen) == 1


def test_notify_nothing_to_say_sends_nothing() -> None:
    seen, post = fake_post([])
    assert notify(["https://hub.example/"], [], post=post) == []  # type: ignore[arg-type]
    assert notify([], ["https://example.org/rss.xml"], post=post) == []  # type: ignore[arg-type]
    assert seen == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('hubs = "https://hub.example/"', "websub.hubs must be a list of hub URLs"),
        ('hubs = ["hub.example"]', "websub.hubs entries must be absolute http(s) URLs, got 'hub.example'"),
        ('hubs = ["ftp://hub.example/"]', "entries must be absolute http(s) URLs"),
        ("hubs = [1]", "websub.hubs must be a string, got int"),
        ("timeout = 0", "websub.timeout must be a number of seconds between 0 and 60, got 0"),
        ('timeout = "5"', "websub.timeout must be a number of seconds"),
        ("pings = true", "unknown key websub.pings"),
    ],
)
def test_bad_websub_config(tmp_path: Path, table: str, message: str) -> None:
    import tomllib

    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        parse_config(tomllib.loads(f"[websub]\n{table}\n"), tmp_path)


def test_websub_config_is_read(tmp_path: Path) -> None:
    import tomllib

    site = parse_config(tomllib.loads('[websub]\nhubs = ["https://a.example/", "https://a.example/"]\ntimeout = 2\n'),
                        tmp_path)
    assert site.hubs == ("https://a.example/",) and site.hub_timeout == 2.0


# Hubs that defeat a per-read timeout: the whole round has one deadline, enforced on the sockets.

SKIPPED = "skipped: the hub could not be reached for another feed"


def _websub_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("websub")]


def test_a_dripping_hub_is_cut_at_the_round_deadline(dripping_hub: str) -> None:
    urls = [f"https://example.org/{n}/rss.xml" for n in range(12)]  # more pairs than threads
    before = threading.active_count()
    started = time.monotonic()
    pings = notify([dripping_hub], urls, timeout=1.5)
    took = time.monotonic() - started
    assert threading.active_count() == before and _websub_threads() == []  # no thread outlives the round
    assert len(pings) == 12 and not any(p.ok for p in pings)
    details = [p.detail for p in pings]
    assert details[:8] == ["did not answer within 1.5 s"] * 8, details  # one a thread; the rest were not sent
    assert set(details[8:]) <= {"did not answer within 1.5 s", "not sent: the 1.5 s round was over", SKIPPED}, details
    assert str(pings[0]) == f"websub: {dripping_hub} did not answer within 1.5 s ({urls[0]}, 1 attempts)"
    assert 1.4 < took < 1.5 + 2, took  # urllib's per-read timeout alone would wait for ever


def test_hung_and_dripping_hubs_together_leave_no_thread_behind(dripping_hub: str) -> None:
    with silent_hub() as hung, local_hub() as alive:
        before = threading.active_count()
        for _ in range(3):  # the daemon's leak was per round
            pings = notify([hung, dripping_hub, alive.url], ["https://example.org/rss.xml"], timeout=0.8)
            assert threading.active_count() == before and _websub_threads() == []
            assert [p.ok for p in pings] == [False, False, True]
        assert len(alive.pings) == 3


def test_a_stop_event_ends_the_round_at_once(dripping_hub: str) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    pings = notify([dripping_hub], ["https://example.org/rss.xml"], timeout=30, stop=stop)
    assert time.monotonic() - started < 2
    assert not pings[0].ok and _websub_threads() == []


def test_cli_build_with_a_dripping_hub_exits_after_the_timeout(tmp_path: Path, dripping_hub: str) -> None:
    site = hub_site(tmp_path, dripping_hub, timeout=2)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "feedwright", "build", "--site", str(site), "-q"],
        capture_output=True, text=True, timeout=60, env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PATH": ""},
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 9 and all(line.startswith(f"warning: websub: {dripping_hub} ") for line in lines)
    assert sum(f"{dripping_hub} did not answer within 2 s" in line for line in lines) >= 8  # one a thread
    assert took < 2 + 5, took  # cron used to wait for ever: the abandoned threads held the interpreter open
