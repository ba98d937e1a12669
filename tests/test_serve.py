"""``feedwright serve``: the preview server on a built example site, over real HTTP on the loopback address.

Requests go through ``http.client`` (or a raw socket) so that paths reach the server exactly as written,
never normalised by a client library.
"""

from __future__ import annotations

import gzip
import http.client
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from conftest import NOW, run_build, wait_for, write_post
from feedwright.cli import _parser
from feedwright.errors import ConfigError
from feedwright.ops.serve import PreviewServer, content_type, make_server

DEADLINE = 15.0  # seconds any single expected event may take on a slow, busy machine
SECRET = b"top secret, beside output/"

Reply = tuple[int, dict[str, str], bytes]


def fetch(url_or_server: PreviewServer | str, path: str, method: str = "GET", **headers: str) -> Reply:
    """One request with ``path`` sent verbatim; returns (status, headers with lower-case names, body)."""
    url = url_or_server if isinstance(url_or_server, str) else url_or_server.url
    host, port = re.match(r"http://([^/:]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def raw_status(server: PreviewServer, request_line: bytes) -> tuple[int, bytes]:
    """Send ``request_line`` as bytes on a bare socket (for what http.client refuses to send, such as NUL)."""
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


@pytest.fixture
def site(example_site: Path) -> Path:
    """The example site, built at NOW, plus a few extra files in output/ and a secret file beside it."""
    run_build(example_site)
    out = example_site / "output"
    (example_site / "secret.txt").write_bytes(SECRET)
    (out / "index.html").write_text("<!doctype html><title>home</title>\n", encoding="utf-8")
    (out / "feed.xsl").write_text('<xsl:stylesheet version="1.0"/>\n', encoding="utf-8")
    (out / "feeds.opml").write_text('<opml version="2.0"/>\n', encoding="utf-8")
    (out / "other.xml").write_text("<x/>\n", encoding="utf-8")
    (out / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (out / "sub").mkdir()
    (out / "sub" / "index.html").write_text("<p>sub</p>\n", encoding="utf-8")
    (out / ".hidden").write_bytes(SECRET)
    (out / "leak.txt").symlink_to(example_site / "secret.txt")
    (out / "up").symlink_to(example_site, target_is_directory=True)
    return example_site


@pytest.fixture
def server(site: Path) -> Iterator[PreviewServer]:
    srv = make_server(site / "output", port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


EXPECTED_TYPES = {
    "/rss.xml": "application/rss+xml; charset=utf-8",
    "/atom.xml": "application/atom+xml; charset=utf-8",
    "/feed.json": "application/feed+json; charset=utf-8",
    "/categories/news/rss.xml": "application/rss+xml; charset=utf-8",
    "/categories/news/atom.xml": "application/atom+xml; charset=utf-8",
    "/categories/news/feed.json": "application/feed+json; charset=utf-8",
    "/feed.xsl": "text/xsl; charset=utf-8",
    "/feeds.opml": "text/x-opml; charset=utf-8",
    "/other.xml": "application/xml; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/": "text/html; charset=utf-8",
    "/sub/": "text/html; charset=utf-8",
    "/pic.png": "image/png",
}


def test_content_types_and_bodies(server: PreviewServer, site: Path) -> None:
    for path, ctype in EXPECTED_TYPES.items():
        status, headers, body = fetch(server, path)
        assert status == 200, path
        assert headers["content-type"] == ctype, path
        name = path.lstrip("/") + ("index.html" if path.endswith("/") else "")
        assert body == (site / "output" / name).read_bytes(), path
        assert re.fullmatch(r'"[0-9a-f]+"', headers["etag"]), path
        assert headers["last-modified"].endswith(" GMT"), path
        assert int(headers["content-length"]) == len(body)
    assert content_type("RSS.XML") == "application/rss+xml; charset=utf-8"


def test_folders_without_index_and_other_methods(server: PreviewServer) -> None:
    assert fetch(server, "/categories/")[0] == 404  # no listing
    assert fetch(server, "/categories")[0] == 404
    assert fetch(server, "/missing.xml")[0] == 404
    status, headers, _ = fetch(server, "/sub")
    assert (status, headers["location"]) == (301, "/sub/")
    status, headers, _ = fetch(server, "/rss.xml", "POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert fetch(server, "/rss.xml?cache=bust")[0] == 200


def test_conditional_requests(server: PreviewServer, site: Path) -> None:
    status, headers, body = fetch(server, "/rss.xml")
    etag, modified = headers["etag"], headers["last-modified"]

    status, headers, body = fetch(server, "/rss.xml", If_None_Match=etag)
    assert (status, body, headers["etag"]) == (304, b"", etag)
    assert fetch(server, "/rss.xml", If_None_Match=f'"other", {etag}')[0] == 304
    assert fetch(server, "/rss.xml", If_Modified_Since=modified)[0] == 304
    later = format_datetime(NOW.replace(year=2100), usegmt=True)
    assert fetch(server, "/rss.xml", If_Modified_Since=later)[0] == 304
    earlier = format_datetime(NOW - timedelta(days=3650), usegmt=True)
    assert fetch(server, "/rss.xml", If_Modified_Since=earlier)[0] == 200
    # If-None-Match wins over a matching If-Modified-Since.
    assert fetch(server, "/rss.xml", If_None_Match='"other"', If_Modified_Since=modified)[0] == 200

    # A new post changes the feed's bytes: the old validators no longer match, whatever the clock did.
    write_post(site, "news/served-later.md", {"title": "Served after a rebuild", "date": "2025-11-20"})
    run_build(site)
    status, headers, body = fetch(server, "/rss.xml", If_None_Match=etag, If_Modified_Since=modified)
    assert status == 200
    assert headers["etag"] != etag
    assert "Served after a rebuild" in body.decode("utf-8")
    assert body == (site / "output" / "rss.xml").read_bytes()
    assert fetch(server, "/rss.xml", If_None_Match=headers["etag"])[0] == 304


def test_head_has_the_headers_of_get_and_no_body(server: PreviewServer) -> None:
    for path in ("/rss.xml", "/feed.json", "/"):
        for encoding in ("identity", "gzip"):
            get_status, get_headers, get_body = fetch(server, path, Accept_Encoding=encoding)
            head_status, head_headers, head_body = fetch(server, path, "HEAD", Accept_Encoding=encoding)
            assert (head_status, head_body) == (200, b"")
            for name in ("content-type", "content-length", "etag", "last-modified", "vary"):
                assert head_headers.get(name) == get_headers.get(name), (path, encoding, name)
            assert int(head_headers["content-length"]) == len(get_body)


def test_gzip(server: PreviewServer, site: Path) -> None:
    _, plain, _ = fetch(server, "/atom.xml")
    status, headers, body = fetch(server, "/atom.xml", Accept_Encoding="gzip, deflate")
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower() and "accept-encoding" in plain["vary"].lower()
    assert gzip.decompress(body) == (site / "output" / "atom.xml").read_bytes()
    assert len(body) < len(gzip.decompress(body))
    assert headers["etag"] != plain["etag"] and headers["etag"].endswith('-gzip"')
    # Each variant revalidates against its own ETag only.
    assert fetch(server, "/atom.xml", Accept_Encoding="gzip", If_None_Match=headers["etag"])[0] == 304
    assert fetch(server, "/atom.xml", Accept_Encoding="gzip", If_None_Match=plain["etag"])[0] == 200
    assert fetch(server, "/atom.xml", If_None_Match=plain["etag"])[0] == 304
    # Refused or not offered: identity.
    for accept in ("gzip;q=0", "br", "identity"):
        status, headers, body = fetch(server, "/atom.xml", Accept_Encoding=accept)
        assert "content-encoding" not in headers, accept
        assert body == (site / "output" / "atom.xml").read_bytes()
    assert "content-encoding" not in fetch(server, "/pic.png", Accept_Encoding="gzip")[1]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browsers_get_feeds_as_application_xml_and_readers_the_registered_types(
    server: PreviewServer, site: Path
) -> None:
    for path in ("/rss.xml", "/categories/news/atom.xml"):
        registered = EXPECTED_TYPES[path]
        _, reader, body = fetch(server, path, Accept="application/rss+xml, application/atom+xml, */*;q=0.1")
        _, browser, page = fetch(server, path, Accept=BROWSER_ACCEPT)
        assert reader["content-type"] == registered
        assert fetch(server, path, Accept="*/*")[1]["content-type"] == registered
        assert browser["content-type"] == "application/xml; charset=utf-8", path
        assert page == body  # the same bytes, another type: Chromium applies feed.xsl only to application/xml
        assert "accept" in [v.strip().lower() for v in browser["vary"].split(",")]
        assert "accept" in [v.strip().lower() for v in reader["vary"].split(",")]
        assert browser["etag"] != reader["etag"]
        assert fetch(server, path, Accept=BROWSER_ACCEPT, If_None_Match=browser["etag"])[0] == 304
        assert fetch(server, path, If_None_Match=browser["etag"])[0] == 200
    # Everything else is the same for everyone.
    for path in ("/feed.json", "/feed.xsl", "/index.html"):
        assert fetch(server, path, Accept=BROWSER_ACCEPT)[1]["content-type"] == EXPECTED_TYPES[path]
    assert fetch(server, "/text/html", Accept="text/html")[0] == 404


ESCAPES = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/categories/../../secret.txt",
    "/categories/news/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/%5c..%5csecret.txt",
    "/%00../secret.txt",
    "/rss.xml%00.txt",
    "//secret.txt",
    "/up/secret.txt",
    "/up/feedwright.toml",
    "/leak.txt",
    "/.hidden",
    "/sub/../../secret.txt",
    "http://127.0.0.1/../secret.txt",
    "secret.txt",
    "*",
]


def test_no_escape_from_output(server: PreviewServer, site: Path) -> None:
    absolute = str(site / "secret.txt")
    for path in [*ESCAPES, "/" + absolute, "/" + absolute.lstrip("/"), absolute, "/up" + "/.." * 10 + absolute]:
        status, _, body = fetch(server, path)
        assert status in (400, 404), (path, status)
        assert SECRET not in body, path
    for request_line in (b"GET /\x00/secret.txt HTTP/1.1", b"GET /../secret.txt\x00 HTTP/1.1"):
        status, data = raw_status(server, request_line)
        assert status in (400, 404) and SECRET not in data, request_line


def test_binds_to_loopback_by_default_and_logs_each_request(
    server: PreviewServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert _parser().parse_args(["serve"]).host == "127.0.0.1"
    caplog.set_level(logging.INFO, logger="feedwright.serve")
    _, _, body = fetch(server, "/rss.xml")
    fetch(server, "/rss.xml", "HEAD")
    fetch(server, "/../secret.txt")
    wait_for(lambda: len([r for r in caplog.records if r.name == "feedwright.serve"]) >= 3, "three log lines")
    lines = [r.getMessage() for r in caplog.records if r.name == "feedwright.serve"]
    assert lines[:3] == [f"GET /rss.xml 200 {len(body)}", "HEAD /rss.xml 200 0", "GET /../secret.txt 404 14"]


def test_port_in_use_and_bad_addresses(site: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} .*already in use"):
            make_server(site / "output", port=port)
        result = _cli(site, "--port", str(port))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"feedwright: port {port} on 127.0.0.1 is already in use; choose another with --port"
        ]
    for args in (["--port", "http"], ["--port", "70000"], ["--port", "-1"], ["--host", "192.0.2.1", "--port", "0"]):
        result = _cli(site, *args)
        assert result.returncode == 2, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("feedwright: "), (args, result.stderr)


def test_serve_without_output_asks_for_a_build(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    result = _cli(tmp_path, "--port", "0")
    assert result.returncode == 2
    assert "run `feedwright build` first" in result.stderr


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedwright", "serve", "--site", str(site), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=_env(), stdin=subprocess.DEVNULL)


def test_watch_rebuilds_on_change_and_stops_on_sigterm(example_site: Path) -> None:
    command = [sys.executable, "-m", "feedwright", "serve", "--site", str(example_site), "--watch", "--port", "0"]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=_env())
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        url = wait_for(lambda: next((m[1] for m in map(re.compile(r"serving (http://\S+)").search, lines) if m), None),
                       "the server's URL")
        assert url.startswith("http://127.0.0.1:")
        status, _, body = fetch(url, "/rss.xml")  # the initial build made it
        assert status == 200 and "Watched post" not in body.decode("utf-8")
        assert (example_site / ".feedwright" / "status.json").is_file()  # a recorded build, under the lock

        write_post(example_site, "news/watched.md", {"title": "Watched post 감시", "date": "2025-11-01"})
        wait_for(lambda: "Watched post 감시" in fetch(url, "/rss.xml")[2].decode("utf-8"), "the new post")

        # A broken config fails the rebuild; the server logs it and keeps serving the last output.
        (example_site / "feedwright.toml").write_text("[site\n", encoding="utf-8")
        wait_for(lambda: any("build failed" in line for line in lines), "the failed build in the log")
        assert fetch(url, "/rss.xml")[0] == 200 and proc.poll() is None

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=DEADLINE)
        reader.join(5)
    assert any(re.search(r"GET /rss\.xml 200 \d+", line) for line in lines)


def test_watch_without_a_site_url_publishes_under_the_preview_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedwright.config import load_site
    from feedwright.ops.serve import Watcher

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    write_post(tmp_path, "hello.md", {"title": "Hello", "date": "2024-01-01"})
    watcher = Watcher(load_site(tmp_path), base_url="http://127.0.0.1:8123/")
    watcher.rebuild()
    rss = (tmp_path / "output" / "rss.xml").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8123/hello/" in rss and "localhost:8000" not in rss
