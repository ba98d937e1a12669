"""``state.json``'s bytes (``pipeline/history.py``): put together entry by entry, they are exactly what ``json.dumps``
of the whole state gives (compact, keys sorted, non-ASCII as is), damaged entries left out."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.pipeline.history import STATE_VERSION, Scratch, State, _common, _valid_entry


def _reference(posts: dict[str, Any]) -> bytes:
    """What the state's bytes were made with before: json.dumps over the whole state."""
    kept = {key: entry for key, entry in posts.items() if _common(entry) or _valid_entry(entry)}
    data = {"posts": kept, "version": STATE_VERSION}
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()


# Keys and values with what JSON escapes (quotes, backslashes, control characters) and what it keeps as is.
TEXT = st.text(st.sampled_from('ab/é한😀"\\\n\t\x00\x1f\x7f\u2028 '), max_size=8)
MOMENTS = st.sampled_from([
    "2024-06-26T11:30:00+09:00", "2024-06-26T11:30:00", "0001-01-01T00:00:00+14:00", "not a date", "",
])
ENTRIES = st.one_of(
    st.builds(lambda d: {"digest": d}, TEXT),
    st.dictionaries(st.sampled_from(["digest", "first_seen", "changed", "other"]), st.one_of(TEXT, MOMENTS)),
    st.dictionaries(st.sampled_from(["digest", "first_seen"]), st.one_of(st.integers(), st.none(), st.lists(TEXT))),
    st.one_of(st.none(), st.integers(), st.lists(TEXT), TEXT),  # not a mapping at all (a damaged file)
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(TEXT, ENTRIES, max_size=12))
def test_the_states_bytes_are_json_dumps_of_the_whole_state(posts: dict[str, Any]) -> None:
    assert State(Path("state.json"), posts=posts).to_bytes() == _reference(posts)


def test_a_states_bytes_load_back_as_the_same_entries() -> None:
    posts = {"b.md": {"digest": "d2"}, "a \"q\".md": {"digest": "d1", "first_seen": "2024-06-26T11:30:00+09:00"}}
    assert json.loads(State(Path("state.json"), posts=posts).to_bytes()) == {"posts": posts, "version": 1}


# --- Scratch: a worker's state, with plain attributes, answers as a State does --------------------------------

NOW = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), ENTRIES), st.sampled_from(["a" * 32, "b" * 32]), st.booleans())
def test_a_scratch_state_answers_as_a_state(entry: Any, fingerprint: str, first_seen: bool) -> None:
    def answers(state: State) -> Any:
        state.posts, state.dirty = ({"p.md": copy.deepcopy(entry)} if entry is not None else {}), False
        seen = state.first_seen("p.md", NOW) if first_seen else None
        changed = state.content_changed("p.md", fingerprint, NOW)
        return seen, changed, state.posts, state.dirty, state.to_bytes()

    scratch = Scratch(Path("unused"))
    assert answers(scratch) == answers(State(Path("unused")))
    assert {"posts", "dirty", "warnings"} <= vars(scratch).keys()  # plain attributes, not the properties
