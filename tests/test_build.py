"""``build()`` end to end: determinism, stable ids and dates, drafts/future posts, strict mode, rejections."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from conftest import NOW, SEED, make_site, output_files, run_build, write_post

LATER = NOW + timedelta(days=30)
OLD_NS = 1_000_000_000 * 1_000_000_000
SEED_URL = "https://news.example.org/news/seoul-un-award/"
WELCOME_URL = "https://news.example.org/2025-01-02-welcome/"


def _items(site: Path, feed: str = "feed.json") -> dict[str, dict]:
    doc = json.loads((site / "output" / feed).read_bytes())
    return {item["url"]: item for item in doc["items"]}


def _when(site: Path, url: str, key: str = "date_published") -> datetime:
    return datetime.fromisoformat(_items(site)[url][key])


def _ids(site: Path) -> dict[str, str]:
    return {url: item["id"] for url, item in _items(site).items()}


def _age_all(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_NS, OLD_NS))


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_two_builds_give_identical_bytes(example_site: Path) -> None:
    run_build(example_site)
    first = output_files(example_site / "output")
    state = (example_site / ".feedwright" / "state.json").read_bytes()
    _age_all(example_site / "output")
    _age_all(example_site / ".feedwright")
    report = run_build(example_site)
    assert output_files(example_site / "output") == first
    assert report.result is not None and report.result.written == []
    # Nothing changed, so nothing was rewritten: not the feeds, not the state.
    assert set(_mtimes(example_site / "output").values()) == {OLD_NS}
    assert (example_site / ".feedwright" / "state.json").stat().st_mtime_ns == OLD_NS
    assert (example_site / ".feedwright" / "state.json").read_bytes() == state


def test_touching_content_and_a_later_now_change_nothing(example_site: Path) -> None:
    run_build(example_site)
    first = output_files(example_site / "output")
    for path in (example_site / "content").rglob("*"):
        os.utime(path)
    run_build(example_site, now=LATER)
    assert output_files(example_site / "output") == first


def test_same_content_in_another_folder_gives_the_same_bytes(example_site: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "copy"
    shutil.copytree(example_site, other)
    run_build(example_site)
    run_build(other)
    assert output_files(other / "output") == output_files(example_site / "output")


def test_ids_never_change_between_builds(example_site: Path) -> None:
    run_build(example_site)
    ids = _ids(example_site)
    assert len(ids) == 9 and len(set(ids.values())) == 9
    write_post(example_site, "news/extra.md", {"title": "Extra", "date": "2025-06-01"})
    (example_site / "content" / "opinion" / "2025-02-18-slow-news.md").write_text(
        "---\ntitle: Renamed\ncategories: [Opinion]\ndate: 2025-02-18T19:30:00+09:00\n---\nNew body.\n",
        encoding="utf-8",
    )
    run_build(example_site, now=LATER)
    after = _ids(example_site)
    assert {url: after[url] for url in ids} == ids


def test_undated_post_keeps_its_first_seen_date(example_site: Path) -> None:
    run_build(example_site)
    run_build(example_site, now=LATER)
    assert _when(example_site, SEED_URL) == NOW
    # The state file is what remembers it: without it, the post is "first seen" again.
    shutil.rmtree(example_site / ".feedwright")
    run_build(example_site, now=LATER)
    assert _when(example_site, SEED_URL) == LATER


def test_editing_a_body_moves_updated_but_not_the_id(example_site: Path) -> None:
    run_build(example_site)
    before = _items(example_site)[WELCOME_URL]
    post = example_site / "content" / "2025-01-02-welcome.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nA correction.\n", encoding="utf-8")
    edited = NOW + timedelta(days=1)
    run_build(example_site, now=edited)
    after = _items(example_site)[WELCOME_URL]
    assert after["id"] == before["id"]
    assert after["date_published"] == before["date_published"]
    assert datetime.fromisoformat(before["date_modified"]) < edited
    assert datetime.fromisoformat(after["date_modified"]) == edited
    assert "A correction." in after["content_html"]
    state = json.loads((example_site / ".feedwright" / "state.json").read_bytes())
    assert datetime.fromisoformat(state["posts"]["2025-01-02-welcome.md"]["changed"]) == edited
    # The change is remembered: a later build does not move it again, nor "now" the feed.
    run_build(example_site, now=LATER)
    assert _when(example_site, WELCOME_URL, "date_modified") == edited


def test_future_post_appears_only_once_its_date_has_come(example_site: Path) -> None:
    future_url = "https://news.example.org/news/2031-03-01-scheduled-spring-issue/"
    report = run_build(example_site)
    assert future_url not in _items(example_site)
    assert report.scheduled == 1 and report.next_publish is not None
    assert report.next_publish == datetime.fromisoformat("2031-03-01T09:00:00+09:00")
    report = run_build(example_site, now=report.next_publish)
    assert future_url in _items(example_site)
    assert future_url in _items(example_site, "categories/news/feed.json")
    assert report.scheduled == 0
    # The draft stays out whatever the date.
    assert not any("library-night-hours" in url for url in _items(example_site))


BAD_POSTS = {
    "news/broken-yaml.md": "title: [unclosed\ndate: 2024-01-01\n",
    "news/list-title.md": "title: [a, b]\ndate: 2024-01-01\n",
    "news/impossible-date.md": "title: Impossible\ndate: 2024-13-45\n",
}


def _add_bad_posts(site: Path) -> None:
    for rel, front_matter in BAD_POSTS.items():
        write_post(site, rel, front_matter)


def test_rejected_posts_are_reported_and_the_rest_published(example_site: Path) -> None:
    _add_bad_posts(example_site)
    report = run_build(example_site)
    rejected = {e.path: e.reason for e in report.rejected}
    assert sorted(rejected) == sorted(f"content/{rel}" for rel in BAD_POSTS)
    assert all(reason.strip() for reason in rejected.values())
    assert "title" in rejected["content/news/list-title.md"]
    assert "month must be in 1..12" in rejected["content/news/impossible-date.md"]
    assert report.live == 9
    assert len(_items(example_site)) == 9
    assert len(_items(example_site, "categories/news/feed.json")) == 5


def test_strict_build_with_a_rejection_leaves_output_and_state_untouched(example_site: Path) -> None:
    run_build(example_site)
    before = output_files(example_site / "output")
    state = (example_site / ".feedwright").resolve()
    state_before = output_files(state)
    _age_all(example_site / "output")
    _add_bad_posts(example_site)
    write_post(example_site, "news/good-new.md", {"title": "Good and new", "date": "2025-11-01"})
    report = run_build(example_site, now=LATER, strict=True)
    assert len(report.rejected) == 3 and report.result is None
    assert output_files(example_site / "output") == before
    assert set(_mtimes(example_site / "output").values()) == {OLD_NS}
    assert output_files(state) == state_before


def test_strict_build_without_rejections_publishes(example_site: Path) -> None:
    report = run_build(example_site, strict=True)
    assert report.result is not None and (example_site / "output" / "rss.xml").is_file()


def test_check_writes_nothing(example_site: Path) -> None:
    _add_bad_posts(example_site)
    report = run_build(example_site, write=False)
    assert len(report.rejected) == 3 and report.live == 9
    assert "rss.xml" in report.files
    assert sorted(p.name for p in example_site.iterdir()) == ["_includes", "content", "feedwright.toml"]


def test_corrupt_state_is_a_warning_and_dated_posts_keep_their_dates(example_site: Path) -> None:
    run_build(example_site)
    clean = {url: item for url, item in _items(example_site).items() if url != SEED_URL}
    (example_site / ".feedwright" / "state.json").write_text('{"version": 1, "posts": {', encoding="utf-8")
    report = run_build(example_site, now=LATER)
    assert len(report.warnings) == 1 and "state.json" in report.warnings[0]
    assert not report.rejected
    after = _items(example_site)
    assert {url: after[url] for url in clean} == clean
    # The state is rebuilt, valid again.
    state = json.loads((example_site / ".feedwright" / "state.json").read_bytes())
    assert state["version"] == 1 and SEED in state["posts"]
    assert not run_build(example_site, now=LATER).warnings


def test_same_file_name_in_two_folders_gets_two_ids(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "a/post.md", {"title": "A", "date": "2024-01-01"})
    write_post(site, "b/post.md", {"title": "B", "date": "2024-01-01"})
    report = run_build(site)
    assert not report.rejected
    ids = {item["title"]: item["id"] for item in _items(site).values()}
    assert len(ids) == 2 and ids["A"] != ids["B"]


def test_duplicate_pinned_id_first_path_wins(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    # Written in the opposite order to their path order, and the later path is the newer post.
    write_post(site, "z/second.md", {"title": "Second", "date": "2024-05-01", "id": "same"})
    write_post(site, "a/first.md", {"title": "First", "date": "2024-01-01", "id": "same"})
    report = run_build(site)
    assert [(e.path, e.reason) for e in report.rejected] == [("content/z/second.md", "same id as content/a/first.md")]
    assert [item["title"] for item in _items(site).values()] == ["First"]


def test_listing_the_content_leaves_nothing_for_the_cyclic_collector(example_site: Path) -> None:
    # Builds run with the cyclic collector paused (ops/heap.py): whatever a cycle holds stays until the process
    # ends. A scan that recursed through a nested function kept every (path, file) pair so (24 MB at 100,000).
    import gc

    from feedwright.pipeline.collect import scan

    gc.collect()
    gc.disable()
    try:
        assert scan(example_site / "content")
        assert gc.collect() == 0
    finally:
        gc.enable()
