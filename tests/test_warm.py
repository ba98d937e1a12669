"""The warm shortcut (``incremental/warm.py``): a build that finds every file as the cache's index recorded it loads
no record and no post it does not publish, and gives what a build without a cache gives: the same bytes, state,
rejections, warnings, near-misses, ignored files and scheduled posts. Any change takes the long way."""

from __future__ import annotations

import os
import pickle
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

import feedwright.pipeline.collect as collect_module
from conftest import NOW, output_files, run_build, write_post
from feedwright.build import BuildReport, build
from feedwright.config import load_site
from feedwright.incremental.cache import Cache
from feedwright.incremental.live import Live
from feedwright.pipeline.deferred import Deferred, loaded
from feedwright.pipeline.history import State


def _age(folder: Path, seconds: int = 3600) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The cache folder of each build that read its records (the ``posts-NN`` parts)."""
    seen: list[Path] = []
    read = Cache._read_records

    def counting(self: Cache) -> None:
        seen.append(self.files.folder)
        read(self)

    monkeypatch.setattr(Cache, "_read_records", counting)
    # os.utime sets ctime to now: without this every aged file would still be "racy", and never in an index.
    monkeypatch.setattr(collect_module, "RACY_NS", 0)
    return seen


def _view(report: BuildReport, root: Path) -> tuple:
    def text(items: list) -> list[str]:
        return [str(item).replace(str(root), "") for item in items]

    return (
        text(report.rejected), text(report.near_misses), text(report.warnings), text(report.collection.ignored),
        [(p.source, p.published) for p in report.scheduled_posts()],
        [(f.kind, f.name, [p.source for p in f.posts]) for f in report.feeds],
        report.live, report.drafts, report.scheduled, report.next_publish,
    )


def _both(site: Path, tmp: Path, now=NOW) -> tuple[BuildReport, BuildReport]:
    """Build ``site`` with its cache and a twin without (same content and state); the same bytes and report."""
    twin = tmp / f"twin-{len(list(tmp.iterdir()))}"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("output", "cache"))
    report, expected = run_build(site, now), run_build(twin, now)
    assert output_files(site / "output") == output_files(twin / "output")
    assert (site / ".feedwright/state.json").read_bytes() == (twin / ".feedwright/state.json").read_bytes()
    assert _view(report, site) == _view(expected, twin)
    return report, expected


def _troubled(site: Path) -> None:
    """Add to the example site what a report shows besides posts: a rejection, a near-miss key, an ignored file,
    a duplicate, a draft; the example already has a post scheduled for 2031."""
    write_post(site, "news/bad.md", "title: [unclosed\n")
    write_post(site, "news/typo.md", {"title": "Typo", "date": "2024-05-01", "categoris": ["news"]})
    (site / "content" / "notes.txt").write_text("not a post\n", encoding="utf-8")
    write_post(site, "news/dup-a.md", {"title": "A", "date": "2024-05-02", "permalink": "/same/"})
    write_post(site, "news/dup-b.md", {"title": "B", "date": "2024-05-03", "permalink": "/same/"})
    write_post(site, "news/draft.md", {"title": "Draft", "date": "2024-05-04", "draft": True})


def test_an_unchanged_site_loads_no_record_and_reports_what_a_cacheless_build_does(
    example_site: Path, tmp_path: Path, loads: list[Path]
) -> None:
    _troubled(example_site)
    _age(example_site / "content")
    first, _ = _both(example_site, tmp_path)
    assert first.rejected and first.near_misses and first.collection.ignored and first.scheduled_posts()
    assert loaded(first.collection.posts)
    second, expected = _both(example_site, tmp_path)
    assert loads == []
    assert second.result is not None and second.result.written == []
    posts = second.collection.posts
    assert isinstance(posts, Deferred) and not loaded(posts) and len(posts) == len(expected.collection.posts)
    # Loaded when something asks for them: the posts a cache-less build collects.
    assert [p.source for p in posts] == [p.source for p in expected.collection.posts]
    assert list(posts) == list(expected.collection.posts) and loaded(posts)
    assert loads == [example_site / ".feedwright" / "cache"]


@pytest.mark.parametrize("change", ["edit", "touch", "add", "delete", "history", "rename"])
def test_any_change_takes_the_long_way_and_the_next_build_the_shortcut(
    example_site: Path, tmp_path: Path, loads: list[Path], change: str
) -> None:
    _troubled(example_site)
    _age(example_site / "content")
    _both(example_site, tmp_path)
    post = example_site / "content" / "news" / "typo.md"
    if change == "edit":
        post.write_text(post.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    elif change == "touch":
        os.utime(post)
    elif change == "add":
        write_post(example_site, "news/new.md", {"title": "New", "date": "2024-06-01"})
    elif change == "delete":
        post.unlink()
    elif change == "rename":
        post.rename(post.with_name("typo2.md"))
    else:  # state.json edited by hand: another first-seen date for a post without a date of its own
        path = example_site / ".feedwright" / "state.json"
        state = State.load(path)
        key = next(iter(state.posts))
        state.posts[key]["first_seen"] = "2020-01-01T00:00:00+00:00"
        path.write_bytes(state.to_bytes())
    loads.clear()
    _both(example_site, tmp_path)
    assert loads == [example_site / ".feedwright" / "cache"]
    _age(example_site / "content")  # what changed is no longer "racy"
    _both(example_site, tmp_path)
    loads.clear()
    report, _ = _both(example_site, tmp_path)
    assert loads == [] and not loaded(report.collection.posts)


@pytest.mark.parametrize("what", ["settings", "due"])
def test_a_plan_that_no_longer_holds_is_made_from_the_posts_loaded_then(
    example_site: Path, tmp_path: Path, loads: list[Path], what: str
) -> None:
    _troubled(example_site)
    _age(example_site / "content")
    _both(example_site, tmp_path)
    if what == "settings":  # the feeds' settings only: the collection is the same, the plan is not
        config = example_site / "feedwright.toml"
        config.write_text(config.read_text(encoding="utf-8").replace("limit = 50", "limit = 3"), encoding="utf-8")
        now = NOW
    else:  # the post scheduled for 2031 has come out
        now = NOW + timedelta(days=365 * 7)
    loads.clear()
    report, expected = _both(example_site, tmp_path, now)
    assert loads == [example_site / ".feedwright" / "cache"]  # the shortcut, then the posts loaded to plan
    assert report.live == expected.live and (what == "settings" or report.scheduled == 0)
    report, expected = _both(example_site, tmp_path, now)  # and the next build reuses that plan
    assert not loaded(report.collection.posts)


def test_a_racy_file_keeps_every_build_on_the_long_way_until_it_is_not(
    example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[Path]
) -> None:
    monkeypatch.setattr(collect_module, "RACY_NS", 10**18)  # every file read counts as just modified
    _both(example_site, tmp_path)
    assert Cache.load(load_site(example_site)).index == {}
    loads.clear()
    _both(example_site, tmp_path)
    assert loads == [example_site / ".feedwright" / "cache"]


def test_the_daemon_drops_the_index_and_a_cron_build_after_it_writes_it_again(
    example_site: Path, tmp_path: Path, loads: list[Path]
) -> None:
    _age(example_site / "content")
    _both(example_site, tmp_path)
    assert Cache.load(load_site(example_site)).index
    site = load_site(example_site)
    live = Live(site)
    build(site, now=NOW, live=live)
    post = example_site / "content" / "2025-01-02-welcome.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nEdited by the daemon's user.\n", encoding="utf-8")
    live.changed(["2025-01-02-welcome.md"])
    build(site, now=NOW, live=live)
    assert Cache.load(load_site(example_site)).index == {}  # the daemon's saves cannot vouch for one
    _age(example_site / "content")
    loads.clear()
    _both(example_site, tmp_path)  # the cron build: the long way, the same bytes
    assert loads == [example_site / ".feedwright" / "cache"]
    assert Cache.load(load_site(example_site)).index


def test_a_damaged_record_part_after_the_shortcut_still_gives_every_post(
    example_site: Path, tmp_path: Path, loads: list[Path]
) -> None:
    _age(example_site / "content")
    _both(example_site, tmp_path)
    _both(example_site, tmp_path)
    folder = example_site / ".feedwright" / "cache"
    report, expected = _both(example_site, tmp_path)
    for part in folder.glob("posts-*.pickle"):  # damaged after the build took the shortcut, before loading them
        part.write_bytes(b"damaged")
    assert [p.source for p in report.collection.posts] == [p.source for p in expected.collection.posts]


def test_deferred_posts_load_once_and_only_when_needed() -> None:
    calls: list[int] = []

    def load() -> list[int]:
        calls.append(1)
        return [3, 1, 2]

    posts = Deferred(3, load)
    assert len(posts) == 3 and posts and calls == []
    assert sorted(posts) == [1, 2, 3] and posts[0] == 3 and 2 in posts and posts == [3, 1, 2]
    posts.append(4)
    assert list(posts) == [3, 1, 2, 4] and len(posts) == 4 and calls == [1]
    assert pickle.loads(pickle.dumps(Deferred(1, lambda: ["x"]))) == ["x"]
    fewer = Deferred(2, lambda: [1])  # a file gone between the index and the loading: what was loaded is the list
    assert len(fewer) == 2 and list(fewer) == [1] and len(fewer) == 1


def test_when_the_shortcut_fails_on_a_stat_key_only_that_file_is_read(
    example_site: Path, tmp_path: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(example_site / "content")
    _both(example_site, tmp_path)
    read: list[str] = []
    read_one = collect_module._read_one
    monkeypatch.setattr(collect_module, "_read_one", lambda task, *args: read.append(task[0]) or read_one(task, *args))
    post = sorted((example_site / "content").rglob("*.md"))[3]
    post.write_text(post.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    run_build(example_site)  # the stat keys taken for the shortcut decide, not taken again: the edited file only
    assert read == [post.relative_to(example_site / "content").as_posix()]


_SPRING = "culture/2024-03-02-spring-bookstores.md"
_EDITS = {  # a live post, what an edit changes in it, and whether the last plan can move it
    "title": (_SPRING, ("title: 봄날", "title: 가을날"), True),
    "body": (_SPRING, ("\n---\n\n3월이", "\n---\n\n4월이"), True),
    "date": (_SPRING, ("date: 2024-03-02", "date: 2024-08-09"), True),
    "category": (_SPRING, ("category: Culture", "category: News"), False),
    "draft": (_SPRING, ("date: 2024-03-02", "date: 2024-03-02\ndraft: true"), False),
    "permalink": (_SPRING, ("date: 2024-03-02", "date: 2024-03-02\npermalink: /spring/"), False),
    # rejected as a duplicate of news/dup-a.md before and after: the feeds carry that one, never this one
    "duplicate": ("news/dup-b.md", ("title: B", "title: B2"), False),
}


@pytest.mark.parametrize("limit", [50, 2])
@pytest.mark.parametrize("edit", sorted(_EDITS))
def test_an_edit_moves_the_post_in_the_last_plan_when_that_is_exact(
    example_site: Path, tmp_path: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch, edit: str, limit: int
) -> None:
    import feedwright.pipeline.plan as plan_module

    calls: list[int] = []
    plan = plan_module.plan
    monkeypatch.setattr(plan_module, "plan", lambda *args: calls.append(1) or plan(*args))
    config = example_site / "feedwright.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("limit = 50", f"limit = {limit}"), encoding="utf-8")
    _troubled(example_site)
    _age(example_site / "content")
    _both(example_site, tmp_path)
    rel, (old, new), movable = _EDITS[edit]
    post = example_site / "content" / rel
    text = post.read_text(encoding="utf-8")
    assert old in text
    post.write_text(text.replace(old, new, 1), encoding="utf-8")
    calls.clear()
    _both(example_site, tmp_path)  # the same bytes and report as a cache-less build, planned or moved
    assert len(calls) == (1 if movable else 2)  # the cache-less twin always plans
    _age(example_site / "content")
    _both(example_site, tmp_path)  # and the plan kept after moving is the one the next build reuses
    report, _ = _both(example_site, tmp_path)
    assert not loaded(report.collection.posts)
