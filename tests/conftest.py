"""Shared fixtures and helpers: a temp copy of the example site, a post writer, a fixed clock, feed validators."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
import yaml
from lxml import etree

from feedwright.build import BuildReport, build
from feedwright.config import load_site
from feedwright.pipeline.pages import PAGES

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMAS = SHARED / "schemas"
CORPORA = SHARED / "corpora"

# "Now" for every test build: after every dated example post, before the scheduled 2031 one.
NOW = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)

SEED = "news/seoul-un-award.md"
DRAFT = "news/2024-11-05-library-night-hours.md"
FUTURE = "news/2031-03-01-scheduled-spring-issue.md"


def copy_example_site(folder: Path) -> Path:
    """``folder/site``: a private copy of the bundled example site (feedwright.toml, content/, _includes/; no state,
    no output)."""
    site = folder / "site"
    site.mkdir()
    shutil.copy2(REPO / "feedwright.toml", site / "feedwright.toml")
    shutil.copytree(REPO / "content", site / "content")
    shutil.copytree(REPO / "_includes", site / "_includes")  # Liquid's {% include %} reads from here
    return site


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A private copy of the bundled example site (feedwright.toml + content/, no state, no output)."""
    return copy_example_site(tmp_path)


def make_site(root: Path, config: str = "", *, url: str = "https://example.org/") -> Path:
    """A minimal site folder: feedwright.toml (``[site] url`` plus ``config``) and an empty content/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "content").mkdir(exist_ok=True)
    (root / "feedwright.toml").write_text(f'[site]\ntitle = "Test"\nurl = "{url}"\n{config}', encoding="utf-8")
    return root


def write_post(
    site_dir: Path, relpath: str, front_matter: Mapping[str, Any] | str, body: str = "Body text.\n"
) -> Path:
    """Write ``content/<relpath>``: front matter from a dict (dumped as YAML) or given verbatim as text."""
    if isinstance(front_matter, str):
        fm = front_matter if front_matter.endswith("\n") else front_matter + "\n"
    else:
        fm = yaml.safe_dump(dict(front_matter), allow_unicode=True, sort_keys=False)
    path = site_dir / "content" / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{fm}---\n\n{body}", encoding="utf-8")
    return path


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 12.0) -> Any:
    """Poll ``predicate`` until it returns something true and return that; fail after ``timeout`` seconds.

    Tests that watch a real process poll with a generous deadline: a busy machine makes them slower, not red.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


# ``python -c SLOW_FEEDWRIGHT <feedwright arguments>``: feedwright with every file write slowed down by $FW_DELAY
# seconds and traced to $FW_TRACE as "<pid> start|end <file name>" lines, so that a signal or a second build
# can land in the middle of a build, and interleaved writes show.
SLOW_FEEDWRIGHT = """
import os, sys, time
from feedwright.pipeline import publish
from feedwright.cli import main

trace, delay = os.environ["FW_TRACE"], float(os.environ["FW_DELAY"])
write = publish._stage  # every file feedwright writes (feeds, manifest, state, status) is first written by this

def slow(path, data):
    with open(trace, "a") as fh:
        fh.write(f"{os.getpid()} start {path.name}\\n")
    time.sleep(delay)
    tmp = write(path, data)
    with open(trace, "a") as fh:
        fh.write(f"{os.getpid()} end {path.name}\\n")
    return tmp

publish._stage = slow
sys.exit(main(sys.argv[1:]))
"""


def run_build(site_dir: Path, now: datetime = NOW, **kwargs: Any) -> BuildReport:
    """Load ``site_dir`` and build it at ``now`` (keyword arguments go to :func:`feedwright.build.build`)."""
    return build(load_site(site_dir), now=now, **kwargs)


def output_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` as relative POSIX path -> bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _need_schemas() -> None:
    if not SCHEMAS.is_dir():
        pytest.skip(f"feed schemas not found at {SCHEMAS} (the ../shared folder beside the repo is absent)")


@lru_cache(maxsize=1)
def _atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom-rfc4287.rng")))


@lru_cache(maxsize=1)
def _json_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.sonicdoe.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=jsonschema.FormatChecker())


def validate_feed(path: Path) -> Any:
    """Fail unless ``path`` is a valid feed; return what a reader makes of it.

    RSS and Atom: feedparser must parse it with bozo 0 (its result is returned), and Atom must match the
    RFC 4287 RELAX NG schema. JSON Feed (feedparser 6 cannot read it): the JSON Feed 1.1 JSON Schema with a
    ``FormatChecker`` (so every URL must be a real URI); the decoded document is returned.
    Skips the test when ``../shared/schemas`` is absent.
    """
    return validate_feed_bytes(path.read_bytes(), path)


def validate_feed_bytes(data: bytes, path: Path | str) -> Any:
    """:func:`validate_feed` for bytes not yet written; ``path`` (output-relative is enough) tells the format.

    The browser-view pages beside the feeds (``feed.xsl``, ``index.html``, ``feeds.opml``) are not feeds: they are
    only checked to parse, and None is returned (``tests/test_pages.py`` checks them properly).
    """
    path = Path(path)
    if path.name in PAGES:
        if path.suffix == ".html":
            from lxml import html as lxml_html

            assert lxml_html.document_fromstring(data).find("body") is not None, f"{path}: no <body>"
        else:
            etree.fromstring(data)  # raises unless well-formed
        return None
    _need_schemas()
    if path.suffix == ".json":
        doc = json.loads(data)
        errors = sorted(_json_validator().iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{path}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        return doc
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"{path}: feedparser: {parsed.get('bozo_exception')!r}"
    if path.name == "atom.xml" or path.parent.name == "archive" and path.name.startswith("atom-"):  # archive/atom-3.xml
        schema = _atom_schema()
        assert schema.validate(etree.fromstring(data)), f"{path}: {schema.error_log}"
        assert parsed.version == "atom10", f"{path}: feedparser sees {parsed.version!r}"
    else:
        assert parsed.version == "rss20", f"{path}: feedparser sees {parsed.version!r}"
    return parsed


# What the sanitiser must never let through, wherever a feed carries HTML.
UNSAFE_TAGS = {"script", "style", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "link", "meta",
               "form", "svg", "math"}
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:")


def assert_safe_html(fragment: str, where: str = "") -> None:
    """Fail if ``fragment`` holds an element, an event handler or a URL scheme that runs code in a reader."""
    if not fragment.strip():
        return
    from lxml import html as lxml_html

    for element in lxml_html.fragment_fromstring(fragment, create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        assert element.tag.lower() not in UNSAFE_TAGS, f"{where}: <{element.tag}> survived: {fragment[:200]!r}"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: {name}= survived: {fragment[:200]!r}"
            squeezed = "".join(value.split()).lower()
            assert not squeezed.startswith(UNSAFE_SCHEMES), f"{where}: {name}={value!r} survived"


def check_feed_files(files: Mapping[str, bytes]) -> None:
    """Every feed valid (:func:`validate_feed_bytes`) and every item's HTML safe (:func:`assert_safe_html`)."""
    for rel, data in sorted(files.items()):
        doc = validate_feed_bytes(data, rel)
        if rel.endswith(".json"):
            for item in doc["items"]:
                assert_safe_html(item.get("content_html", ""), f"{rel} {item['id']}")


# A WebSub hub that defeats a per-read timeout.
DRIP = r"""
import socket, sys, threading, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)

def drip(conn):
    # Accept, then answer one byte every 0.5 s, for ever: each read succeeds well within any per-read timeout.
    data = b"HTTP/1.1 202 Accepted\r\nX-Drip: "
    try:
        for i in range(10**9):
            conn.sendall(data[i:i + 1] if i < len(data) else b"a")
            time.sleep(0.5)
    except OSError:
        conn.close()

while True:
    conn, _ = server.accept()
    threading.Thread(target=drip, args=(conn,), daemon=True).start()
"""


@pytest.fixture
def dripping_hub() -> Iterator[str]:
    """A hub in another process (so its threads do not count here) that accepts and trickles bytes for ever."""
    proc = subprocess.Popen([sys.executable, "-c", DRIP], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{proc.stdout.readline().strip()}/hub"
    finally:
        proc.kill()
        proc.wait(10)


def assert_golden(got: Mapping[str, bytes], folder: Path) -> None:
    """``got`` (relative path -> bytes) is byte for byte the files under ``folder``, no more, no fewer;
    ``FEEDWRIGHT_UPDATE_GOLDEN=1`` rewrites ``folder`` from ``got`` first (review the diff before committing)."""
    import difflib
    import os

    if os.environ.get("FEEDWRIGHT_UPDATE_GOLDEN") == "1":
        shutil.rmtree(folder, ignore_errors=True)
        for name, data in got.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    want = output_files(folder) if folder.is_dir() else {}
    assert want, f"{folder} is empty: run with FEEDWRIGHT_UPDATE_GOLDEN=1 to create it"
    assert sorted(want) == sorted(got), f"golden files {sorted(want)}, output {sorted(got)}"
    for name in sorted(want):
        if want[name] != got[name]:
            diff = difflib.unified_diff(want[name].decode("utf-8", "replace").splitlines(keepends=True),
                                        got[name].decode("utf-8", "replace").splitlines(keepends=True),
                                        f"golden/{name}", f"output/{name}")
            pytest.fail(f"{name} differs from its golden file:\n{''.join(diff)}")
