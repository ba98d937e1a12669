"""Real Jekyll content nobody here wrote (``../shared/corpora``): nothing crashes, nothing is lost, all feeds valid.

The site's ``build.content`` is the corpus folder's absolute path, so nothing is copied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import CORPORA, NOW, run_build, validate_feed
from feedwright.build import BuildReport


def _front_matter_files(root: Path) -> tuple[set[Path], set[Path]]:
    """Files under ``root`` (no dot-files or dot-folders) that open with front matter, and the others."""
    with_fm, without = set(), set()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        head = path.read_bytes()[:8].removeprefix(b"\xef\xbb\xbf")
        (with_fm if head.startswith((b"---", b"+++")) else without).add(rel)
    return with_fm, without


@pytest.fixture(scope="module", params=["jekyll-docs", "made-mistakes"])
def corpus_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    corpus = CORPORA / request.param
    if not corpus.is_dir():
        pytest.skip(f"{corpus} not found (the ../shared folder beside the repo is absent)")
    site = tmp_path_factory.mktemp(request.param) / "site"
    site.mkdir()
    (site / "feedwright.toml").write_text(
        f'[site]\ntitle = "{request.param}"\nurl = "https://example.org/"\n'
        f"[build]\ncontent = {str(corpus.resolve())!r}\noutput = {str(site / 'out')!r}\ntag_feeds = true\n",
        encoding="utf-8",
    )
    report = run_build(site, now=NOW)
    return corpus.resolve(), site, report


def test_every_front_matter_file_is_published_or_rejected(corpus_build: tuple) -> None:
    corpus, _site, report = corpus_build
    assert isinstance(report, BuildReport)
    with_fm, without = _front_matter_files(corpus)
    posts = {Path(p.source) for p in report.collection.posts}
    rejected = {Path(e.path).relative_to(corpus) for e in report.rejected}
    assert not posts & rejected
    assert posts | rejected == with_fm
    assert {Path(p).relative_to(corpus) for p in report.collection.ignored} == without
    assert all(e.reason.strip() for e in report.rejected)
    assert len(posts) > len(rejected)


def test_drafts_stay_out_of_every_feed(corpus_build: tuple) -> None:
    _corpus, _site, report = corpus_build
    assert all(p.draft for p in report.collection.posts if "_drafts" in Path(p.source).parts)
    in_feeds = [p for feed in report.feeds for p in feed.posts]
    assert in_feeds and not any(p.draft or p.published > NOW for p in in_feeds)


def test_no_liquid_leaks_into_feeds(corpus_build: tuple) -> None:
    """Liquid survives only inside code (``{% raw %}`` blocks, which posts use to show Liquid itself)."""
    _corpus, _site, report = corpus_build
    doc = json.loads(report.files["feed.json"])
    leaks = [
        item["url"]
        for item in doc["items"]
        if re.search(r"{%|{{", re.sub(r"<code\b[^>]*>.*?</code>", "", item.get("content_html", ""), flags=re.S))
    ]
    assert not leaks


def test_every_feed_is_valid(corpus_build: tuple) -> None:
    _corpus, site, report = corpus_build
    files = sorted((site / "out").rglob("*.*"))
    assert len(files) == len(report.files) > 3
    for path in files:
        validate_feed(path)
