"""``state.json``'s bytes kept entry by entry, so that ``daemon --watch`` re-encodes only the entries of the files
it read: ``json.dumps`` of 100,000 entries takes ~0.25 s, an edit's one entry microseconds.

The bytes are those of :meth:`feedwright.pipeline.history.State.to_bytes` (compact JSON, keys sorted, damaged
entries left out); ``tests/test_watch.py`` compares them.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable

from ..pipeline.history import STATE_VERSION, State, _common, _valid_entry


def _encoded(key: str, entry: object) -> str | None:
    if not _common(entry) and not _valid_entry(entry):
        return None  # damaged, as loaded: dropped, never written back
    return (json.dumps(key, ensure_ascii=False) + ":"
            + json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=True))


class StateBytes:
    """The encoded entries of one :class:`State`, in key order."""

    def __init__(self, state: State) -> None:
        self._parts: dict[str, str] = {}
        self._keys: list[str] = []
        self._parts = {key: part for key, entry in state.posts.items() if (part := _encoded(key, entry)) is not None}
        self._keys = sorted(self._parts)

    def update(self, state: State, keys: Iterable[str]) -> None:
        """Encode again the entries of ``keys`` (the files read since)."""
        for key in keys:
            part = _encoded(key, state.posts[key]) if key in state.posts else None
            known = key in self._parts
            if part is None:
                if known:
                    del self._parts[key]
                    self._keys.pop(bisect.bisect_left(self._keys, key))
                continue
            self._parts[key] = part
            if not known:
                bisect.insort(self._keys, key)

    def to_bytes(self) -> bytes:
        parts = self._parts
        body = ",".join([parts[key] for key in self._keys])
        return ('{"posts":{' + body + '},"version":' + json.dumps(STATE_VERSION) + "}\n").encode()
