"""Reading one file (``collect._read_one``): the stat key is the open file's, taken before its bytes are read, and
the bytes are the file's to its end as it is when read, whatever its size was when stat'ed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import NOW, make_site, write_post
from feedwright.config import load_site
from feedwright.pipeline import collect
from feedwright.pipeline.history import State, digest


def _read(site_dir: Path, rel: str) -> tuple[collect.Outcome, collect.Facts | None]:
    site = load_site(site_dir)
    path = str(site_dir / "content" / rel)
    return collect._read_one((rel, path, None, None), site, NOW, State(Path()), 0)


def _growing_after_fstat(monkeypatch: pytest.MonkeyPatch, path: Path, extra: bytes) -> list[os.stat_result]:
    """Make the file at ``path`` grow by ``extra`` right after it is fstat'ed (as if written to meanwhile)."""
    real_fstat, seen = os.fstat, []

    def fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        if not seen:
            seen.append(st)
            with path.open("ab") as f:
                f.write(extra)
        return st

    monkeypatch.setattr(os, "fstat", fstat)
    return seen


def test_the_stat_key_is_the_open_files_before_its_bytes_are_read(tmp_path: Path) -> None:
    site = make_site(tmp_path / "s")
    path = write_post(site, "a.md", {"title": "A", "date": "2024-01-02"})
    outcome, facts = _read(site, "a.md")
    assert isinstance(outcome, collect.Post) and facts is not None
    assert facts[0] == collect.stat_key(os.stat(path))
    assert facts[2] == outcome.fingerprint == digest(path.read_bytes())


@pytest.mark.parametrize("size", [200, 70_000])  # read whole at once; looked at first, then read
def test_a_file_growing_after_its_stat_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    site = make_site(tmp_path / "s")
    path = write_post(site, "a.md", {"title": "A", "date": "2024-01-02"}, body="x" * size)
    before = path.read_bytes()
    seen = _growing_after_fstat(monkeypatch, path, b"\nmore")
    outcome, facts = _read(site, "a.md")
    assert isinstance(outcome, collect.Post) and facts is not None
    assert facts[0] == collect.stat_key(seen[0]) and seen[0].st_size == len(before)  # the key from before
    assert facts[2] == digest(before + b"\nmore")  # the bytes as read, to the end


def test_a_file_growing_past_the_size_limit_after_its_stat_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "s", "[build]\nmax_file_size = 1000\n")
    path = write_post(site, "a.md", {"title": "A"}, body="x" * (1000 - 18))
    assert path.stat().st_size == 1000  # at the limit: read whole at once
    _growing_after_fstat(monkeypatch, path, b"!")
    outcome, facts = _read(site, "a.md")
    assert outcome == "file is 1,001 bytes, larger than build.max_file_size (1,000)"
    assert facts is not None and facts[2] is None


def test_a_file_shrinking_after_its_stat_is_read_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "s")
    path = write_post(site, "a.md", {"title": "A"}, body="long body " * 20)
    real_fstat, size = os.fstat, path.stat().st_size

    def fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        if st.st_size == size:  # the post's (not another file the test run looks at)
            os.truncate(path, size - 50)
        return st

    monkeypatch.setattr(os, "fstat", fstat)
    outcome, facts = _read(site, "a.md")
    assert isinstance(outcome, collect.Post) and facts is not None
    assert facts[2] == digest(path.read_bytes())


def test_a_file_that_cannot_be_opened_is_unreadable_without_facts(tmp_path: Path) -> None:
    site = make_site(tmp_path / "s")
    outcome, facts = _read(site, "gone.md")
    assert isinstance(outcome, collect.Unreadable) and facts is None
    assert outcome == "cannot read: No such file or directory"


def test_a_post_made_from_its_fields_is_the_one_the_constructor_makes(tmp_path: Path) -> None:
    import pickle

    site = make_site(tmp_path / "site")
    write_post(site, "news/one.md", {"title": "One", "date": "2024-06-26 11:30:00 +0900", "categories": ["News"],
                                     "tags": ["a", "b"], "excerpt": "Short."})
    loaded = load_site(site)
    (rel, path), = collect.scan(loaded.root / loaded.content)
    post, _ = collect._read_one((rel, path, None, None), loaded, NOW, State(tmp_path / "state.json"), 0)
    assert isinstance(post, collect.Post)
    values = dict(vars(post))  # the very objects (asdict would copy them: pickles then differ by their memo)
    built = collect.Post(**values)
    assert post == built and repr(post) == repr(built) and pickle.dumps(post) == pickle.dumps(built)
    assert list(vars(post)) == list(vars(built))  # the same attribute order (what pickles and the cache see)
    with pytest.raises(TypeError):
        collect.made_post({**values, "colour": "red"})
    del values["title"]
    with pytest.raises(TypeError):
        collect.made_post(values)


@pytest.mark.parametrize("jekyll", [False, True])
@pytest.mark.parametrize(("front", "expected"), [
    ('categories: [News]\ntags: ["a b", c]\nauthor: Kim Ji-won', (("News",), ("a b", "c"), ("Kim Ji-won",))),
    ("category: News\ntags: [x, 1, [y]]\nauthors: [{name: Lee}, Park]", (("News",), ("x", "1", "y"), ("Lee", "Park"))),
    ("tags: a  b", ((), ("a", "b"), ())),
])
def test_names_are_interned(tmp_path: Path, jekyll: bool, front: str, expected: tuple[tuple[str, ...], ...]) -> None:
    import sys

    from test_jekyll_config import jekyll_site

    text = f"---\ntitle: T\n{front}\n---\nBody.\n"
    if jekyll:
        root = jekyll_site(tmp_path / "site", "title: S\nurl: https://ex.org\nauthor: Site Author\n",
                           {"_posts/2024-01-02-one.md": text})
    else:
        root = make_site(tmp_path / "site")
        (root / "content" / "one.md").write_text(text, encoding="utf-8")
    loaded = load_site(root)
    (rel, path), = ((rel, path) for rel, path in collect.scan(loaded.root / loaded.content) if rel.endswith("one.md"))
    post, _ = collect._read_one((rel, path, None, None), loaded, NOW, State(tmp_path / "state.json"), 0)
    assert isinstance(post, collect.Post)
    categories, tags, authors = expected
    assert (post.categories, post.tags) == (categories, tags)
    assert post.authors == authors or not authors
    for names in (post.categories, post.tags, post.authors):
        assert type(names) is tuple and all(sys.intern(name) is name for name in names)
