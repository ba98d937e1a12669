"""Unit tests for feedwright.pipeline.normalise: every normaliser, driven through ``normalise(meta, Source(...))``."""

from __future__ import annotations

import posixpath
import re
import time
from dataclasses import FrozenInstanceError
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.config import Site, parse_config
from feedwright.pipeline import normalise as normalise_module
from feedwright.pipeline.history import State
from feedwright.pipeline.keys import near_misses
from feedwright.pipeline.normalise import NORMALISERS, Reject, Source, normalise

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
SITE_URL = "https://ex.org/blog/"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return parse_config({"site": {"url": SITE_URL, "timezone": "Asia/Seoul", "author": "Newsroom"}}, tmp_path)


@pytest.fixture
def state(tmp_path: Path) -> State:
    return State(tmp_path / "state.json")


def run(
    meta: dict[str, Any],
    site: Site,
    state: State,
    rel: str = "news/post.md",
    now: datetime = NOW,
    fingerprint: str = "f1",
) -> dict[str, Any]:
    return normalise({"title": "T", **meta}, Source(PurePosixPath(rel), site, now, state, fingerprint))


def reject(meta: dict[str, Any], site: Site, state: State, rel: str = "news/post.md") -> str:
    with pytest.raises(Reject) as info:
        run(meta, site, state, rel)
    return str(info.value)


def test_normalise_returns_every_field(site: Site, state: State) -> None:
    fields = run({}, site, state)
    assert list(fields) == list(NORMALISERS)


# --- title ---------------------------------------------------------------------------------------------------


def test_title_is_required(site: Site, state: State) -> None:
    assert "title" in reject({"title": None}, site, state)
    assert "title" in reject({"title": "   "}, site, state)


@pytest.mark.parametrize(("value", "expected"), [(2024, "2024"), (3.5, "3.5"), ("  a \n  b ", "a b")])
def test_title_accepts_numbers_and_squashes_space(site: Site, state: State, value: Any, expected: str) -> None:
    assert run({"title": value}, site, state)["title"] == expected


@pytest.mark.parametrize("value", [["a", "b"], {"a": 1}, True])
def test_title_rejects_non_scalars_naming_the_key(site: Site, state: State, value: Any) -> None:
    assert "title" in reject({"title": value}, site, state)


# --- published -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-26 11:30:00 +0900", datetime(2024, 6, 26, 2, 30, tzinfo=UTC)),
        ("2024-06-26 11:30:00 +0000", datetime(2024, 6, 26, 11, 30, tzinfo=UTC)),
        ("2024-06-26T11:30:00Z", datetime(2024, 6, 26, 11, 30, tzinfo=UTC)),
        ("2024-06-26T11:30:00+09:00", datetime(2024, 6, 26, 2, 30, tzinfo=UTC)),
        ("2024-06-26T11:30:00.250-05:00", datetime(2024, 6, 26, 16, 30, 0, 250000, tzinfo=UTC)),
        # No zone: the site's (Asia/Seoul, UTC+9).
        ("2024-06-26 11:30", datetime(2024, 6, 26, 2, 30, tzinfo=UTC)),
        ("2024-06-26", datetime(2024, 6, 25, 15, 0, tzinfo=UTC)),
        (date(2024, 6, 26), datetime(2024, 6, 25, 15, 0, tzinfo=UTC)),
        (datetime(2024, 6, 26, 11, 30), datetime(2024, 6, 26, 2, 30, tzinfo=UTC)),
        (datetime(2024, 6, 26, 11, 30, tzinfo=UTC), datetime(2024, 6, 26, 11, 30, tzinfo=UTC)),
    ],
)
def test_date_forms(site: Site, state: State, value: Any, expected: datetime) -> None:
    published = run({"date": value}, site, state)["published"]
    assert published.tzinfo is not None
    assert published == expected


def test_date_from_yaml_front_matter(site: Site, state: State) -> None:
    meta = yaml.safe_load("date: 2024-06-26 11:30:00 +0900\n")
    assert run(meta, site, state)["published"] == datetime(2024, 6, 26, 2, 30, tzinfo=UTC)


def test_date_object_is_midnight_in_site_zone(site: Site, state: State) -> None:
    published = run({"date": date(2024, 6, 26)}, site, state)["published"]
    local = published.astimezone(SEOUL)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2024, 6, 26, 0, 0)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("2024-05-14-slug.md", datetime(2024, 5, 14, tzinfo=SEOUL)),
        ("news/2024-05-14-slug.md", datetime(2024, 5, 14, tzinfo=SEOUL)),
        ("2017-2-5-x.md", datetime(2017, 2, 5, tzinfo=SEOUL)),
    ],
)
def test_date_from_file_name(site: Site, state: State, rel: str, expected: datetime) -> None:
    assert run({}, site, state, rel=rel)["published"] == expected


def test_front_matter_date_beats_file_name(site: Site, state: State) -> None:
    fields = run({"date": "2020-01-01 00:00:00 +0000"}, site, state, rel="2024-05-14-slug.md")
    assert fields["published"] == datetime(2020, 1, 1, tzinfo=UTC)


def test_no_date_uses_first_seen_and_keeps_it(site: Site, state: State, tmp_path: Path) -> None:
    first = run({}, site, state, rel="undated.md", now=NOW)["published"]
    assert first == NOW
    later = run({}, site, state, rel="undated.md", now=NOW + timedelta(days=3))["published"]
    assert later == first
    # It is history: it survives a save and reload of the state file.
    state.path.write_bytes(state.to_bytes())
    again = run({}, site, State.load(state.path), rel="undated.md", now=NOW + timedelta(days=9))["published"]
    assert again == first


def test_first_seen_is_per_file(site: Site, state: State) -> None:
    run({}, site, state, rel="a.md", now=NOW)
    other = run({}, site, state, rel="b.md", now=NOW + timedelta(hours=1))["published"]
    assert other == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    "value",
    ["2024-13-45", "2024-02-30", "yesterday", "June 26, 2024", 20240626, "2024 2025", "2024-06-26 2025-01-01",
     "2024-06-26 25:00", ["2024-06-26"], True, "2024-06-26 11:30 +25:00"],
)
def test_bad_dates_are_rejected_naming_the_key(site: Site, state: State, value: Any) -> None:
    assert "date" in reject({"date": value}, site, state)


def _verdict(parse: Any, value: str) -> Any:
    """A date as parsed (value, zone, its offset), or the rejection's message."""
    try:
        moment = parse(value, SEOUL, "date")
    except Reject as exc:
        return str(exc)
    return moment, repr(moment.tzinfo), moment.utcoffset(), moment.fold


_TWO = st.sampled_from(["00", "01", "09", "12", "13", "19", "23", "24", "25", "29", "30", "31", "32", "59", "60", "99"])


_DATE_PARTS = st.tuples(
    st.sampled_from(["0000", "0001", "1999", "2024", "9999", "２０２４"]),
    _TWO, _TWO, st.sampled_from([" ", "T", "t", "  ", ""]), _TWO, _TWO, _TWO,
    st.sampled_from(["", "", ".5", ",123"]),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", "Z", "UTC", "+0000", "-0000", "+0900", "+09:00", "-05:30", "+2400", "-23:59", "+1260", "+9",
                     "+09:0", "+09000", "+١٢٠٠"]),
    st.sampled_from(["", "", " ", "\n", "x"]),
)


@settings(max_examples=1500, deadline=None)
@given(_DATE_PARTS)
def test_the_usual_spelling_of_a_date_is_read_as_the_long_way_reads_it(parts: tuple[str, ...]) -> None:
    value = "{}-{}-{}{}{}:{}:{}{}{}{}{}".format(*parts)
    assert _verdict(normalise_module._to_datetime, value) == _verdict(normalise_module._parsed_date, value)


@pytest.mark.parametrize("value", ["2019-05-21 23:53:35 +0000", "2024-06-26T11:30:00+09:00", "2024-06-26 11:30:00"])
def test_the_usual_spelling_of_a_date_takes_the_short_way(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = normalise_module._parsed_date(value, SEOUL, "date")
    monkeypatch.setattr(normalise_module, "_parsed_date", None)  # calling it would raise
    assert normalise_module._to_datetime(value, SEOUL, "date") == expected


def _names_the_long_way(meta: dict[str, Any], plural: str, singular: str) -> tuple[str, ...]:
    """``_names`` without its short way for lists of strings: every value flattened and checked."""
    names: list[str] = []
    for key in (plural, singular):
        value = meta.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.split() if key == plural else [value]
        for item in normalise_module._flatten(value, key):
            if item is None or item == "":
                continue
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise Reject(f"{key} entries must be text, got {normalise_module._kind(item)}")
            name = normalise_module.squash(str(item))
            if name and name not in names:
                names.append(name)
    return tuple(names)


_NAME_ITEMS = st.one_of(
    st.sampled_from(["News", "news", " News ", "a  b", "", " ", "\xa0", "한국", "1"]), st.none(), st.integers(0, 2),
    st.booleans(), st.just({"a": 1}), st.floats(allow_nan=False),
)
_NAME_VALUES = st.one_of(
    st.none(), st.sampled_from(["a b", "News", ""]), st.lists(_NAME_ITEMS, max_size=6),
    st.lists(st.one_of(_NAME_ITEMS, st.lists(_NAME_ITEMS, max_size=3)), max_size=4),
    st.lists(st.just("x"), min_size=199, max_size=201),
)


@settings(max_examples=1000, deadline=None)
@given(_NAME_VALUES, _NAME_VALUES)
def test_names_are_read_as_the_long_way_reads_them(plural: Any, singular: Any) -> None:
    meta = {"tags": plural, "tag": singular}

    def verdict(names: Any) -> Any:
        try:
            return names(meta, "tags", "tag")
        except Reject as exc:
            return str(exc)

    assert verdict(normalise_module._names) == verdict(_names_the_long_way)


@settings(max_examples=1000, deadline=None)
@given(st.text(st.one_of(st.characters(max_codepoint=0x7F), st.sampled_from("é한\ud800 %")), max_size=20))
def test_a_path_is_quoted_as_quote_quotes_it(path: str) -> None:
    expected: Any
    try:
        expected = quote(path, safe=normalise_module._PATH_SAFE)
    except UnicodeEncodeError as exc:  # a lone surrogate: the same failure
        expected = str(exc)
    try:
        assert normalise_module.quoted_path(path) == expected
    except UnicodeEncodeError as exc:
        assert str(exc) == expected


# --- updated -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["last_modified_at", "updated"])
def test_updated_from_front_matter(site: Site, state: State, key: str) -> None:
    fields = run({"date": "2024-01-01 00:00:00 +0000", key: "2024-02-01 10:00:00 +0000"}, site, state)
    assert fields["updated"] == datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_last_modified_at_beats_updated(site: Site, state: State) -> None:
    fields = run({"last_modified_at": "2024-03-01T00:00:00Z", "updated": "2024-02-01T00:00:00Z"}, site, state)
    assert fields["updated"] == datetime(2024, 3, 1, tzinfo=UTC)


def test_bad_updated_is_rejected_naming_the_key(site: Site, state: State) -> None:
    assert "last_modified_at" in reject({"last_modified_at": "soon"}, site, state)


def test_updated_follows_content_changes(site: Site, state: State) -> None:
    meta = {"date": "2024-01-01 00:00:00 +0000"}
    published = datetime(2024, 1, 1, tzinfo=UTC)
    # First sight: no known change, so updated is the publication date.
    assert run(meta, site, state, now=NOW, fingerprint="v1")["updated"] == published
    # Same bytes later: still unchanged.
    assert run(meta, site, state, now=NOW + timedelta(days=1), fingerprint="v1")["updated"] == published
    # New bytes: the build that saw them is the update moment...
    changed_at = NOW + timedelta(days=2)
    assert run(meta, site, state, now=changed_at, fingerprint="v2")["updated"] == changed_at
    # ...and it stays put until the bytes change again.
    assert run(meta, site, state, now=NOW + timedelta(days=5), fingerprint="v2")["updated"] == changed_at
    last = NOW + timedelta(days=6)
    assert run(meta, site, state, now=last, fingerprint="v3")["updated"] == last


# --- categories and tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("plural", "singular"), [("categories", "category"), ("tags", "tag")])
@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"P": ["News", "Tech"]}, ("News", "Tech")),
        ({"P": "news tech"}, ("news", "tech")),
        ({"S": "Digital Crime"}, ("Digital Crime",)),
        ({"S": ["a b", "c"]}, ("a b", "c")),
        ({"P": ["a", ["b", ["c", ["d"]]]]}, ("a", "b", "c", "d")),
        ({"P": [None, "", "a", "  "]}, ("a",)),
        ({"P": None}, ()),
        ({"P": ""}, ()),
        ({"P": [2024, 1.5]}, ("2024", "1.5")),
        ({"P": ["a", "b"], "S": "a"}, ("a", "b")),
        ({"P": ["x  y"]}, ("x y",)),
        ({}, ()),
    ],
)
def test_names(
    site: Site, state: State, plural: str, singular: str, meta: dict[str, Any], expected: tuple[str, ...]
) -> None:
    real = {plural if k == "P" else singular: v for k, v in meta.items()}
    field = "categories" if plural == "categories" else "tags"
    assert run(real, site, state)[field] == expected


@pytest.mark.parametrize("key", ["categories", "category", "tags", "tag"])
@pytest.mark.parametrize("value", [{"a": 1}, [{"a": 1}], True, [True], [date(2024, 1, 1)]])
def test_names_reject_mappings_and_booleans_naming_the_key(
    site: Site, state: State, key: str, value: Any
) -> None:
    assert key in reject({key: value}, site, state)


_ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
tags: [*i,*i,*i,*i,*i,*i,*i,*i,*i]
"""


def test_alias_bomb_is_rejected_quickly(site: Site, state: State) -> None:
    meta = yaml.safe_load(_ALIAS_BOMB)
    start = time.perf_counter()
    message = reject({"tags": meta["tags"]}, site, state)
    assert time.perf_counter() - start < 1.0
    assert "tags" in message


def test_deeply_nested_and_self_referencing_lists_are_rejected(site: Site, state: State) -> None:
    deep: list[Any] = ["x"]
    for _ in range(5000):
        deep = [deep]
    assert "categories" in reject({"categories": deep}, site, state)
    loop = yaml.safe_load("tags: &a [x, *a]")["tags"]
    assert "tags" in reject({"tags": loop}, site, state)


# --- summary -------------------------------------------------------------------------------------------------


def test_summary_prefers_excerpt_then_description_then_feature_text(site: Site, state: State) -> None:
    all_three = {"excerpt": "E", "description": "D", "feature_text": "F"}
    assert run(all_three, site, state)["summary"] == "E"
    assert run({"description": "D", "feature_text": "F"}, site, state)["summary"] == "D"
    assert run({"feature_text": "F"}, site, state)["summary"] == "F"
    assert run({}, site, state)["summary"] is None


def test_summary_strips_html_and_decodes_entities(site: Site, state: State) -> None:
    meta = {"excerpt": "<p>Hello <b>world</b> &amp; <a href='x'>friends</a></p><script>bad()</script>"}
    assert run(meta, site, state)["summary"] == "Hello world & friends"


def test_summary_skips_a_key_with_no_text(site: Site, state: State) -> None:
    meta = {"excerpt": "<img src='a.png'>", "description": "Plain"}
    assert run(meta, site, state)["summary"] == "Plain"


def test_summary_is_trimmed_near_300(site: Site, state: State) -> None:
    summary = run({"description": "lorem ipsum " * 200}, site, state)["summary"]
    assert summary.endswith("…")
    assert 240 <= len(summary) <= 301


def test_summary_rejects_a_list(site: Site, state: State) -> None:
    assert "excerpt" in reject({"excerpt": ["a"]}, site, state)


# --- image ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"image": "https://cdn.ex.org/a.png"}, "https://cdn.ex.org/a.png"),
        ({"image": "//cdn.ex.org/a.png"}, "https://cdn.ex.org/a.png"),
        ({"image": "/assets/a.png"}, SITE_URL + "assets/a.png"),
        ({"image": "assets/a.png"}, SITE_URL + "assets/a.png"),
        ({"image": {"path": "/p.png"}}, SITE_URL + "p.png"),
        ({"image": {"url": "https://x.org/u.png"}}, "https://x.org/u.png"),
        ({"image": {"feature": "/f.jpg"}}, SITE_URL + "f.jpg"),
        ({"image": {"thumbnail": "/t.jpg"}}, SITE_URL + "t.jpg"),
        ({"image": {"path": "", "thumbnail": "/t.jpg"}}, SITE_URL + "t.jpg"),
        ({"header": {"teaser": "/teaser.jpg", "image": "/header.jpg"}}, SITE_URL + "teaser.jpg"),
        ({"header": {"image": "/header.jpg"}}, SITE_URL + "header.jpg"),
        ({"image": "/own.jpg", "header": {"teaser": "/teaser.jpg"}}, SITE_URL + "own.jpg"),
        ({"image": None}, None),
        ({"image": ""}, None),
        ({"image": {"alt": "no path"}}, None),
        ({}, None),
    ],
)
def test_image(site: Site, state: State, meta: dict[str, Any], expected: str | None) -> None:
    assert run(meta, site, state)["image"] == expected


def test_image_path_is_percent_encoded(site: Site, state: State) -> None:
    url = run({"image": "/images/서울 야경.png"}, site, state)["image"]
    assert url.isascii() and " " not in url
    assert unquote(url) == SITE_URL + "images/서울 야경.png"


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "JavaScript:alert(1)", "data:image/png;base64,AAAA", "ftp://ex.org/a.png"]
)
def test_image_unsafe_schemes_rejected(site: Site, state: State, value: str) -> None:
    assert "image" in reject({"image": value}, site, state)


@pytest.mark.parametrize(
    ("meta", "key"),
    [
        ({"image": 42}, "image"),
        ({"image": ["a.png"]}, "image"),
        ({"image": True}, "image"),
        ({"image": {"path": ["a.png"]}}, "image"),
        ({"header": {"image": 3}}, "header.image"),
        ({"header": {"teaser": "javascript:x"}}, "header.teaser"),
    ],
)
def test_image_wrong_type_rejected(site: Site, state: State, meta: dict[str, Any], key: str) -> None:
    assert key in reject(meta, site, state)


# --- draft ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "rel", "expected"),
    [
        ({}, "news/post.md", False),
        ({"draft": True}, "news/post.md", True),
        ({"draft": False}, "news/post.md", False),
        ({"published": False}, "news/post.md", True),
        ({"published": True}, "news/post.md", False),
        ({}, "_drafts/post.md", True),
        ({}, "news/_drafts/post.md", True),
        ({}, "news/_drafts_old.md", False),
    ],
)
def test_draft(site: Site, state: State, meta: dict[str, Any], rel: str, expected: bool) -> None:
    assert run(meta, site, state, rel=rel)["draft"] is expected


@pytest.mark.parametrize(("key", "value"), [("draft", "yes"), ("draft", 1), ("published", "false"), ("draft", None)])
def test_draft_non_bool_rejected(site: Site, state: State, key: str, value: Any) -> None:
    assert key in reject({key: value}, site, state)


# --- authors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"author": "Kim Ji-young"}, ("Kim Ji-young",)),
        ({"author": {"name": "Kim", "email": "k@ex.org"}}, ("Kim",)),
        ({"author": ["Kim", {"name": "Lee"}]}, ("Kim", "Lee")),
        ({"authors": ["Kim", "Lee"]}, ("Kim", "Lee")),
        ({"authors": "Park"}, ("Park",)),
        ({"author": None, "authors": ["Kim"]}, ("Kim",)),
        ({"author": "  "}, ("Newsroom",)),
        ({}, ("Newsroom",)),
    ],
)
def test_authors(site: Site, state: State, meta: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert run(meta, site, state)["authors"] == expected


def test_authors_empty_without_site_author(tmp_path: Path, state: State) -> None:
    bare = parse_config({"site": {"url": SITE_URL}}, tmp_path)
    assert run({}, bare, state)["authors"] == ()


@pytest.mark.parametrize("value", [42, [True], {"name": ["x"]}])
def test_authors_wrong_type_rejected(site: Site, state: State, value: Any) -> None:
    assert "author" in reject({"author": value}, site, state)


# --- url -----------------------------------------------------------------------------------------------------


def _valid_percent_encoding(url: str) -> bool:
    return url.isascii() and not re.search(r"%(?![0-9A-Fa-f]{2})", url) and " " not in url


def test_url_default_permalink_is_the_path(site: Site, state: State) -> None:
    assert run({}, site, state, rel="news/hello.md")["url"] == SITE_URL + "news/hello/"
    assert run({}, site, state, rel="2024-05-14-slug.md")["url"] == SITE_URL + "2024-05-14-slug/"


def test_url_same_file_name_in_different_folders(site: Site, state: State) -> None:
    a = run({}, site, state, rel="news/hello.md")["url"]
    b = run({}, site, state, rel="tech/hello.md")["url"]
    assert a != b


def test_url_korean_file_name_is_percent_encoded(site: Site, state: State) -> None:
    url = run({}, site, state, rel="뉴스/디지털 성범죄.md")["url"]
    assert _valid_percent_encoding(url)
    assert unquote(url) == SITE_URL + "뉴스/디지털 성범죄/"


def test_url_percent_sign_in_file_name_is_encoded(site: Site, state: State) -> None:
    url = run({}, site, state, rel="news/100% done.md")["url"]
    assert _valid_percent_encoding(url)
    assert unquote(url) == SITE_URL + "news/100% done/"


@pytest.mark.parametrize(
    "permalink", ["/../../../etc/:slug/", "/a/../../../../x/", "../../x", "/%2e%2e/%2E%2E/x/", "/.%2e/x/"]
)
def test_url_permalink_cannot_climb_above_site_url(site: Site, state: State, permalink: str) -> None:
    url = run({"permalink": permalink}, site, state)["url"]
    assert url.startswith(SITE_URL)
    path = urlsplit(url).path
    assert ".." not in path.split("/")
    assert "%2e" not in path.lower()


def test_url_permalink_tokens_use_site_time_zone(site: Site, state: State) -> None:
    # 23:30 UTC on 30 June is already 1 July in Seoul.
    meta = {"date": "2024-06-30 23:30:00 +0000", "permalink": "/:year/:month/:day/:slug/"}
    assert run(meta, site, state, rel="2024-06-30-hello.md")["url"] == SITE_URL + "2024/07/01/hello/"


def test_url_slug_front_matter_is_slugified(site: Site, state: State) -> None:
    meta = {"slug": "My Great Post!", "permalink": "/posts/:slug/"}
    assert run(meta, site, state)["url"] == SITE_URL + "posts/my-great-post/"


def test_url_site_permalink_setting(tmp_path: Path, state: State) -> None:
    site = parse_config({"site": {"url": SITE_URL}, "build": {"permalink": "/:category/:slug.html"}}, tmp_path)
    meta = {"categories": ["Digital News"]}
    assert run(meta, site, state, rel="2024-01-02-x.md")["url"] == SITE_URL + "digital-news/x.html"


# --- id ------------------------------------------------------------------------------------------------------


def test_id_defaults_to_url(site: Site, state: State) -> None:
    fields = run({}, site, state, rel="news/hello.md")
    assert fields["id"] == fields["url"]


def test_id_number_becomes_tag_uri_with_site_host(site: Site, state: State) -> None:
    fields = run({"id": 42, "date": "2023-05-01T00:00:00Z"}, site, state)
    assert fields["id"] == "tag:ex.org,2023:42"


def test_id_text_becomes_tag_uri_without_spaces(site: Site, state: State) -> None:
    given = run({"id": "first post"}, site, state)["id"]
    assert given.startswith("tag:ex.org,")
    assert " " not in given


@pytest.mark.parametrize("value", ["urn:x:1", "https://old.ex.org/p/1", "tag:ex.org,2020:abc"])
def test_id_uri_is_kept(site: Site, state: State, value: str) -> None:
    assert run({"id": value}, site, state)["id"] == value


@pytest.mark.parametrize("value", ["HTTPS://old.ex.org/p/1", "URN:isbn:0451450523"])
def test_id_scheme_is_case_insensitive(site: Site, state: State, value: str) -> None:
    assert run({"id": value}, site, state)["id"] == value


@pytest.mark.parametrize(
    ("value", "scheme"),
    [("javascript:alert(1)", "javascript"), ("JavaScript:alert(document.cookie)", "javascript"),
     ("data:text/html,<script>alert(1)</script>", "data"), ("file:///etc/passwd", "file"), ("post:42", "post")],
)
def test_id_with_another_scheme_is_rejected(site: Site, state: State, value: str, scheme: str) -> None:
    assert reject({"id": value}, site, state) == (
        f"id must be an http, https, tag or urn URI (or plain text), got a {scheme}: URI"
    )


def test_id_list_rejected(site: Site, state: State) -> None:
    assert "id" in reject({"id": ["a"]}, site, state)


# --- the short ways, each against the long way it stands for -------------------------------------------------


_SITE = parse_config({"site": {"url": SITE_URL, "timezone": "Asia/Seoul"}}, Path("unused"))


def _url_path_the_long_way(filled: str) -> str:
    """How ``_url`` made a URL path of a filled permalink before its short ways (unquote, then normpath of the path
    with a slash before it, whatever it held; then quote)."""
    path = unquote(filled)
    rooted = "/" + path
    clean = posixpath.normpath(rooted) if "/." in rooted or "//" in rooted else rooted.rstrip("/") or "/"
    if path.endswith("/") and clean != "/":
        clean += "/"
    return quote(clean.lstrip("/"), safe=normalise_module._PATH_SAFE)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(["/", "//", ".", "..", "/./", "a", "b/", "%2e", "%2F", "%", "한", "é", " ", ":",
                                 ":path", ":slug", ":year"]), max_size=10).map("".join),
       st.sampled_from(["news/post.md", "건강/2019/post-1.md", "a.md"]))
def test_a_permalink_is_made_a_url_as_the_long_way_made_it(permalink: str, rel: str) -> None:
    site = _SITE
    state = State(Path("unused"))
    src = Source(rel, site, NOW, state, "f")
    fields = normalise({"title": "T"}, src)
    given_permalink = normalise_module._text({"permalink": permalink}, "permalink") or site.permalink
    parts = normalise_module._permalink_parts(given_permalink)
    filled = parts[0] + "".join(normalise_module._TOKENS[parts[i]](src, fields) + parts[i + 1]
                                for i in range(1, len(parts), 2))
    url = normalise_module._url({"permalink": permalink}, src, fields)
    assert url == site.url + _url_path_the_long_way(filled)


_SOME_KEYS = st.sampled_from(
    ["title", "date", "tags", "image", "author", "layout", "titel", "dat", "tgas", "imgae", "lang", "langs", 1, "x"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_SOME_KEYS, max_size=6), st.sampled_from([(), ("titel",), ("x", "dat")]))
def test_key_typos_short_way_is_near_misses(keys: list[Any], known: tuple[str, ...]) -> None:
    site = parse_config({"site": {"url": SITE_URL}, "build": {"known_keys": list(known)}}, Path("unused"))
    meta = dict.fromkeys(keys, "v")
    src = Source("a.md", site, NOW, State(Path("unused")), "f")
    expected = near_misses(meta, normalise_module.FEEDWRIGHT_KEYS, site.known_keys)
    assert normalise_module._key_typos(meta, src, {}) == expected


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["excerpt", "description", "feature_text"]),
                       st.one_of(st.none(), st.integers(0, 3),
                                 st.lists(st.sampled_from(["a", " ", "\n", "<b>", "</p>", "&amp;", "&", "<", "\x0b"]),
                                         max_size=12).map("".join))))
def test_summary_without_markup_is_html_to_text_of_it(meta: dict[str, Any]) -> None:
    expected = None
    for key in ("excerpt", "description", "feature_text"):
        value = normalise_module._text(meta, key)
        text = normalise_module.html_to_text(value) if value else ""
        if text:
            expected = normalise_module.truncate(text)
            break
    assert normalise_module._summary(meta, Source("a.md", _SITE, NOW, State(Path("unused")), "f"), {}) == expected


def test_source_is_the_dataclass_it_was(site: Site) -> None:
    src = Source("news/2024/post.tar.gz", site, NOW, State(Path("unused")), "f")
    assert (src.path, src.suffix, src.stem) == ("news/2024/post.tar.gz", ".gz", "post.tar")
    assert list(vars(src)) == [f.name for f in dataclass_fields(Source)]
    assert src == Source("news/2024/post.tar.gz", site, NOW, src.state, "f")
    with pytest.raises(FrozenInstanceError):
        src.rel = "x"  # type: ignore[misc]
