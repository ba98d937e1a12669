"""The build cache (``.feedwright/cache/``): a build with it gives the bytes a build without it gives.

Each check builds the site with its cache and a twin of the site (same content and state, no cache, no output)
without, at the same moment, and compares every output file and the state.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import feedwright.incremental.memo as memo_module
import feedwright.pipeline.collect as collect_module
import feedwright.pipeline.plan as plan_module
from conftest import FUTURE, NOW, SEED, make_site, output_files, run_build, write_post
from feedwright.build import BuildReport
from feedwright.config import load_site
from feedwright.incremental import parallel
from feedwright.incremental.cache import POST_SHARDS, Cache, shard
from feedwright.incremental.store import CACHE_DIR, KEY_FILE, MANIFEST, _opened, _sealed
from feedwright.pipeline.deferred import loaded

# The module, not the function: `feedwright.build` is the public build() since __init__ exports it.
build_module = importlib.import_module("feedwright.build")
LATER = NOW + timedelta(days=365 * 7)  # after the example site's scheduled 2031 post


def _twin(site: Path, tmp: Path) -> Path:
    """A copy of ``site`` as it is now, state included, without cache and output."""
    twin = tmp / f"twin-{len(list(tmp.iterdir()))}"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    return twin


def build_both(site: Path, tmp: Path, now=NOW) -> BuildReport:
    """Build ``site`` (with its cache) and a cache-less twin; assert identical feeds, state and rejections."""
    twin = _twin(site, tmp)
    report = run_build(site, now)
    expected = run_build(twin, now)
    assert output_files(site / "output") == output_files(twin / "output")
    assert (site / ".feedwright/state.json").read_bytes() == (twin / ".feedwright/state.json").read_bytes()
    assert [str(e).replace(str(twin), "") for e in expected.rejected] == [
        str(e).replace(str(site), "") for e in report.rejected
    ]
    assert report.collection.ignored == expected.collection.ignored
    return report


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of files parsed, posts rendered and feed files serialised by the builds that follow."""
    counts = {"parsed": 0, "rendered": 0, "serialised": 0}
    parse, render_all, serialiser = collect_module._parse, build_module._render_all, memo_module._serialiser

    def counting_parse(*args, **kwargs):
        counts["parsed"] += 1
        return parse(*args, **kwargs)

    def counting_render(site, posts, *args):
        counts["rendered"] += len(posts)
        return render_all(site, posts, *args)

    def counting_serialiser(fmt):
        counts["serialised"] += 1
        return serialiser(fmt)

    monkeypatch.setattr(collect_module, "_parse", counting_parse)
    monkeypatch.setattr(build_module, "_render_all", counting_render)
    monkeypatch.setattr(memo_module, "_serialiser", counting_serialiser)
    return counts


def _age(folder: Path, seconds: int = 3600) -> None:
    """Move every mtime back, as if the files had been written long before the build (not "racy")."""
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def test_warm_build_parses_renders_and_serialises_nothing(example_site: Path, tmp_path: Path, counting) -> None:
    _age(example_site / "content")
    first = build_both(example_site, tmp_path)
    assert counting["parsed"] > 0 and counting["rendered"] > 0
    for key in counting:
        counting[key] = 0
    second = run_build(example_site)
    assert counting == {"parsed": 0, "rendered": 0, "serialised": 0}
    assert second.result is not None and not second.result.written
    assert [p.source for p in second.collection.posts] == [p.source for p in first.collection.posts]
    assert second.collection.posts == first.collection.posts


def test_deleting_the_cache_gives_the_same_bytes(example_site: Path, tmp_path: Path) -> None:
    run_build(example_site)
    before = output_files(example_site / "output")
    shutil.rmtree(example_site / ".feedwright" / CACHE_DIR)
    report = run_build(example_site)
    assert output_files(example_site / "output") == before
    assert report.result is not None and not report.result.written
    build_both(example_site, tmp_path)


def test_edit(example_site: Path, tmp_path: Path, counting) -> None:
    _age(example_site / "content")
    build_both(example_site, tmp_path)
    path = example_site / "content" / SEED
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA correction.\n", encoding="utf-8")
    twin = _twin(example_site, tmp_path)
    counting.update(parsed=0, rendered=0)
    run_build(example_site)
    assert counting["parsed"] == 1 and counting["rendered"] == 1  # the edited post, nothing else
    run_build(twin)
    assert output_files(example_site / "output") == output_files(twin / "output")
    assert "A correction." in (example_site / "output" / "feed.json").read_text(encoding="utf-8")


def test_edit_keeping_size_and_mtime_is_seen(example_site: Path, tmp_path: Path) -> None:
    build_both(example_site, tmp_path)
    path = example_site / "content" / SEED
    text = path.read_text(encoding="utf-8")
    st = path.stat()
    path.write_text(text.replace("서울시", "부산시", 1), encoding="utf-8")  # same length in bytes
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    build_both(example_site, tmp_path)
    assert "부산시" in (example_site / "output" / "feed.json").read_text(encoding="utf-8")


def test_touch_reads_but_does_not_parse_and_changes_nothing(example_site: Path, tmp_path: Path, counting) -> None:
    build_both(example_site, tmp_path)
    state = (example_site / ".feedwright/state.json").read_bytes()
    before = output_files(example_site / "output")
    for path in (example_site / "content").rglob("*"):
        path.touch()
    counting.update(parsed=0, rendered=0, serialised=0)
    report = run_build(example_site, NOW + timedelta(minutes=1))
    assert counting == {"parsed": 0, "rendered": 0, "serialised": 0}
    assert output_files(example_site / "output") == before
    assert (example_site / ".feedwright/state.json").read_bytes() == state
    assert report.result is not None and not report.result.written


def test_delete_and_rename(example_site: Path, tmp_path: Path) -> None:
    build_both(example_site, tmp_path)
    (example_site / "content" / SEED).unlink()
    report = build_both(example_site, tmp_path)
    assert SEED not in [p.source for p in report.collection.posts]
    cache = Cache.load(load_site(example_site))
    assert SEED not in cache.records
    old = example_site / "content" / "culture" / "2024-03-02-spring-bookstores.md"
    old.rename(example_site / "content" / "culture" / "2024-03-02-bookstores-in-spring.md")
    build_both(example_site, tmp_path)


def _cache_files(site: Path) -> list[Path]:
    """The manifest and every part file it names (posts shards, entries, feeds, plan)."""
    folder = site / ".feedwright" / CACHE_DIR
    names = sorted(f.name for f in folder.iterdir())
    assert MANIFEST in names and {"entries", "feeds", "plan"} <= {n.split(".")[0] for n in names}
    assert all(re.fullmatch(r"(posts-\d\d|entries|feeds|plan)\.\d+\.pickle", n) for n in names if n != MANIFEST)
    return [folder / name for name in names]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),
        lambda data: b"\x00garbage" * 100,
        lambda data: data.replace(b"feedwright-cache", b"feedwright-cachf", 1),
    ],
    ids=["empty", "truncated", "flipped-bit", "garbage", "foreign"],
)
def test_corrupt_cache_is_ignored(example_site: Path, tmp_path: Path, damage) -> None:
    run_build(example_site)
    for path in _cache_files(example_site):
        path.write_bytes(damage(path.read_bytes()))
    report = build_both(example_site, tmp_path)
    assert all("cache" not in w or "authentication" in w or "unreadable" in w for w in report.warnings)
    build_both(example_site, tmp_path)  # and the rewritten cache is good again


def _key(site: Path) -> bytes:
    return (site / ".feedwright" / KEY_FILE).read_bytes()


def _manifest(site: Path) -> dict:
    raw = (site / ".feedwright" / CACHE_DIR / MANIFEST).read_bytes()
    body = _opened(_key(site), raw)
    assert body is not None
    return json.loads(body.tobytes())


def _forge(site: Path, name: str, payload: bytes) -> None:
    """Part ``name`` replaced by ``payload``, sealed with the site's key and named by its manifest: what only
    someone holding the key (outside the cache folder) can do."""
    key, folder = _key(site), site / ".feedwright" / CACHE_DIR
    sealed, mac = _sealed(key, payload)
    (folder / f"{name}.999.pickle").write_bytes(sealed)
    manifest = _manifest(site)
    manifest["parts"][name] = [f"{name}.999.pickle", mac.hex()]
    (folder / MANIFEST).write_bytes(_sealed(key, json.dumps(manifest).encode())[0])


def _part(site: Path, name: str) -> object:
    file, mac = _manifest(site)["parts"][name]
    body = _opened(_key(site), (site / ".feedwright" / CACHE_DIR / file).read_bytes(), bytes.fromhex(mac))
    assert body is not None
    return pickle.loads(body)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_tampered_cache_cannot_run_code(example_site: Path, tmp_path: Path, monkeypatch) -> None:
    run_build(example_site)
    monkeypatch.chdir(tmp_path)
    _forge(example_site, f"posts-{shard('x'):02d}", pickle.dumps({"x": _Evil()}))
    _forge(example_site, "entries", pickle.dumps(["a list, not a dict"]))
    report = build_both(example_site, tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert any(f"posts-{shard('x'):02d}.999.pickle: cache unreadable" in w for w in report.warnings)


def test_an_old_cache_version_is_ignored(example_site: Path, tmp_path: Path, monkeypatch) -> None:
    run_build(example_site)
    monkeypatch.setattr("feedwright.incremental.store.CACHE_VERSION", 999)
    assert Cache.load(load_site(example_site)).warnings == []  # quietly
    assert Cache.load(load_site(example_site)).records == {}
    build_both(example_site, tmp_path)


def test_cache_write_failure_never_fails_the_build(example_site: Path, tmp_path: Path) -> None:
    (example_site / ".feedwright").mkdir()
    (example_site / ".feedwright" / CACHE_DIR).write_text("not a folder")
    report = build_both(example_site, tmp_path)
    assert report.result is not None and report.result.written
    assert any("cannot write the cache" in w for w in report.warnings)


def test_a_config_change_is_not_served_from_the_cache(example_site: Path, tmp_path: Path) -> None:
    build_both(example_site, tmp_path)
    toml = example_site / "feedwright.toml"
    toml.write_text(toml.read_text().replace("https://news.example.org/", "https://other.example.net/blog/"))
    build_both(example_site, tmp_path)
    assert "https://other.example.net/blog/" in (example_site / "output" / "rss.xml").read_text()


def test_rejections_are_reported_on_every_build(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "good.md", {"title": "Good", "date": "2024-01-01"})
    write_post(site, "bad.md", {"date": "2024-01-02"})  # no title
    write_post(site, "dup.md", {"title": "Dup", "date": "2024-01-03", "permalink": "/good/"})
    (site / "content" / "notes.txt").write_text("not a post")
    first = build_both(site, tmp_path)
    second = build_both(site, tmp_path)
    assert [str(e) for e in first.rejected] == [str(e) for e in second.rejected]
    assert len(second.rejected) == 2
    assert second.collection.ignored == ["content/notes.txt"]


def test_a_cached_future_post_publishes_when_its_time_comes(example_site: Path, tmp_path: Path) -> None:
    first = build_both(example_site, tmp_path)
    assert FUTURE not in [p.source for p in first.feeds[0].posts]
    later = build_both(example_site, tmp_path, LATER)
    assert FUTURE in [p.source for p in later.feeds[0].posts]


def test_state_deleted_but_cache_kept(tmp_path: Path) -> None:
    # A post without any date takes the first-seen moment from the state: a stale cache must not keep the old one.
    site = make_site(tmp_path / "site")
    write_post(site, "undated.md", {"title": "No date"})
    write_post(site, "2024-05-01-dated.md", {"title": "Dated by name"})
    build_both(site, tmp_path)
    (site / ".feedwright" / "state.json").unlink()
    report = build_both(site, tmp_path, NOW + timedelta(days=3))
    undated = next(p for p in report.collection.posts if p.source == "undated.md")
    assert undated.published == NOW + timedelta(days=3)


def test_parallel_parsing_and_rendering_give_the_same_bytes(
    example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        write_post(example_site, f"extra/2024-02-{i % 28 + 1:02d}-extra-{i}.md",
                   {"title": f"Extra {i}", "categories": ["Extra", f"Group {i % 3}"]}, f"Body *{i}*.\n")
    # Liquid that looks at other posts: the build's Links must reach the workers (they travel pickled).
    for i in range(5):
        write_post(example_site, f"extra/2024-03-0{i + 1}-liquid-{i}.md", {"title": f"Liquid {i}"},
                   "See [the first]({% post_url 2024-02-01-extra-0 %}), {{ site.posts | size }} posts.\n")
    write_post(example_site, "extra/broken.md", "title: [unclosed\n")
    sequential = tmp_path / "sequential"
    shutil.copytree(example_site, sequential)
    expected = run_build(sequential)
    monkeypatch.setattr(collect_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_RENDERS", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    pools: list[set[int]] = []
    run = parallel.Workers.run

    def counted(self: parallel.Workers, *args: Any) -> list[Any]:
        results = run(self, *args)
        pools.append({worker.proc.pid for worker in self.live})
        return results

    monkeypatch.setattr(parallel.Workers, "run", counted)
    report = run_build(example_site)
    # Parsed and rendered on worker processes (the work really was spread), the same ones: started once.
    assert len(pools) == 2 and pools[0] <= pools[1], pools
    assert output_files(example_site / "output") == output_files(sequential / "output")
    liquid = (example_site / "output" / "feed.json").read_text(encoding="utf-8")
    assert liquid.count('href=\\"https://news.example.org/extra/2024-02-01-extra-0/\\">the first</a>, 44 posts.') == 5
    state = ".feedwright/state.json"
    assert (example_site / state).read_bytes() == (sequential / state).read_bytes()
    assert [str(e).replace(str(sequential), "") for e in expected.rejected] == [
        str(e).replace(str(example_site), "") for e in report.rejected
    ]
    assert [p.source for p in report.collection.posts] == [p.source for p in expected.collection.posts]


def _shard_bytes(site: Path) -> dict[str, bytes]:
    """Each posts shard's file, as the manifest names it (a rewritten shard gets a new file)."""
    return {name: file for name, (file, _) in _manifest(site)["parts"].items() if name.startswith("posts-")}


def test_an_edit_or_a_deletion_rewrites_only_its_shard(
    example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.utime sets ctime to now, so aged files are still "racy" for RACY_NS, and one that stops being racy
    # between two builds has its record (and shard) rewritten: how long a build takes must not decide this test.
    monkeypatch.setattr(collect_module, "RACY_NS", 0)
    _age(example_site / "content")
    build_both(example_site, tmp_path)
    before = _shard_bytes(example_site)
    assert 1 < len(before) <= POST_SHARDS
    path = example_site / "content" / SEED
    path.write_text(path.read_text(encoding="utf-8") + "\nA correction.\n", encoding="utf-8")
    build_both(example_site, tmp_path)
    after = _shard_bytes(example_site)
    assert {name for name in before if before[name] != after[name]} == {f"posts-{shard(SEED):02d}"}
    other = next(p for p in (example_site / "content").rglob("*.md") if shard(str(p.relative_to(
        example_site / "content"))) != shard(SEED))
    rel = other.relative_to(example_site / "content").as_posix()
    other.unlink()
    build_both(example_site, tmp_path)
    gone = _shard_bytes(example_site)
    assert {name for name in after if after[name] != gone[name]} == {f"posts-{shard(rel):02d}"}
    assert rel not in Cache.load(load_site(example_site)).records
    build_both(example_site, tmp_path)


def test_a_record_in_the_wrong_shard_or_an_old_single_file_is_harmless(example_site: Path, tmp_path: Path) -> None:
    build_both(example_site, tmp_path)
    cache = Cache.load(load_site(example_site))
    wrong = (shard(SEED) + 1) % POST_SHARDS
    _forge(example_site, f"posts-{wrong:02d}", pickle.dumps({SEED: cache.records[SEED]}, protocol=5))
    (example_site / ".feedwright" / CACHE_DIR / "posts.pickle").write_bytes(b"version 1 kept every record here")
    build_both(example_site, tmp_path)
    assert not (example_site / ".feedwright" / CACHE_DIR / "posts.pickle").exists()  # swept
    assert SEED not in _part(example_site, f"posts-{wrong:02d}")  # the stray record is gone from that shard
    build_both(example_site, tmp_path)


def _compact(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def test_state_is_written_as_json_dumps_writes_it(tmp_path: Path) -> None:
    import json
    import random

    from feedwright.pipeline.history import STATE_VERSION, State

    rng = random.Random(6)
    chars = ["a", '"', "\\", "\n", "\x00", "\x1f", "가", "\u2028", "{", "}", ":", ",", " ", "é", "\U0001f600", "\x7f"]

    def text() -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))

    for _ in range(500):
        posts = {text(): {text(): text() for _ in range(rng.randint(0, 3))} for _ in range(rng.randint(0, 5))}
        posts |= {text(): {"digest": text()} for _ in range(rng.randint(0, 3))}
        assert State(tmp_path, posts=posts).to_bytes() == _compact({"version": STATE_VERSION, "posts": posts})
    many = {f"{i:05d}-{text()}.md": {"digest": text()} if i % 3 else {text(): text()} for i in range(10_000)}
    assert State(tmp_path, posts=many).to_bytes() == _compact({"version": STATE_VERSION, "posts": many})
    damaged = {"a.md": {"digest": 1}, "b.md": {"first_seen": "yesterday"}, "c.md": 7, "d.md": {"digest": "x"}}
    assert State(tmp_path, posts=damaged).to_bytes() == _compact(  # type: ignore[arg-type]
        {"version": STATE_VERSION, "posts": {"d.md": {"digest": "x"}}}
    )
    assert json.loads(State(tmp_path, posts=many).to_bytes())["posts"] == many


def _report_view(report: BuildReport) -> tuple:
    return (
        [(f.kind, f.name, f.title, f.folder, [p.source for p in f.posts]) for f in report.feeds],
        report.live, report.drafts, report.scheduled, report.next_publish,
    )


def test_the_plan_is_reused_only_while_posts_and_the_live_set_are_the_same(
    example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    plan = plan_module.plan
    monkeypatch.setattr(plan_module, "plan", lambda *args: calls.append(args[2]) or plan(*args))
    _age(example_site / "content")
    first = build_both(example_site, tmp_path)
    assert len(calls) == 2  # the site and its cache-less twin
    calls.clear()
    again = run_build(example_site)
    assert calls == [] and _report_view(again) == _report_view(first)
    assert first.scheduled and first.next_publish is not None
    run_build(example_site, NOW - timedelta(days=1))  # a clock set back: planned afresh
    assert len(calls) == 1
    calls.clear()
    due = build_both(example_site, tmp_path, first.next_publish)  # the scheduled post is due: planned afresh
    assert len(calls) == 2 and FUTURE in [p.source for p in due.feeds[0].posts]
    assert due.scheduled == first.scheduled - 1
    calls.clear()
    toml = example_site / "feedwright.toml"
    toml.write_text(toml.read_text().replace("limit = 50", "limit = 2"))  # a feed setting: planned afresh
    small = build_both(example_site, tmp_path, first.next_publish)
    assert len(calls) == 2 and len(small.feeds[0].posts) == 2
    calls.clear()
    path = example_site / "content" / SEED
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "draft: true\ntitle:", 1), encoding="utf-8")
    drafted = build_both(example_site, tmp_path, first.next_publish)  # a post changed: planned afresh
    assert len(calls) == 2 and drafted.drafts == small.drafts + 1


def test_damaged_state_entries_give_the_same_bytes_with_a_cache(example_site: Path, tmp_path: Path) -> None:
    import json

    build_both(example_site, tmp_path)
    path = example_site / ".feedwright" / "state.json"
    data = json.loads(path.read_bytes())
    data["posts"][SEED] = {"first_seen": "yesterday", "digest": "0"}  # checked when used, not when loaded
    data["posts"]["images/seoul-night.svg"] = 7
    data["posts"]["gone.md"] = ["not", "an", "entry"]
    path.write_text(json.dumps(data))
    build_both(example_site, tmp_path)
    assert "yesterday" not in path.read_text() and "gone.md" not in path.read_text()
    build_both(example_site, tmp_path)



def test_a_warm_build_with_liquid_posts_does_not_make_the_links_of_every_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site")
    for i in range(3):
        write_post(site, f"2024-01-0{i + 1}-post-{i}.md", {"title": f"Post {i}"},
                   "{{ site.posts | size }} posts; first: [one]({% post_url 2024-01-01-post-0 %}).\n")
    build_both(site, tmp_path)
    made: list[int] = []
    build_links = build_module.build_links

    def counted(*args: Any) -> Any:
        made.append(1)
        return build_links(*args)

    monkeypatch.setattr(build_module, "build_links", counted)
    build_both(site, tmp_path)  # the twin, built without a cache, makes them once
    assert len(made) == 1
    # A new post: the last build's plan no longer holds, Liquid sees four posts.
    write_post(site, "2024-01-04-post-3.md", {"title": "Post 3"}, "Plain.\n")
    build_both(site, tmp_path)
    assert "4 posts; first" in (site / "output" / "feed.json").read_text(encoding="utf-8")


def test_a_post_showing_other_posts_categories_and_dates_is_rendered_again_when_they_change(
    tmp_path: Path,
) -> None:
    # site.posts shows each post's date, categories and tags: a cached rendering of a post that lists them must
    # not outlive a change to another post's (found in session 4: the key covered path, URL and title only).
    site = make_site(tmp_path / "site")
    write_post(site, "2024-01-02-other.md", {"title": "Other", "categories": ["Old"], "tags": ["t1"],
                                             "date": "2024-01-02T09:00:00+00:00"})
    write_post(site, "2024-01-03-lister.md", {"title": "Lister"},
               "{% for p in site.posts %}[{{ p.title }} {{ p.categories | join: ',' }} {{ p.tags | join: ',' }} "
               "{{ p.date | date: '%H:%M' }}]{% endfor %}\n")
    build_both(site, tmp_path)
    assert "[Other Old t1 09:00]" in (site / "output" / "feed.json").read_text(encoding="utf-8")
    write_post(site, "2024-01-02-other.md", {"title": "Other", "categories": ["New"], "tags": ["t2"],
                                             "date": "2024-01-02T10:30:00+00:00"})
    build_both(site, tmp_path)  # the cached build's bytes are the cache-less build's
    assert "[Other New t2 10:30]" in (site / "output" / "feed.json").read_text(encoding="utf-8")


def _records(site: Path) -> dict[str, tuple[Any, ...]]:
    """Each content file's record as the cache holds it, without its stat key (a twin's files have other inodes)."""
    return {rel: record[1:] for rel, record in Cache.load(load_site(site)).records.items()}


@pytest.fixture
def cold_reading(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every cold build of the test reads its files shard by shard (incremental/shards.py), here in this process
    (one worker: so that RACY_NS and the counters below reach it); the number of files of each such reading."""
    monkeypatch.setattr(collect_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    monkeypatch.setattr(collect_module, "RACY_NS", 0)  # aged files are not racy (see _age)
    calls: list[int] = []
    read_cold = memo_module.read_cold
    monkeypatch.setattr(memo_module, "read_cold", lambda site, now, state, cache, files, *rest: calls.append(
        len(files)) or read_cold(site, now, state, cache, files, *rest))
    return calls


def test_a_cold_build_writes_the_records_as_it_reads_them(
    example_site: Path, tmp_path: Path, cold_reading: list[int], counting: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_post(example_site, "news/bad.md", "title: [unclosed\n")
    _age(example_site / "content")
    twin = _twin(example_site, tmp_path)
    report = build_both(example_site, tmp_path)  # the same bytes, state and report as a cache-less build...
    assert cold_reading == [len(report.collection.posts) + len(report.rejected) + len(report.collection.ignored)] * 2
    monkeypatch.setattr(collect_module, "PARALLEL_MIN_FILES", 10**9)
    run_build(twin)  # ... and the very records the usual way keeps and saves
    assert _records(example_site) == _records(twin)
    assert {n for n in _manifest(example_site)["parts"] if n.startswith("posts-")} == {
        n for n in _manifest(twin)["parts"] if n.startswith("posts-")}
    # The next build takes the warm shortcut: the index was made from what the cold reading kept.
    counting["parsed"] = 0
    again = run_build(example_site)
    assert not loaded(again.collection.posts) and counting["parsed"] == 0
    # An edit then reads that file and rewrites its shard only, from the records the cold reading wrote.
    before = _shard_bytes(example_site)
    path = example_site / "content" / SEED
    path.write_text(path.read_text(encoding="utf-8") + "\nA correction.\n", encoding="utf-8")
    build_both(example_site, tmp_path)
    after = _shard_bytes(example_site)
    assert {name for name in before if before[name] != after[name]} == {f"posts-{shard(SEED):02d}"}


def test_a_part_the_cold_reading_cannot_write_is_read_again_next_time(
    example_site: Path, tmp_path: Path, cold_reading: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedwright.incremental import store

    lost = f"posts-{shard(SEED):02d}"
    write = store.Seal.write

    def failing(self: store.Seal, name: str, body: Any) -> tuple[str, bytes]:
        if name == lost:
            raise OSError(28, "No space left on device")
        return write(self, name, body)

    monkeypatch.setattr(store.Seal, "write", failing)
    report = build_both(example_site, tmp_path)
    assert any("cannot write the cache (No space left on device); next build is slower" in w
               for w in report.warnings), report.warnings
    parts = _manifest(example_site)["parts"]
    assert lost not in parts and any(n.startswith("posts-") for n in parts)
    assert "index" not in parts  # not every file has a record: no warm shortcut to vouch for
    assert not [f for f in (example_site / ".feedwright" / CACHE_DIR).iterdir() if f.name.startswith(f"{lost}.")]
    monkeypatch.setattr(store.Seal, "write", write)
    read: list[str] = []
    read_one = collect_module._read_one
    monkeypatch.setattr(collect_module, "_read_one", lambda task, *args: read.append(task[0]) or read_one(task, *args))
    run_build(example_site)
    assert SEED in read and {shard(rel) for rel in read} == {shard(SEED)}
    assert lost in _manifest(example_site)["parts"] and "index" in _manifest(example_site)["parts"]
    build_both(example_site, tmp_path)


def test_a_shard_whose_worker_died_is_unreadable_and_its_feeds_are_kept(
    example_site: Path, cold_reading: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_build(example_site)
    before = output_files(example_site / "output")
    shutil.rmtree(example_site / ".feedwright" / CACHE_DIR)  # the next build reads every file again, shard by shard
    fan_out, lost = parallel.fan_out, shard(SEED)
    died = parallel.Stopped("its worker process died (exit status -9)")

    def dying(fn: Any, common: Any, items: Any, **options: Any) -> Any:
        passed_on = options.get("on_result")
        if passed_on is None:  # not the cold reading's fan-out
            return fan_out(fn, common, items, **options)

        def on_result(i: int, result: Any) -> None:
            passed_on(i, died if items[i][0] == lost else result)

        return fan_out(fn, common, items, **{**options, "on_result": on_result})

    monkeypatch.setattr(parallel, "fan_out", dying)
    report = run_build(example_site)
    assert cold_reading, "the cold reading was not taken"
    lost_files = {str(e.path) for e in report.unreadable}
    assert f"content/{SEED}" in lost_files and all(
        shard(path.removeprefix("content/")) == lost for path in lost_files)
    assert all(e.reason == "cannot read: its worker process died (exit status -9)" for e in report.unreadable)
    after = output_files(example_site / "output")
    carrying = [rel for rel, data in before.items() if b"seoul-un-award" in data]
    assert carrying and set(carrying) <= report.held and all(after[rel] == before[rel] for rel in carrying)
    parts = _manifest(example_site)["parts"]
    assert f"posts-{lost:02d}" not in parts and "index" not in parts  # read again next time; no warm shortcut


def _told(report: BuildReport, root: Path) -> dict[str, Any]:
    """What a build tells of its posts besides the feeds, with the site's folder left out."""
    return {
        "warnings": [w.replace(str(root), "") for w in report.warnings],
        "rejected": [str(e).replace(str(root), "") for e in report.rejected],
        "near misses": report.collection.near_misses(),
        "scheduled": [p.source for p in report.scheduled_posts()],
    }


@pytest.mark.parametrize("clash", [False, True])
def test_a_cold_reading_tells_what_the_usual_reading_tells(
    tmp_path: Path, cold_reading: list[int], clash: bool
) -> None:
    """Duplicates, notes, near-miss keys and scheduled posts are noted as each shard arrives (shards.Tally): the
    same as the usual reading finds, and the warm build after gives them again from the index's summary."""
    root = tmp_path / "site"
    posts = {f"_posts/2024-03-{day:02d}-p{day}.md": f"---\ntitle: P{day}\n---\nx\n" for day in range(1, 29)}
    posts.update({
        "_posts/2024-01-02-a.md": "---\ntitle: A\npermalink: /same/\ntitel: x\ndat: y\n---\nx\n",  # two near misses
        "_posts/2024-01-03-b.md": f"---\ntitle: B\npermalink: {'/same/' if clash else '/b/'}\n---\nx\n",
        "_posts/2024-02-04-bad-date.md": "---\ntitle: Bad\ndate: someday soon\n---\nx\n",  # a note
        "_posts/2031-01-01-later.md": "---\ntitle: Later\n---\nx\n",  # scheduled
        "_posts/2031-01-02-sooner.md": "---\ntitle: Sooner\ndate: 2030-06-01\n---\nx\n",
        "_posts/2031-02-03-unpublished.md": "---\ntitle: Draft\npublished: false\n---\nx\n",  # not scheduled
    })
    for rel, text in posts.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "_config.yml").write_text("title: T\nurl: https://example.org\ntimezone: UTC\n", encoding="utf-8")
    assert len({shard(rel) for rel in posts}) > 4  # the posts arrive in several shards
    usual = shutil.copytree(root, tmp_path / "usual")
    report = run_build(root)
    assert cold_reading
    told = _told(report, root)
    assert told["rejected"] == ["_posts/2024-01-03-b.md: same permalink as _posts/2024-01-02-a.md"] * clash
    assert any("using the date of the file name, 2024-02-04" in w for w in told["warnings"])
    assert [key for _, key, _ in told["near misses"]] == ["titel", "dat"]
    assert told["scheduled"] == ["_posts/2031-01-02-sooner.md", "_posts/2031-01-01-later.md"]
    collect_module.PARALLEL_MIN_FILES = 10**9  # (the fixture puts it back)
    assert _told(run_build(usual), usual) == told
    again = run_build(root)
    assert not loaded(again.collection.posts) and _told(again, root) == told


def test_a_first_build_has_its_workers_prepare_rendering_while_it_plans(
    example_site: Path, cold_reading: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "PARALLEL_MIN_RENDERS", 1)
    asked: list[Any] = []
    monkeypatch.setattr(parallel.Workers, "prepare", lambda self, fn: asked.append(fn))
    run_build(example_site)
    assert cold_reading and len(asked) == 1
    from feedwright.pipeline.liquid import environment as liquid_environment
    from feedwright.pipeline.liquid import site_files_digest

    site = load_site(example_site)
    liquid_environment._ENVIRONMENTS.clear()
    asked[0]()  # what each worker runs: the site's Markdown dialect and Liquid environment set up
    assert asked[0].args == (site,)
    assert list(liquid_environment._ENVIRONMENTS) == [repr(site) + site_files_digest(site.root)]
    run_build(example_site)  # warm: the rendering is cached, nothing to prepare
    assert len(asked) == 1


def test_a_cold_reading_that_cannot_write_the_cache_still_builds(
    example_site: Path, tmp_path: Path, cold_reading: list[int]
) -> None:
    (example_site / ".feedwright").mkdir()
    (example_site / ".feedwright" / CACHE_DIR).write_text("not a folder")
    report = build_both(example_site, tmp_path)
    assert cold_reading and report.result is not None and report.result.written
    assert [w for w in report.warnings if "cannot write the cache" in w]
    assert (example_site / ".feedwright" / CACHE_DIR).read_text() == "not a folder"


def test_records_the_cache_could_not_load_are_used_and_not_named(
    example_site: Path, tmp_path: Path, cold_reading: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedwright.incremental import store

    # As if a post held a class the cache's loader does not allow: its shard's records cannot be loaded back.
    monkeypatch.setattr(store, "_ALLOWED", store._ALLOWED - {("feedwright.pipeline.collect", "Post")})
    report = build_both(example_site, tmp_path)  # the same feeds, state and report as ever
    assert cold_reading and report.collection.posts
    assert [w for w in report.warnings if "a post's fields cannot be cached; next build is slower" in w]
    named = {name for name in _manifest(example_site)["parts"] if name.startswith("posts-")}
    assert {f"posts-{shard(p.source):02d}" for p in report.collection.posts}.isdisjoint(named)
