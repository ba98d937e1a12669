"""A real feed reader against the preview server: newsboat subscribes to the example site's feeds over HTTP.

newsboat runs without a terminal (``-x reload``) with its own urls, config and cache in a temporary HOME.
What it stored is read back from its SQLite cache; how the server answered is read from the server's log.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import SEED, run_build
from feedwright.ops.serve import PreviewServer, make_server

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat)")

FEEDS = ["rss.xml", "atom.xml", "categories/news/rss.xml", "categories/culture/atom.xml"]


class Requests(logging.Handler):
    """Collects the server's request log lines: (method, path, status)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[tuple[str, str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        method, path, status, _ = record.getMessage().split(" ")
        self.seen.append((method, path, int(status)))


@pytest.fixture
def served(example_site: Path) -> Iterator[tuple[PreviewServer, Requests]]:
    run_build(example_site)
    requests = Requests()
    logger = logging.getLogger("feedwright.serve")
    logger.addHandler(requests)
    level = logger.level
    logger.setLevel(logging.INFO)
    server = make_server(example_site / "output", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        logger.removeHandler(requests)
        logger.setLevel(level)


def _newsboat(home: Path, command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share")}
    args = [NEWSBOAT or "newsboat", "-u", str(home / "urls"), "-c", str(home / "cache.db"),
            "-C", str(home / "config"), "-x", command]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"newsboat -x {command}: {result.stdout}{result.stderr}"
    return result


def _published_titles(output: Path, feed: str) -> set[str]:
    """The titles a feed carries, from its JSON sibling (which the test can read without a feed parser)."""
    doc = json.loads((output / feed).with_name("feed.json").read_text(encoding="utf-8"))
    return {item["title"] for item in doc["items"]}


def test_newsboat_reads_the_feeds_and_revalidates(served: tuple[PreviewServer, Requests], tmp_path: Path,
                                                  example_site: Path) -> None:
    server, requests = served
    home = tmp_path / "home"
    home.mkdir()
    urls = [server.url + feed for feed in FEEDS]
    (home / "urls").write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")
    (home / "config").write_text("reload-threads 1\ndownload-timeout 10\ndownload-retries 1\n", encoding="utf-8")

    _newsboat(home, "reload")
    assert sorted(p for m, p, s in requests.seen if s == 200) == sorted("/" + feed for feed in FEEDS)

    db = sqlite3.connect(home / "cache.db")
    try:
        # newsboat keeps one row per item id across feeds: every item of every feed must be there, by title.
        stored = {title for (title,) in db.execute("SELECT title FROM rss_item")}
        expected = set().union(*(_published_titles(example_site / "output", feed) for feed in FEEDS))
        seed_title = yaml.safe_load((example_site / "content" / SEED).read_text("utf-8").split("---")[1])["title"]
        assert seed_title in expected and seed_title == "서울시 UN 공공행정상 수상으로 세계 주목받아"
        assert stored == expected
        feeds = dict(db.execute("SELECT rssurl, title FROM rss_feed"))
        assert set(feeds) == set(urls) and all(feeds.values())
    finally:
        db.close()
    unread = _newsboat(home, "print-unread").stdout
    assert unread.strip() == f"{len(expected)} unread articles"

    # newsboat 2.21 stores a feed's ETag and Last-Modified only once the feed is in its cache, i.e. from the
    # second reload on: by the third, every feed must be revalidated and answered 304 Not Modified.
    _newsboat(home, "reload")
    requests.seen.clear()
    _newsboat(home, "reload")
    assert sorted(requests.seen) == sorted(("GET", "/" + feed, 304) for feed in FEEDS)
