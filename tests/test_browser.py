"""A real headless Chromium opens the built example site through the preview server (``feedwright.ops.serve``).

What Chromium does with a feed depends on the Content-Type it is served with (checked here, Chromium 156):

* ``application/rss+xml`` and ``application/atom+xml`` (the registered types, which feed readers get): Chromium
  shows the XML *source* as plain text (a ``<pre>``); it neither downloads the file nor applies the
  ``<?xml-stylesheet?>``. :func:`test_registered_types_show_the_source` pins this down (the server is made to
  answer Chromium as it answers a reader), so that a Chromium that changes its mind is noticed.
* ``application/xml`` or ``text/xml``: Chromium applies ``feed.xsl`` and shows the readable page. So the preview
  server sends feeds as ``application/xml`` to browsers only: to requests whose ``Accept`` names ``text/html``
  (every browser navigation does; feed readers do not), with ``Vary: Accept`` (``feedwright.ops.serve``).

Chromium 156 also puts a red "XSLT is being removed from this browser" banner over such pages (Chromium's
``GenerateXSLTWarningBanner`` feature); it is switched off here so that the screenshot shows the page itself.

Nothing leaves the machine: every host name but 127.0.0.1 fails to resolve and every other connection goes to a
proxy that is not there. Every Chromium run is bounded by :data:`TIMEOUT`. The screenshots are written to
``test-artifacts/`` (git-ignored) for a person to look at; Korean text needs a CJK font (Debian: fonts-noto-cjk)
to be legible there, which the assertions (made on the DOM) do not need.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import REPO, copy_example_site, run_build

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (.ci/run installs it with apt)")

TIMEOUT = 90  # seconds per Chromium run
ARTIFACTS = REPO / "test-artifacts"
# What Chromium sends when it navigates to a URL.
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
                  "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
SEED_TITLE = "서울시 UN 공공행정상 수상으로 세계 주목받아"  # content/news/seoul-un-award.md
ENGLISH_TITLE = "What our readers use to follow feeds"  # content/tech/2025-04-08-feed-reader-survey.md
FEED_TYPES = ("application/rss+xml", "application/atom+xml")


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = copy_example_site(tmp_path_factory.mktemp("browser"))
    report = run_build(site)
    assert not report.rejected
    return site / "output"


@contextlib.contextmanager
def serving(output: Path, *, as_reader: bool = False) -> Iterator[str]:
    """The preview server on a free loopback port, in a thread; yields its URL.

    ``as_reader``: every request is answered as if it came from a feed reader (``Accept: */*``).
    """
    from feedwright.ops.serve import make_server

    server = make_server(output, host="127.0.0.1", port=0)
    if as_reader:
        app = server.app
        server.app = lambda environ, start: app({**environ, "HTTP_ACCEPT": "*/*"}, start)  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def chromium(url: str, *args: str) -> str:
    """Run headless Chromium on ``url`` with ``args``; its stdout. Fails after :data:`TIMEOUT` seconds."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            f"--user-data-dir={profile}", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars",
            # Loopback only (see the module docstring).
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--disable-features=GenerateXSLTWarningBanner",
            *args, url,
        ]
        # A session of its own, so that the browser's helper processes can all be ended with it.
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"chromium did not finish {url} within {TIMEOUT} s")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {stderr[-2000:]}"
    return stdout


def dump_dom(url: str) -> lxml_html.HtmlElement:
    """The DOM Chromium built for ``url`` (after XSLT, if it applied any), parsed."""
    dom = chromium(url, "--dump-dom")
    assert dom.strip(), f"chromium rendered nothing for {url} (a download?)"
    return lxml_html.document_fromstring(dom)


def _text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _served_type(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": BROWSER_ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"]


@pytest.mark.parametrize("rel", ["rss.xml", "atom.xml"])
def test_feed_view_is_rendered(output: Path, rel: str) -> None:
    with serving(output) as url:
        assert _served_type(url + rel).startswith("application/xml")
        page = dump_dom(url + rel)
    text = _text(page)
    assert page.find(".//pre") is None, "chromium shows the source, not the stylesheet's page"
    assert "Feedwright Example News" in _text(page.find(".//h1"))
    assert "This is a web feed" in text and "copy this address into your feed reader" in text
    titles = [_text(a) for a in page.iterfind(".//li[@class='item']//h3/a")]
    assert SEED_TITLE in titles and ENGLISH_TITLE in titles and len(titles) == 9
    assert "Q&A: why <br> is not a paragraph" in titles  # text, not markup


def test_registered_types_show_the_source(output: Path) -> None:
    """What Chromium does with ``application/rss+xml`` / ``application/atom+xml``: plain text, no XSLT."""
    with serving(output, as_reader=True) as url:
        for rel, ctype in (("rss.xml", "application/rss+xml"), ("atom.xml", "application/atom+xml")):
            assert _served_type(url + rel).startswith(ctype)
            page = dump_dom(url + rel)
            (pre,) = page.iterfind(".//pre")
            source = pre.text_content()
            assert source.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<?xml-stylesheet"), rel
            assert SEED_TITLE in source and page.find(".//h3") is None, rel


def test_index_page(output: Path) -> None:
    with serving(output) as url:
        page = dump_dom(url + "index.html")
    text = _text(page)
    assert "Follow this site in a feed reader" in text
    assert "디지털 성범죄" in text and "Culture" in text and "feeds.opml" in text
    links = page.findall(".//head/link[@rel='alternate']")
    assert len(links) == 39
    assert {link.get("type") for link in links} == {*FEED_TYPES, "application/feed+json"}
    assert all(link.get("href").startswith("https://news.example.org/") for link in links)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _distinct_rows(data: bytes) -> int:
    """How many different pixel rows the PNG has: a blank or near-blank page has very few."""
    width, _ = _png_size(data)
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    depth, color = data[24], data[25]
    assert depth == 8 and color in (2, 6), f"unexpected PNG format (bit depth {depth}, colour type {color})"
    stride = 1 + width * (3 if color == 2 else 4)  # a filter byte, then RGB or RGBA pixels
    raw = zlib.decompress(idat)
    # Rows are compared with their filter bytes: still enough to tell a page of text from an empty one.
    return len({raw[i : i + stride] for i in range(0, len(raw), stride)})


@pytest.mark.parametrize(("rel", "name"), [("rss.xml", "feed-view.png"), ("index.html", "index-view.png")])
def test_screenshot(output: Path, tmp_path: Path, rel: str, name: str) -> None:
    shot = tmp_path / name
    with serving(output) as url:
        chromium(url + rel, f"--screenshot={shot}", "--window-size=1200,1600")
    data = shot.read_bytes()
    assert _png_size(data) == (1200, 1600)
    assert len(data) > 20_000 and _distinct_rows(data) > 100, "the screenshot is (nearly) blank"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy2(shot, ARTIFACTS / name)
