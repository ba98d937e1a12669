"""Real enclosure sizes for remote images ([enclosures] fetch), against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import NOW, make_site, run_build, validate_feed, write_post
from feedwright.config import parse_config
from feedwright.errors import ConfigError
from feedwright.pipeline import probe
from feedwright.pipeline.announce import Round
from feedwright.pipeline.enclosures import JOIN_GRACE, Sizes, look_up
from feedwright.pipeline.probe import Client, Found, LookupFailed, addresses, ask

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"

# path -> (HEAD status, GET status, headers); "slow" answers after SLOW seconds
ROUTES: dict[str, tuple[int, int, dict[str, str]]] = {
    "/a.png": (200, 200, {"Content-Type": "image/png", "Content-Length": "1234"}),
    "/nohead.jpg": (405, 206, {"Content-Type": "image/jpeg", "Content-Range": "bytes 0-0/5678"}),
    "/photo": (200, 200, {"Content-Type": "image/gif; charset=binary", "Content-Length": "42"}),
    "/norange.png": (501, 200, {"Content-Type": "image/png", "Content-Length": "2468"}),  # GET ignores the range
    "/zerohead.png": (200, 206, {"Content-Type": "image/png", "Content-Length": "0", "Content-Range": "bytes 0-0/777"}),
    "/moved.png": (301, 301, {"Location": "/target.webp"}),
    "/target.webp": (200, 200, {"Content-Type": "image/webp", "Content-Length": "999"}),
    "/missing.png": (404, 404, {}),
    "/page.png": (200, 200, {"Content-Type": "text/html", "Content-Length": "10"}),
    "/loop.png": (302, 302, {"Location": "/loop.png"}),
    "/flaky.png": (200, 200, {"Content-Type": "image/png", "Content-Length": "321"}),
    "/to-private.png": (302, 302, {"Location": "http://127.0.0.1:{port}/a.png"}),
    "/slow.png": (200, 200, {"Content-Type": "image/png", "Content-Length": "7"}),
}
SLOW = 5.0


@dataclass
class Server:
    url: str = ""
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    agents: set[str] = field(default_factory=set)
    ranges: list[str] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.requests.values())


@contextmanager
def image_server() -> Iterator[Server]:
    server_state = Server()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            path = self.path.partition("?")[0]
            with lock:
                server_state.requests[(method, path)] += 1
                server_state.agents.add(self.headers.get("User-Agent", ""))
                if self.headers.get("Range"):
                    server_state.ranges.append(self.headers["Range"])
            if path == "/slow.png":
                time.sleep(SLOW)
            head, get, headers = ROUTES.get(path, (404, 404, {}))
            if path == "/flaky.png" and server_state.requests[(method, path)] == 1:  # down at first, then fine
                head, get, headers = 503, 503, {}
            self.send_response(head if method == "HEAD" else get)
            for name, value in headers.items():
                self.send_header(name, value.replace("{port}", str(self.server.server_address[1])))
            if "Content-Length" not in headers:
                self.send_header("Content-Length", "0")
            self.end_headers()
            if method == "GET" and path == "/nohead.jpg":
                self.wfile.write(b"\xff")

        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("HEAD")

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


def enclosure_site(root: Path, server: Server, *paths: str, extra: str = "allow_private = true\n") -> Path:
    site = make_site(root, f"[enclosures]\nfetch = true\ntimeout = 1\n{extra}")
    for n, path in enumerate(paths):
        fields = {"title": f"P{n}", "date": f"2024-01-{n + 1:02d} 10:00", "image": server.url + path}
        write_post(site, f"p{n}.md", fields)
    return site


def rss_enclosures(site: Path) -> dict[str, tuple[str | None, str | None]]:
    channel = etree.parse(str(site / "output" / "rss.xml")).getroot().find("channel")
    out = {}
    for item in channel.iter("item"):
        enclosure = item.find("enclosure")
        if enclosure is not None:
            out[enclosure.get("url")] = (enclosure.get("length"), enclosure.get("type"))
    return out


def test_sizes_and_types_reach_every_format_and_a_rebuild_asks_nobody(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/a.png", "/nohead.jpg", "/photo?id=3", "/moved.png", "/norange.png",
                              "/zerohead.png")
        report = run_build(site)
        assert report.warnings == []
        u = server.url
        assert rss_enclosures(site) == {
            f"{u}/a.png": ("1234", "image/png"),
            f"{u}/nohead.jpg": ("5678", "image/jpeg"),  # HEAD refused (405): ranged GET, Content-Range's total
            f"{u}/photo?id=3": ("42", "image/gif"),  # no extension: the server's type gives RSS its enclosure
            f"{u}/moved.png": ("999", "image/webp"),  # after the redirect, the target's type
            f"{u}/norange.png": ("2468", "image/png"),  # HEAD refused (501), the range ignored: the whole length
            f"{u}/zerohead.png": ("777", "image/png"),  # HEAD said 0: no image is empty, so the ranged GET asks
        }
        assert server.requests[("GET", "/nohead.jpg")] == 1 and server.ranges == ["bytes=0-0"] * 3
        assert server.requests[("HEAD", "/target.webp")] == 1
        (agent,) = server.agents
        assert agent.startswith("feedwright/") and agent.endswith("(+https://example.org/)")
        atom = etree.parse(str(site / "output" / "atom.xml")).getroot()
        lengths = {link.get("href"): link.get("length") for link in atom.iter(f"{ATOM}link")
                   if link.get("rel") == "enclosure"}
        assert lengths[f"{u}/a.png"] == "1234" and lengths[f"{u}/nohead.jpg"] == "5678"
        sizes = {c.get("url"): c.get("fileSize") for c in atom.iter(f"{MEDIA}content")}
        assert sizes[f"{u}/a.png"] == "1234" and sizes[f"{u}/photo?id=3"] == "42"
        for name in ("rss.xml", "atom.xml", "feed.json"):
            validate_feed(site / "output" / name)
        before, asked = {p.name: p.read_bytes() for p in (site / "output").iterdir() if p.is_file()}, server.total()
        again = run_build(site, now=NOW + timedelta(days=29))
        assert server.total() == asked  # the cache answered
        assert again.result is not None and again.result.written == []
        assert {p.name: p.read_bytes() for p in (site / "output").iterdir() if p.is_file()} == before
        run_build(site, now=NOW + timedelta(days=30))  # max_age passed: asked again, same answer, same bytes
        assert server.requests[("HEAD", "/a.png")] == 2
        assert {p.name: p.read_bytes() for p in (site / "output").iterdir() if p.is_file()} == before


def test_each_failure_is_one_warning_and_length_zero(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/missing.png", "/slow.png", "/page.png", "/loop.png", "/a.png")
        clock = time.monotonic()
        report = run_build(site)
        assert time.monotonic() - clock < SLOW  # the slow server did not hold the build for its answer
        u = server.url
        assert sorted(report.warnings) == sorted([
            f"content/p0.md: image {u}/missing.png: HTTP 404; enclosure length left at 0",
            f"content/p1.md: image {u}/slow.png: no answer within 1 s; enclosure length left at 0",
            f"content/p2.md: image {u}/page.png: served as text/html, not an image; enclosure length left at 0",
            f"content/p3.md: image {u}/loop.png: more than 5 redirects; enclosure length left at 0",
        ])
        assert server.requests[("GET", "/missing.png")] == 0  # a 404 is not asked twice
        found = rss_enclosures(site)
        assert found[f"{u}/missing.png"] == ("0", "image/png")  # the extension's type, as without look-ups
        assert found[f"{u}/a.png"] == ("1234", "image/png")  # the others are unharmed
        asked = server.total()
        report = run_build(site)  # failures are not asked again within a day, and still warned about
        assert server.total() == asked and len(report.warnings) == 4
        run_build(site, now=NOW + timedelta(days=1))
        assert server.requests[("HEAD", "/missing.png")] == 2


def test_a_failed_refresh_keeps_the_size_learnt_before(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/a.png")
        run_build(site)
        before = (site / "output" / "rss.xml").read_bytes()
    # The server is gone: the refresh after max_age fails, the feed keeps its length.
    report = run_build(site, now=NOW + timedelta(days=31))
    assert len(report.warnings) == 1 and "kept the length 1234 learnt before" in report.warnings[0]
    assert (site / "output" / "rss.xml").read_bytes() == before


def test_a_size_learnt_later_reaches_the_feeds_past_every_cache(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/flaky.png")
        report = run_build(site)
        assert report.warnings == [f"content/p0.md: image {server.url}/flaky.png: HTTP 503; enclosure length left at 0"]
        assert rss_enclosures(site)[f"{server.url}/flaky.png"] == ("0", "image/png")
        report = run_build(site, now=NOW + timedelta(days=1))  # rendered post from the cache; its image is new
        assert report.warnings == []
        assert report.result is not None and "rss.xml" in report.result.written
        assert rss_enclosures(site)[f"{server.url}/flaky.png"] == ("321", "image/png")


def test_a_stopping_daemon_asks_nobody_and_records_no_failure(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/a.png")
        report = run_build(site, stop=stop)
        assert server.total() == 0
        assert report.warnings == [f"content/p0.md: image {server.url}/a.png: not asked (stopping); enclosure "
                                   "length left at 0"]
        assert json.loads((site / ".feedwright" / "enclosures.json").read_text())["images"] == {}
        run_build(site)  # the next build asks at once: nothing was recorded as failed
        assert rss_enclosures(site)[f"{server.url}/a.png"] == ("1234", "image/png")


def test_archive_documents_keep_length_zero_and_are_not_asked_about(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/nohead.jpg", "/photo?id=3", "/a.png",
                              extra="allow_private = true\n[build]\nlimit = 1\narchives = true\narchive_size = 1\n")
        run_build(site)
        assert server.total() == 1 and server.requests[("HEAD", "/a.png")] == 1  # the newest post's image only
        assert rss_enclosures(site) == {f"{server.url}/a.png": ("1234", "image/png")}
        archived = etree.parse(str(site / "output" / "archive" / "rss-1.xml")).getroot()
        assert [(e.get("url"), e.get("length")) for e in archived.iter("enclosure")] == [
            (f"{server.url}/nohead.jpg", "0")]
        validate_feed(site / "output" / "archive" / "rss-1.xml")
        again = run_build(site)
        assert server.total() == 1 and again.result is not None and again.result.written == []


def test_loopback_is_refused_without_allow_private(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/a.png", extra="")
        report = run_build(site)
        assert server.total() == 0
        assert report.warnings == [f"content/p0.md: image {server.url}/a.png: refused: 127.0.0.1 is a loopback "
                                   "address (enclosures.allow_private is false); enclosure length left at 0"]
        assert rss_enclosures(site)[f"{server.url}/a.png"] == ("0", "image/png")


def test_private_addresses_are_refused() -> None:
    client = Client("test")
    with pytest.raises(LookupFailed, match="link-local"):
        addresses("169.254.169.254", 80, False)
    for host, kind in (("10.0.0.1", "private"), ("::1", "loopback"), ("224.0.0.1", "multicast"),
                       ("0.0.0.0", "unspecified"), ("::ffff:192.168.1.1", "private"), ("100.64.0.1", "non-public")):
        with pytest.raises(LookupFailed, match=kind):
            addresses(host, 80, False)
    assert addresses("127.0.0.1", 80, True) == ["127.0.0.1"]
    with pytest.raises(LookupFailed, match="not an http"):
        ask("ftp://example.org/a.png", client, Round(1))


def test_a_server_trickling_its_headers_is_cut_off_at_the_deadline() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    done = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n" * 100:  # a byte every 50 ms: each read
                if done.is_set():  # returns well within any per-read timeout
                    return
                with contextlib.suppress(OSError):
                    conn.sendall(bytes([byte]))
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    clock = time.monotonic()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/a.png"
        assert look_up([url], Client("t", allow_private=True), 1.0, 1, NOW)[url].error == "no answer within 1 s"
        assert time.monotonic() - clock < 3
        # Cut off, not abandoned: the deadline shut the socket, which woke the thread reading it.
        assert not [t for t in threading.enumerate() if t.name.startswith("enclosure-")]
    finally:
        done.set()
        listener.close()


def test_every_hop_and_every_address_is_checked_and_the_checked_one_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_resolve, real_addresses = socket.getaddrinfo, probe.addresses

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host == "rebind.test":  # a hostile DNS server: one public answer, one loopback
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("93.184.216.34", "127.0.0.1")]
        return real_resolve(host, port, *args, **kwargs)  # type: ignore[arg-type]

    def addresses(host: str, port: int, allow_private: bool) -> list[str]:
        # images.test stands for a public host served by the local server. No DNS knows the name: the request
        # reaches the server only because the connection goes to the address given here, not to a new lookup.
        return ["127.0.0.1"] if host == "images.test" else real_addresses(host, port, allow_private)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(probe, "addresses", addresses)
    with image_server() as server:
        port = server.url.rsplit(":", 1)[1]
        client = Client("test")
        assert ask(f"http://images.test:{port}/a.png", client, Round(2)) == Found(1234, "image/png")
        with pytest.raises(LookupFailed, match="refused: 127.0.0.1 is a loopback address"):
            ask(f"http://images.test:{port}/to-private.png", client, Round(2))  # the redirect hop is checked
        assert server.requests[("HEAD", "/to-private.png")] == 1 and server.requests[("HEAD", "/a.png")] == 1
        with pytest.raises(LookupFailed, match="refused: rebind.test is 127.0.0.1, a loopback"):
            ask(f"http://rebind.test:{port}/a.png", client, Round(2))  # one private answer among public ones
        assert server.requests[("HEAD", "/a.png")] == 1  # refused before connecting


def test_https_to_a_server_that_speaks_no_tls_is_a_failure_not_a_crash() -> None:
    with image_server() as server:
        url = server.url.replace("http:", "https:") + "/a.png"
        with pytest.raises(LookupFailed, match=r"SSL|EOF|reset"):
            ask(url, Client("test", allow_private=True), Round(2))


def test_a_lookup_stuck_where_no_socket_exists_is_left_behind() -> None:
    release, asked = threading.Event(), []

    def stuck(url: str, client: Client, round_: Round) -> Found:  # a DNS lookup: nothing can cancel it
        asked.append(url)
        release.wait(30)
        raise LookupFailed("late")

    clock = time.monotonic()
    found = look_up(["http://a/1.png", "http://a/2.png"], Client("t"), 0.2, 1, NOW, asker=stuck)
    assert time.monotonic() - clock < 0.2 + JOIN_GRACE + 1.5
    assert {url: k.error for url, k in found.items()} == dict.fromkeys(["http://a/1.png", "http://a/2.png"],
                                                                       "no answer within 0.2 s")
    release.set()
    time.sleep(0.2)
    assert asked == ["http://a/1.png"]  # released after the round returned, the thread asked nothing more


def test_no_lookups_unless_asked_and_none_for_check_or_site_files(tmp_path: Path) -> None:
    with image_server() as server:
        site = make_site(tmp_path / "off")
        write_post(site, "a.md", {"title": "A", "date": "2024-01-01", "image": server.url + "/a.png"})
        run_build(site)
        assert rss_enclosures(site)[f"{server.url}/a.png"] == ("0", "image/png")
        site = enclosure_site(tmp_path / "on", server, "/a.png")
        run_build(site, write=False)  # `check`
        assert server.total() == 0
        (site / "content" / "pic.png").write_bytes(b"x" * 17)  # a file of the site: its size, no request
        write_post(site, "local.md", {"title": "L", "date": "2024-02-01", "image": "/pic.png"})
        run_build(site)
        assert server.total() == 1
        assert rss_enclosures(site)["https://example.org/pic.png"] == ("17", "image/png")
        data = json.loads((site / ".feedwright" / "enclosures.json").read_text())
        assert list(data["images"]) == [f"{server.url}/a.png"]


def test_a_damaged_cache_file_is_a_warning_and_is_rebuilt(tmp_path: Path) -> None:
    with image_server() as server:
        site = enclosure_site(tmp_path, server, "/a.png")
        (site / ".feedwright").mkdir()
        (site / ".feedwright" / "enclosures.json").write_text('{"version": 1, "images": {"x": {"checked": 3}}}')
        report = run_build(site)
        assert len(report.warnings) == 1 and "damaged" in report.warnings[0]
        assert rss_enclosures(site)[f"{server.url}/a.png"] == ("1234", "image/png")
        assert run_build(site).warnings == []


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_JSON = st.recursive(
    _SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_RECORD = st.fixed_dictionaries({}, optional={"checked": st.sampled_from(["2025-01-01T00:00:00+00:00",
                                                                          "2025-01-01T00:00:00", "x"]) | _JSON,
                                             "length": _JSON, "type": st.just("image/png") | _JSON, "error": _JSON})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(_JSON, st.fixed_dictionaries({"version": st.just(1) | _JSON,
                                                   "images": st.dictionaries(st.text(max_size=20), _RECORD) | _JSON})))
def test_any_enclosures_file_loads_or_is_set_aside_with_a_warning(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "enclosures.json"
    path.write_text(json.dumps(doc))
    sizes = Sizes.load(path)  # never raises
    assert len(sizes.warnings) <= 1
    for known in sizes.known.values():  # what is kept is what a feed can carry
        assert known.checked.tzinfo is not None and known.length >= 0
        assert known.type is None or known.type.startswith("image/")
    assert json.loads(sizes.to_bytes())["version"] == 1


@pytest.mark.parametrize(("text", "error"), [
    ('fetch = "yes"', "enclosures.fetch must be true or false"),
    ("timeout = 0", "enclosures.timeout must be a number of seconds"),
    ('max_age = "soon"', "enclosures.max_age: 'soon' is not a duration"),
    ("concurrency = 0", "enclosures.concurrency must be a whole number between 1 and 32"),
    ("fecth = true", "unknown key enclosures.fecth; did you mean 'enclosures.fetch'?"),
])
def test_bad_enclosure_settings_are_config_errors(tmp_path: Path, text: str, error: str) -> None:
    import tomllib

    with pytest.raises(ConfigError, match=error.replace("?", r"\?").replace(".", r"\.")):
        parse_config(tomllib.loads(f"[enclosures]\n{text}\n"), tmp_path)


def test_settings_defaults(tmp_path: Path) -> None:
    import tomllib

    site = parse_config(tomllib.loads('[enclosures]\nmax_age = "7d"\n'), tmp_path)
    assert site.enclosure_max_age == timedelta(days=7)
    assert (site.enclosure_fetch, site.enclosure_allow_private, site.enclosure_concurrency) == (False, False, 4)
