"""``jekyll/posts.py``'s normalisers against the long way where they take a short one."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.errors import Reject
from feedwright.jekyll import posts
from feedwright.pipeline import normalise as base


def _names_the_long_way(items: list[Any], key: str) -> tuple[str, ...]:
    """``posts._names`` without its short way for lists of strings: every item flattened and checked."""
    names: list[str] = []
    for item in base._flatten(items, key):
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float | date):
            raise Reject(f"{key} entries must be text, got {base._kind(item)}")
        name = base.squash(str(item))
        if name and name not in names:
            names.append(name)
    return tuple(names)


_ITEMS = st.one_of(
    st.sampled_from(["News", "news", " News ", "a  b", "", " ", "\xa0", "한국", "1", "C++"]), st.none(),
    st.integers(0, 2), st.booleans(), st.just({"a": 1}), st.just(date(2024, 1, 2)), st.floats(allow_nan=False),
)
_LISTS = st.one_of(
    st.lists(_ITEMS, max_size=6),
    st.lists(st.one_of(_ITEMS, st.lists(_ITEMS, max_size=3)), max_size=4),
    st.lists(st.sampled_from(["x", "y"]), min_size=198, max_size=201),
)


@settings(max_examples=1000, deadline=None)
@given(_LISTS)
def test_names_are_read_as_the_long_way_reads_them(items: list[Any]) -> None:
    def verdict(names: Any) -> Any:
        try:
            return names(items, "categories")
        except Reject as exc:
            return str(exc)

    assert verdict(posts._names) == verdict(_names_the_long_way)
