"""Rendering has a budget: a post that Python-Markdown would take minutes over is rejected, and the build goes on.

Python-Markdown scans to the end of the block for every unmatched ``[`` (and ``[a](``, ``![a](``, ``[a][``,
``<a ``): a 20 KB run of ``[`` takes ~40 s. Such a post is rendered in a worker process that is killed when it
overruns ``build.render_timeout``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest

from conftest import make_site, run_build, write_post
from feedwright.incremental import parallel

# The module, not the function: `feedwright.build` is the public build() since __init__ exports it.
build_module = importlib.import_module("feedwright.build")

BOMBS = {"brackets": "[" * 20_000, "links": "[a](" * 5_000, "html": "<a " * 6_700}


def _site(tmp_path: Path, posts: int, timeout: float) -> Path:
    site = make_site(tmp_path / "site", f"[build]\nrender_timeout = {timeout}\n")
    for i in range(posts):
        write_post(site, f"p{i:03d}.md", {"title": f"Post {i}", "date": f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z"})
    return site


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_a_20_kb_bomb_is_rejected_in_seconds_and_the_other_posts_publish(tmp_path: Path, bomb: str) -> None:
    site = _site(tmp_path, 5, 2)
    write_post(site, "bomb.md", {"title": "Bomb", "date": "2024-06-01"}, BOMBS[bomb] + "\n")
    started = time.monotonic()
    report = run_build(site)
    took = time.monotonic() - started
    assert [(e.path, e.reason.split(";")[0]) for e in report.rejected] == [
        (str(Path("content/bomb.md")), "not rendered: took longer than 2 s (build.render_timeout = 2)")
    ]
    assert report.live == 5
    assert {p.title for p in report.feeds[0].posts} == {f"Post {i}" for i in range(5)}
    assert "Bomb" not in (site / "output" / "atom.xml").read_text(encoding="utf-8")
    assert took < 15, took  # the 2 s budget, a worker's start and a loaded machine; the bomb alone takes ~40 s


def test_with_many_posts_every_render_is_timed_and_the_bomb_makes_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "PARALLEL_MIN_RENDERS", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    site = make_site(tmp_path / "site", "[build]\nrender_timeout = 1\nlimit = 3\n")
    for i in range(5):
        write_post(site, f"p{i}.md", {"title": f"Post {i}", "date": f"2024-01-0{i + 1}"})
    write_post(site, "bomb.md", {"title": "Bomb", "date": "2024-06-01"}, "[" * 20_000 + "\n")
    report = run_build(site)
    assert [e.path for e in report.rejected] == [str(Path("content/bomb.md"))]
    # The bomb was the newest of three; the next post takes its place, rendered in a second round.
    assert [p.title for p in report.feeds[0].posts] == ["Post 4", "Post 3", "Post 2"]
    assert report.live == 5


def test_an_ordinary_post_with_many_links_is_not_rejected(tmp_path: Path) -> None:
    site = _site(tmp_path, 1, 2)
    links = "\n".join(f"- [link {i}](https://example.org/{i}) and <b>bold</b>" for i in range(400))
    write_post(site, "links.md", {"title": "Links", "date": "2024-06-01"}, links + "\n")
    report = run_build(site)
    assert not report.rejected
    assert 'href="https://example.org/399"' in (site / "output" / "atom.xml").read_text(encoding="utf-8")


def test_a_post_rejected_when_rendered_leaves_the_report_as_the_collection_does(tmp_path: Path) -> None:
    # The collector's summary (near-miss keys, posts to come) describes the posts as collected; once rendering
    # rejected one of them, the report looks at the posts that are left.
    site = _site(tmp_path, 3, 1)
    write_post(site, "bomb.md", {"title": "Bomb", "date": "2024-06-01", "titel": "typo"}, BOMBS["brackets"] + "\n")
    write_post(site, "later.md", {"title": "Later", "date": "2031-01-01", "tittle": "typo"})
    report = run_build(site)
    assert [e.path for e in report.rejected] == [str(Path("content/bomb.md"))]
    assert [(source, key) for source, key, _ in report.collection.near_misses()] == [("later.md", "tittle")]
    assert [p.source for p in report.scheduled_posts()] == ["later.md"]
