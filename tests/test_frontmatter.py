"""``frontmatter.front_matter`` (the collector's reader: the body is not kept, so only the front matter is decoded
and cleaned) against ``split(decode(data))`` (what the whole text gives): same mapping, or the same rejection."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import REPO
from feedwright.errors import Reject
from feedwright.pipeline.frontmatter import BOM, decode, front_matter, has_front_matter, split

CORPORA = Path("/work/shared/corpora")


def _whole(data: bytes) -> object:
    try:
        parts = split(decode(data))
    except Reject as exc:
        return ("reject", str(exc))
    return parts[0] if parts is not None else None


def _front(data: bytes) -> object:
    try:
        return front_matter(data)
    except Reject as exc:
        return ("reject", str(exc))


def _same(a: object, b: object, seen: set[tuple[int, int]] | None = None) -> bool:
    """``a == b`` (types too) for values whose lists may be shared exponentially (YAML alias bombs among the
    hostile fixtures): each pair of containers is compared once."""
    seen = set() if seen is None else seen
    if type(a) is not type(b):
        return False
    if isinstance(a, list | dict):
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
        if isinstance(a, dict):
            assert isinstance(b, dict)
            return list(a) == list(b) and all(_same(a[k], b[k], seen) for k in a)
        assert isinstance(b, list)
        return len(a) == len(b) and all(_same(x, y, seen) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN: the same value when both are NaN


def test_every_file_of_the_fixtures_and_corpora_gives_the_same_front_matter() -> None:
    roots = [REPO / "tests", CORPORA]
    paths = [p for root in roots if root.is_dir() for p in sorted(root.rglob("*")) if p.is_file()]
    paths = [p for p in paths if p.stat().st_size < 1_000_000]
    assert len(paths) > 300
    for path in paths:
        data = path.read_bytes()
        assert _same(_front(data), _whole(data)), path


PIECES = st.sampled_from([
    "---", "---\n", "--- \n", "---\x0b\n", "--\x01-\n", "-\x00--\n", "...\n", "+++\n", "\n", "\r\n", "\r", "\x0c",
    "\x1f", "\ufffe", "\ufeff", "title: A\n", "title: \"B\x07\"\n", "date: 2024-01-02\n", "tags: [a, b]\n",
    "k:\n  - x\n", "a: 1\r\n", "body text\n", "x = 1\n", "é", "한", "\x85", "\u2028", " ", "\t", "#", ":",
    "----\n", "....\n", "...x\n", "--- x\n", "..", "-", ".", "\n---", "\n...",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join), st.sampled_from([b"", b"\xef\xbb\xbf"]),
       st.sampled_from([b"", b"\xff", b"\xc3"]))
@example("---\ntitle: A\n--\x01-\nbody\n", b"", b"")
@example("---\ntitle: A\n---\n\x0c\nbody\n", b"", b"")
@example("---\x01\ntitle: A\n---\n", b"", b"")
@example("---\ntitle: A\r\n---\n", b"", b"")
def test_front_matter_is_what_the_whole_text_gives(text: str, bom: bytes, tail: bytes) -> None:
    data = bom + text.encode("utf-8", "surrogatepass") + tail
    assert _same(_front(data), _whole(data))


@pytest.mark.parametrize("data", [
    b"---\ntitle: A\n---\nbody \x01 with \r\n a control and CRs\xef\xbf\xbe\n",
    b"---\ntitle: A\n---\n" + "본문".encode() * 1000,
])
def test_what_only_the_body_holds_does_not_change_the_front_matter(data: bytes) -> None:
    assert front_matter(data) == {"title": "A"} == _whole(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\xef\xbb\xbf", b"-", b"--", b"+", b".", b"a", b"\n", b"\xef"]), max_size=6)
       .map(b"".join))
def test_has_front_matter_is_the_opening_after_a_byte_order_mark(head: bytes) -> None:
    expected = head[:8].removeprefix(BOM).startswith((b"---", b"+++"))  # what it read before: the first eight bytes
    assert has_front_matter(head) == has_front_matter(head[:8]) == expected
