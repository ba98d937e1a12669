"""The site's memory between builds: when each post was first seen and when its content last changed.

This is history, not cache: deleting it would move the dates of posts that have no date of their own. It lives
in ``.feedwright/state.json`` in the site folder, never in ``output/``.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

STATE_VERSION = 1
_quoted = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it (C)


def digest(data: bytes) -> str:
    """Content fingerprint of a post file."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def bytes_digest(data: bytes) -> str:
    """What says "the same state file" (SHA-256 has CPU instructions: a few milliseconds for 100,000 posts)."""
    return hashlib.sha256(data).hexdigest()


def _valid_entry(entry: object) -> bool:
    if type(entry) is not dict:  # what json.loads makes: exact types
        return False
    try:
        for key, value in entry.items():
            if type(value) is not str:
                return False
            if key == "first_seen" or key == "changed":
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    return False
                moment.astimezone(UTC)  # raises for 0001-01-01T00:00+14:00, which has no UTC time
    except (ValueError, OverflowError):
        return False
    return True


def _common(entry: object) -> bool:
    # Most entries: a post dated by its front matter, unchanged since first seen.
    return type(entry) is dict and len(entry) == 1 and type(entry.get("digest")) is str


def _dumps(posts: dict[str, dict[str, str]]) -> bytes:
    """The state as compact JSON, keys sorted, damaged entries left out: the bytes of ``json.dumps(..., sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)``, put together entry by entry.

    Most entries are ``{"digest": ...}``: written from their two strings, each quoted by the C function json.dumps
    quotes strings with, in half the time of json.dumps over the whole state (0.17 s for 100,000 posts); any other
    entry is checked and given to json.dumps. ``tests/test_history.py`` compares the two.
    """
    # Each entry encoded as it is made: one path in Hangul made the whole text two bytes a character, and the text
    # and its copies stood beside the bytes (by their sizes ~50 MB at 100,000 posts, against ~26 MB, while the
    # workers render: the build's tree peaked at 344 MB, 321 MB after; 0.127 -> 0.073 s of CPU).
    parts: list[bytes] = []
    add = parts.append
    for key in sorted(posts):
        entry = posts[key]
        if type(entry) is dict and len(entry) == 1 and type(digest := entry.get("digest")) is str:  # _common
            add(f'{_quoted(key)}:{{"digest":{_quoted(digest)}}}'.encode())
        elif _valid_entry(entry):  # a damaged one, as loaded from a damaged file: dropped, never written back
            add((_quoted(key) + ":" + json.dumps(entry, ensure_ascii=False, separators=(",", ":"),
                                                 sort_keys=True)).encode())
    tail = '},"version":' + json.dumps(STATE_VERSION) + "}\n"
    return b"".join([b'{"posts":{', b",".join(parts), tail.encode()])


@dataclass
class State:
    """First-seen and content-changed moments per post, keyed by the post's content-relative path."""

    path: Path
    posts: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dirty: bool = False
    digest: str | None = field(default=None, compare=False)  # bytes_digest() of the file as loaded
    # The file's bytes, parsed when posts, warnings or dirty are first asked for: a warm build whose cache knows
    # these very bytes (incremental/warm.py) never parses them (0.1 s for 100,000 posts).
    _raw: bytes | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path) -> State:
        """Read the state file; a missing one is empty, a corrupt or foreign one is set aside with a warning."""
        state = cls(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return state
        except OSError as exc:
            state.warnings.append(f"{path}: cannot read state ({exc.strerror}); starting afresh")
            return state
        state.digest, state._raw = bytes_digest(raw), raw
        return state

    def _parse(self) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        path, fields = self.path, self.__dict__
        try:
            data = json.loads(raw)
            if data.get("version") != STATE_VERSION or not isinstance(data.get("posts"), dict):
                raise ValueError(f"unknown state version {data.get('version')!r}")
            posts = data["posts"]  # entries are checked when used (entry()) and when written: not 100,000 now
        except (ValueError, AttributeError, RecursionError) as exc:  # RecursionError: "[[[[..." nested deep
            fields["warnings"].append(f"{path}: state file unreadable ({exc}); rebuilding it")
            fields["dirty"] = True
            return
        fields["posts"] = posts

    def entry(self, key: str) -> dict[str, str] | None:
        """The entry of ``key``; None if there is none or it is damaged (an impossible date, not a mapping)."""
        entry = self.posts.get(key)
        return entry if entry is not None and _valid_entry(entry) else None

    def _entry(self, key: str) -> dict[str, str]:
        entry = self.entry(key)
        if entry is None:
            entry = self.posts[key] = {}
        return entry

    def first_seen(self, key: str, now: datetime) -> datetime:
        """When this post was first seen; ``now`` the first time it is asked for."""
        entry = self._entry(key)
        if "first_seen" not in entry:
            entry["first_seen"] = now.replace(microsecond=0).isoformat()
            self.dirty = True
        return datetime.fromisoformat(entry["first_seen"])

    def content_changed(self, key: str, fingerprint: str, now: datetime) -> datetime | None:
        """The build at which this post's bytes last changed, or None if unchanged since first seen."""
        entry = self._entry(key)
        old = entry.get("digest")
        if old != fingerprint:
            entry["digest"] = fingerprint
            # A post seen for the first time has no known change: its own dates speak for it.
            if old is not None:
                entry["changed"] = now.replace(microsecond=0).isoformat()
            self.dirty = True
        changed = entry.get("changed")
        return datetime.fromisoformat(changed) if changed else None

    def to_bytes(self) -> bytes:
        """Serialised state, stable for the same content; damaged entries are left out."""
        return _dumps(self.posts)


def _parsed(name: str) -> property:
    """The field ``name`` of a :class:`State`, its file parsed first if it has not been yet (not for ``dirty``: a
    file nobody has looked into is as it was read; a damaged one is rewritten by the build that parses it)."""

    def get(self: State) -> object:
        if name != "dirty" and self._raw is not None:  # asked for several times per post read
            self._parse()
        return self.__dict__[name]

    def put(self: State, value: object) -> None:
        self.__dict__[name] = value

    return property(get, put)


for _name in ("posts", "warnings", "dirty"):
    setattr(State, _name, _parsed(_name))


class Scratch(State):
    """A state never read from a file: the one a worker reads a run of posts against, holding one entry at a time
    (``collect.read_many``). ``posts``, ``warnings`` and ``dirty`` are plain attributes, not the properties that
    parse a loaded file first: reading a post asks for them several times."""

    if not TYPE_CHECKING:  # the fields keep State's types
        # Plain class attributes shadow the properties, so State.__init__ sets them on the instance itself.
        posts = warnings = dirty = None
