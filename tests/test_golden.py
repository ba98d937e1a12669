"""The bundled example site, built at ``NOW``, must produce exactly the checked-in files in ``tests/golden/``.

To accept a deliberate change of output, regenerate the golden files and review the diff before committing::

    FEEDWRIGHT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
import yaml
from lxml import etree

from conftest import NOW, REPO, SEED, SHARED, copy_example_site, output_files, run_build

GOLDEN = Path(__file__).parent / "golden"
SEED_IMAGE = "https://www.behealthy4u.com/wp-content/uploads/2024/06/unnamed-file.png"
SEED_URL = "https://news.example.org/news/seoul-un-award/"


def _seed_excerpt() -> str:
    text = (REPO / "content" / SEED).read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---\n")[1])
    excerpt = " ".join(meta["excerpt"].split())
    assert len(excerpt) < 300, "the excerpt is short enough to be used whole"
    return excerpt


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = copy_example_site(tmp_path_factory.mktemp("golden"))
    report = run_build(site)
    assert not report.rejected
    return site / "output"


def _diff(name: str, want: bytes, got: bytes) -> str:
    lines = difflib.unified_diff(
        want.decode("utf-8", "replace").splitlines(keepends=True),
        got.decode("utf-8", "replace").splitlines(keepends=True),
        f"golden/{name}",
        f"output/{name}",
    )
    return "".join(lines)


def test_output_matches_golden_files(built: Path) -> None:
    """Byte-for-byte comparison of every output file; ``FEEDWRIGHT_UPDATE_GOLDEN=1`` rewrites tests/golden/."""
    got = output_files(built)
    if os.environ.get("FEEDWRIGHT_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in got.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    want = output_files(GOLDEN) if GOLDEN.is_dir() else {}
    assert want, "tests/golden/ is empty: run with FEEDWRIGHT_UPDATE_GOLDEN=1 to create it"
    missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    assert not missing and not extra, f"files missing from output: {missing}; unexpected files: {extra}"
    for name in sorted(want):
        if want[name] != got[name]:
            pytest.fail(f"{name} differs from its golden file:\n{_diff(name, want[name], got[name])}")


def test_seed_post_is_shipped_byte_for_byte() -> None:
    seed = SHARED / "seed" / "seoul-un-award.md"
    if not seed.is_file():
        pytest.skip(f"{seed} not found (the ../shared folder beside the repo is absent)")
    assert (REPO / "content" / SEED).read_bytes() == seed.read_bytes()


@pytest.mark.parametrize("folder", ["", "categories/news/"])
def test_seed_post_in_rss(built: Path, folder: str) -> None:
    root = etree.parse(str(built / folder / "rss.xml")).getroot()
    items = [i for i in root.iter("item") if i.findtext("link") == SEED_URL]
    assert len(items) == 1
    item = items[0]
    assert item.findtext("description") == _seed_excerpt()
    content = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert re.search(r"<table>.*<td><b>수상명</b></td>.*양성평등 공공서비스.*</table>", content, re.S)
    enclosures = item.findall("enclosure")
    assert [(e.get("url"), e.get("type")) for e in enclosures] == [(SEED_IMAGE, "image/png")]
    assert enclosures[0].get("length", "").isdigit()


@pytest.mark.parametrize("folder", ["", "categories/news/"])
def test_seed_post_in_atom(built: Path, folder: str) -> None:
    parsed = feedparser.parse((built / folder / "atom.xml").read_bytes())
    entries = [e for e in parsed.entries if e.id == SEED_URL]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.summary == _seed_excerpt()
    assert entry.content[0].type == "text/html"
    assert "<table>" in entry.content[0].value and "수상분야" in entry.content[0].value
    assert [(e.href, e.type) for e in entry.enclosures] == [(SEED_IMAGE, "image/png")]
    assert [link.href for link in entry.links if link.rel == "alternate"] == [SEED_URL]


@pytest.mark.parametrize("folder", ["", "categories/news/"])
def test_seed_post_in_json_feed(built: Path, folder: str) -> None:
    doc = json.loads((built / folder / "feed.json").read_bytes())
    items = [i for i in doc["items"] if i["url"] == SEED_URL]
    assert len(items) == 1
    item = items[0]
    assert item["summary"] == _seed_excerpt()
    assert re.search(r"<table>.*수상명.*</table>", item["content_html"], re.S)
    assert item["image"] == SEED_IMAGE
    assert item["tags"] == ["News"]


def test_seed_post_is_dated_first_seen(built: Path) -> None:
    """The seed has no date: it is dated when first seen, i.e. at NOW, which makes it the newest item."""
    doc = json.loads((built / "feed.json").read_bytes())
    assert doc["items"][0]["url"] == SEED_URL
    assert datetime.fromisoformat(doc["items"][0]["date_published"]) == NOW
    state = json.loads((built.parent / ".feedwright" / "state.json").read_bytes())
    assert datetime.fromisoformat(state["posts"][SEED]["first_seen"]) == NOW
