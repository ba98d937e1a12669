"""Liquid's links to the live posts (feedwright.pipeline.liquid.links): held column by column, digested by blocks,
indexed by place; the digest is the cache key of every post with Liquid, so it must tell apart any two sets of
posts that ``site.posts`` shows differently, and be the same however the links were made (afresh, patched by
``daemon --watch``, sent to a worker)."""

from __future__ import annotations

import importlib
import pickle
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import make_site, write_post
from feedwright.build import build
from feedwright.config import Site, load_site
from feedwright.incremental.live import Live
from feedwright.pipeline.liquid import Columns, Links, PostRef
from feedwright.pipeline.liquid.links import BLOCK, stem

build_module = importlib.import_module("feedwright.build")

NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")


def _refs(count: int) -> list[PostRef]:
    return [PostRef(f"{i % 7}/{i:04d}-p{i % 300}.md", f"https://example.org/p{i}/", f"Post {i} 제목",
                    NOW - timedelta(hours=i), ("news",) if i % 2 else (), tuple(f"t{j}" for j in range(i % 4)))
            for i in range(count)]


def _shown(links: Links) -> list[tuple[object, ...]]:
    """What site.posts shows of each post: the digest must change exactly when this does."""
    return [(r.source, r.url, r.title, r.date.isoformat(), r.categories, r.tags) for r in links.posts]


# A small alphabet, separators included: fields that differ only by where a NUL or a name ends are common.
_TEXT = st.text(alphabet=["a", "\0", "\x01", "\x02", ",", " ", "é"], max_size=3)
_NAMES = st.lists(_TEXT, max_size=2).map(tuple)
_REF = st.builds(PostRef, _TEXT, _TEXT, _TEXT,
                 st.sampled_from([NOW, NOW.astimezone(SEOUL), NOW.astimezone(timezone(timedelta(hours=9))),
                                  NOW + timedelta(microseconds=1)]),
                 _NAMES, _NAMES)


@settings(max_examples=400, deadline=None)
@given(st.lists(_REF, max_size=3), st.lists(_REF, max_size=3))
def test_the_digest_changes_exactly_when_what_templates_see_changes(a: list[PostRef], b: list[PostRef]) -> None:
    one, two = Links(a, NOW), Links(b, NOW)
    assert (one.digest == two.digest) == (_shown(one) == _shown(two))


def test_posts_that_differ_only_in_where_a_field_ends_have_other_digests() -> None:
    base = PostRef("a.md", "u", "t", NOW)
    variants = [
        [base], [replace(base, categories=("",))], [replace(base, categories=("", ""))], [replace(base, tags=("",))],
        [replace(base, categories=("x",))], [replace(base, tags=("x",))], [replace(base, categories=("x", "y"))],
        [replace(base, categories=("x\0y",))], [replace(base, title="t\0u")], [replace(base, url="u\0t", title="")],
        [base, base], [replace(base, date=NOW.astimezone(SEOUL))], [replace(base, date=NOW.replace(tzinfo=None))],
        # Two posts whose texts joined by NUL would read the same: the NUL in one text moves to the next.
        [replace(base, title="t\0"), replace(base, title="")], [replace(base, title="t"), replace(base, title="\0")],
        [replace(base, tags=("x\0",)), replace(base, tags=("y",))],
        [replace(base, tags=("x",)), replace(base, tags=("\0y",))],
    ]
    digests = [Links(refs, NOW).digest for refs in variants]
    assert len(set(digests)) == len(digests)


@pytest.mark.parametrize("count", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_links_made_from_columns_are_links_made_from_posts(count: int) -> None:
    refs = _refs(count)
    columns = Columns(*zip(*[(r.source, r.url, r.title, r.date, r.categories, r.tags) for r in refs], strict=True)
                      ) if refs else Columns()
    made = Links.of(columns, NOW, "f")
    assert made == Links(refs, NOW, "f") and made.posts == tuple(refs)
    assert made.digest == Links(refs, NOW, "f").digest
    assert len(made.digests) == 16 * -(-count // BLOCK)
    back = pickle.loads(pickle.dumps(made, pickle.HIGHEST_PROTOCOL))
    assert back == made and back.digest == made.digest


@pytest.mark.parametrize("edited", [[0], [BLOCK - 1, BLOCK], [5, 2 * BLOCK + 3, 3 * BLOCK + 16], [17]])
@pytest.mark.parametrize("made", ["columns", "posts"])
def test_links_updated_in_place_across_blocks_are_links_made_afresh(edited: list[int], made: str) -> None:
    """``daemon --watch`` patches the digests of the edited posts' blocks: the digest must be the one a build
    from scratch computes, or the next cron build re-renders every post with Liquid (and vice versa)."""
    refs = _refs(3 * BLOCK + 17)
    last = Links(refs, NOW, "files") if made == "posts" else Links.of(Links(refs).columns, NOW, "files")
    assert last.digest and last.by_stem  # computed, as a build would have
    new = {refs[i].source: replace(refs[i], title=f"{refs[i].title} edited", url=refs[i].url + "x",
                                   tags=refs[i].tags + ("new",)) for i in edited}
    if 17 in edited:  # the same instant in another zone: another date to a template
        new[refs[17].source] = replace(refs[17], date=refs[17].date.astimezone(SEOUL))
    later = NOW + timedelta(hours=1)
    updated = last.updated(later, "files2", new)
    fresh = Links([new.get(r.source, r) for r in refs], later, "files2")
    assert updated == fresh
    assert updated.digests == fresh.digests and updated.digest == fresh.digest != last.digest
    assert updated.posts == fresh.posts
    assert dict(updated.by_source) == dict(fresh.by_source) and dict(updated.by_stem) == dict(fresh.by_stem)
    assert last == Links(refs, NOW, "files")  # the links it was made from are as they were


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=["a", ".", "-", "é"], min_size=1, max_size=5).filter(lambda s: s not in (".", "..")),
                min_size=1, max_size=3))
def test_a_stem_is_pathlibs(parts: list[str]) -> None:
    source = "/".join(parts)
    assert stem(source) == PurePosixPath(source).stem


def test_by_stem_gives_every_post_of_a_shared_name_newest_first() -> None:
    refs = [PostRef("a/2024-01-02-x.md", "u1", "new", NOW), PostRef("b/c.md", "u2", "c", NOW),
            PostRef("b/2024-01-02-x.markdown", "u3", "old", NOW - timedelta(days=1)),
            PostRef("2024-01-02-x.md", "u4", "oldest", NOW - timedelta(days=2)), PostRef(".md", "u5", "dot", NOW)]
    links = Links(refs, NOW)
    expected: dict[str, list[PostRef]] = {}
    for ref in refs:
        expected.setdefault(PurePosixPath(ref.source).stem, []).append(ref)
    assert dict(links.by_stem) == {name: tuple(found) for name, found in expected.items()}
    assert dict(Links.of(links.columns).by_stem) == dict(links.by_stem)
    assert links.by_source["b/c.md"] == refs[1] and "nope.md" not in links.by_source
    assert links.by_stem.get("nope") is None


def test_a_watch_build_after_an_edit_keys_liquid_posts_as_a_fresh_build_does(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site_dir = make_site(tmp_path / "site")
    for i in range(1, 9):
        write_post(site_dir, f"2024-01-0{i}-p{i}.md", {"title": f"Post {i}", "date": f"2024-01-0{i}", "tags": ["a"]},
                   "See [the first]({% post_url 2024-01-01-p1 %}), {{ site.posts | size }} posts.\n")
    site = load_site(site_dir)
    live = Live(site)
    build(site, now=NOW, live=live)
    made: list[int] = []
    real = build_module.build_links
    monkeypatch.setattr(build_module, "build_links", lambda *a: made.append(1) or real(*a))
    write_post(site_dir, "2024-01-05-p5.md", {"title": "Post 5 renamed", "date": "2024-01-05", "tags": ["b"]}, "x\n")
    live.changed(["2024-01-05-p5.md"])
    build(site, now=NOW, live=live)
    assert not made  # the last build's links, patched
    assert live._links is not None
    posts, patched = live._links[0], live._links[1]
    assert patched.digest == real(site, posts, NOW).digest
    assert [r.title for r in patched.posts][3] == "Post 5 renamed"


def _split_relative(absolute: str) -> object:
    try:
        parts = urlsplit(absolute)
    except ValueError as exc:
        return type(exc)
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


_ODD = ["?", "#", "[", "]", "é", " ", "\t", "\r", "\n", "\x00", "\x01", "\x7f", "%", ":", "@", "/"]


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(["https"] * 6 + ["HTTP", "a+b.c-d", "1x", "é", " https", "\x01http", ""]),
       st.sampled_from(["://"] * 6 + [":/", ":", "//", ":///"]),
       st.text(alphabet=["h", "."] * 8 + _ODD, max_size=5),
       st.lists(st.text(alphabet=["p", "="] * 8 + _ODD, max_size=4), max_size=3))
@example("https", "://", "h", ["p?"])
@example("https", "://", "h", ["p#"])
@example("https", "://", "[h", ["p"])
@example("https", "://", "h]", ["p"])
@example("https", "://", "hé", ["p"])
@example("https", "://", "h\u2100", ["p"])  # NFKC makes it "a/c": urlsplit refuses the host
@example("https", "://", "h", ["p\r"])
@example("https", "://", "h", ["p\x01"])
def test_a_urls_site_relative_form_is_urlsplits(scheme: str, colon: str, host: str, path: list[str]) -> None:
    """``relative`` (site.posts' URLs, post_url, link) takes a plain URL's path without urlsplit: the same text."""
    from feedwright.pipeline.liquid.context import relative

    absolute = f"{scheme}{colon}{host}" + "".join(f"/{part}" for part in path)
    try:
        ours: object = relative(Site(root=Path("."), url="https://example.org/"), absolute)
    except ValueError as exc:
        ours = type(exc)
    assert ours == _split_relative(absolute)
