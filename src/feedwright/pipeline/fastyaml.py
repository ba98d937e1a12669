"""A fast path for the common shape of YAML front matter, exact or declined.

Most front matter is a block mapping of one-line scalars and of short lists::

    title: "A title"                 # plain, "double" or 'single' quoted, on one line
    date: 2024-06-26 11:30:00 +0900
    categories:                       # a block sequence of such scalars (indented or not)
      - News
    tags: [a, b, "c d"]               # a one-line flow sequence of such scalars
    excerpt: >                        # a folded or literal block scalar: lines of one indentation, no blank
      One paragraph.                  # line inside, clip or strip chomping
    image:                            # a mapping one level down of such scalars (themes' image: and header:),
      path: &image /a.jpg             # which may be anchored, or aliases of a scalar anchored before in it
      feature: *image

PyYAML loads that with libyaml's parser in C, but resolves and constructs every node in Python: about a third of
parsing a post. :func:`load` reads this shape directly and types each plain scalar with **PyYAML's own implicit
resolvers and the loader's own constructors** (so ``yes``, ``1e3``, ``2024-01-02``, ``~``, ``0o17`` come out as
they always did). Anything else (comments, anchors and aliases elsewhere, tags, deeper mappings, multi-line or
escaped scalars, tabs, duplicate keys, odd indentation, characters YAML treats specially...) is declined: :func:`load`
returns None and the full loader reads the text, so errors and their messages stay the loader's.
``tests/test_fastyaml.py`` holds it to that: for every front matter of the corpora and for generated ones, the
fast path gives what the loader gives (same types, values and key order) or declines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Anything but line feeds and the characters libyaml reads as plain text: tabs, CR, C0/C1 controls, NEL and the
# Unicode line/paragraph separators (line breaks to YAML 1.1), a BOM, U+FFFE/U+FFFF.
_ODD = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_KEY = re.compile(r"[^\W\d][\w-]{0,200}")
_ITEM = re.compile(r"( *)- +(.*)")
_FLOW_ITEM = re.compile(r""" *(?:"([^"\\]*)"|'((?:[^']|'')*)'|([^,\[\]{}#:'" ][^,\[\]{}#:'"]*?)) *(,|\Z)""")
_FLOW_PLAIN = re.compile(r"""[^\[\]{}#:'"]*""")
# An anchor's or an alias's name as both PyYAML and libyaml read it.
_ANCHOR = re.compile(r"[0-9A-Za-z_-]+")
# A plain scalar starting with one of these is something else (or an error) to YAML.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_BLOCK_HEADERS = {">": (" ", "\n"), "|": ("\n", "\n"), ">-": (" ", ""), "|-": ("\n", "")}
_STR = "tag:yaml.org,2002:str"
_MEMO_SIZE = 4096
_TYPED = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null", "timestamp"))
# The only implicit resolver whose expression can match a space (the others are verbose expressions without a
# character class holding one): a plain scalar with a space in it ("2024-06-26 11:30:00 +0900") is tried
# against it alone (tests/test_fastyaml.py checks both).
_SPACED_TAGS = frozenset({"tag:yaml.org,2002:timestamp"})
# How a remembered line goes on (_mapping): its scalar as it is, its flow sequence's items as a new list, or the
# lines below it read again (a block sequence or mapping; a block scalar of the header's kind).
_LIST, _BELOW = "list", "below"


class _Declined(Exception):
    """The text is not of the shape this module reads: the full loader reads it."""


class Reader:
    """The fast path bound to one loader class: its implicit resolvers and its constructors."""

    def __init__(self, loader: type) -> None:
        import yaml

        self._node = yaml.ScalarNode
        resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = loader.yaml_implicit_resolvers  # type: ignore[attr-defined]
        wildcard = resolvers.get(None, [])
        self._resolvers = {first: list(rows) + wildcard for first, rows in resolvers.items() if first is not None}
        self._wildcard = wildcard
        self._spaced = {
            first: [row for row in rows if row[0] in _SPACED_TAGS] for first, rows in self._resolvers.items()
        }
        self._spaced_wildcard = [row for row in wildcard if row[0] in _SPACED_TAGS]
        self._constructors: dict[str, Callable[..., Any]] = loader.yaml_constructors  # type: ignore[attr-defined]
        self._constructor = yaml.constructor.SafeConstructor()
        self._keys: dict[str, bool] = {}  # key text -> whether it is a plain key resolving to a string
        # Lines seen before, as what they gave: many recur from post to post ("author: Jane", "  - News").
        # "key: scalar" -> (key, value, None); "key: [a, b]" -> (key, (a, b), _LIST); "key:" -> (key, None,
        # _BELOW); "key: >" -> (key, ">", ">")
        self._entries: dict[str, tuple[str, Any, str | None]] = {}
        self._items: dict[str, tuple[str, Any]] = {}  # "  - scalar" -> (indentation, value)
        self._tags: dict[str, str] = {}  # a plain scalar's text -> the tag it resolves to
        self._anchors: dict[str, Any] = {}  # the anchored scalars of the front matter being read

    def load(self, fm: str, printable: bool = False) -> dict[str, Any] | None:
        """The mapping ``fm`` holds, or None if it is not of the common shape (then the full loader reads it).

        ``printable``: the caller found ``fm`` printable but for its line feeds (then it is not looked at again).
        """
        # Every character _ODD finds is unprintable: isprintable (in C) vouches for most front matter at once.
        if not printable and not fm.replace("\n", "").isprintable() and _ODD.search(fm):
            return None
        self._anchors = {}
        try:
            return self._mapping(fm.split("\n"))
        except _Declined:
            return None

    def _mapping(self, lines: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        entries, keys = self._entries, self._keys
        i, end = 0, len(lines)
        while i < end:
            line = lines[i]
            i += 1
            seen = entries.get(line)
            if seen is not None:
                key, value, how = seen
                if key in out:
                    raise _Declined
                if how is None:
                    out[key] = value
                elif how is _LIST:
                    out[key] = list(value)
                elif how is _BELOW:
                    out[key], i = self._below(lines, i)
                else:
                    out[key], i = _block_scalar(lines, i, *_BLOCK_HEADERS[how])
                continue
            if not line or line.isspace():
                continue
            key, colon, rest = line.partition(":")
            if not colon or key in out or not (keys.get(key) or self._is_key(key)) or (rest and rest[0] != " "):
                raise _Declined
            rest = rest.strip(" ")
            if not rest:
                out[key], i = self._below(lines, i)
                _remember(entries, line, (key, None, _BELOW))
            elif rest[0] in ">|" and rest in _BLOCK_HEADERS:
                out[key], i = _block_scalar(lines, i, *_BLOCK_HEADERS[rest])
                _remember(entries, line, (key, rest, rest))
            elif rest[0] == "[":
                out[key] = items = self._flow(rest)
                _remember(entries, line, (key, tuple(items), _LIST))  # a tuple of scalars: safe to share
            else:
                out[key] = value = self._scalar(rest)
                _remember(entries, line, (key, value, None))  # a scalar: immutable, safe to share
        if not out:
            raise _Declined
        return out

    def _is_key(self, key: str) -> bool:
        """Whether ``key`` is a plain key (a letter first, no space) that resolves to a string."""
        known = self._keys.get(key)
        if known is None:
            known = self._keys[key] = _KEY.fullmatch(key) is not None and self._resolve(key) == _STR
        return known

    def _below(self, lines: list[str], i: int) -> tuple[Any, int]:
        """The value of a key with nothing after its colon: a block sequence or mapping below it, or null."""
        end = len(lines)
        while i < end and (not lines[i] or lines[i].isspace()):
            i += 1
        if i == end or lines[i][0] not in " -":
            return self._plain(""), i
        if lines[i].lstrip(" ")[0] != "-":
            return self._nested(lines, i)
        indent = None
        items = []
        while i < end:
            line = lines[i]
            if not line or line.isspace():
                i += 1
                continue
            if line[0] != " " and line[0] != "-":
                break  # the next key
            seen = self._items.get(line) or self._item(line)
            if indent is None:
                indent = seen[0]
            elif seen[0] != indent:
                raise _Declined
            items.append(seen[1])
            i += 1
        return items, i

    def _nested(self, lines: list[str], i: int) -> tuple[dict[str, Any], int]:
        """A block mapping one level down (``image:`` then ``  path: a.jpg``): keys and one-line scalars at one
        indentation. Its scalars may be anchored (``&name``) or be aliases of one anchored before (``*name``), as
        themes' front matter often has them; what is deeper, or indented otherwise, the loader reads."""
        out: dict[str, Any] = {}
        end = len(lines)
        indent = -1
        while i < end:
            line = lines[i]
            if not line or line.isspace():
                i += 1
                continue
            if line[0] != " ":
                break  # the next key
            entry = line.lstrip(" ")
            if indent < 0:
                indent = len(line) - len(entry)
            elif len(line) - len(entry) != indent:
                raise _Declined
            key, colon, rest = entry.partition(":")
            if not colon or key in out or not self._is_key(key) or (rest and rest[0] != " "):
                raise _Declined
            rest = rest.strip(" ")
            if not rest or rest in _BLOCK_HEADERS or rest[0] == "[":
                raise _Declined  # something below it, a block scalar, a flow sequence: the loader's
            out[key] = self._nested_value(rest)
            i += 1
        return out, i

    def _nested_value(self, text: str) -> Any:
        """A one-line scalar in a nested mapping: as :meth:`_scalar`, or anchored, or an alias."""
        if text[0] == "&":
            name, space, text = text[1:].partition(" ")
            text = text.lstrip(" ")
            if not space or not text or not _ANCHOR.fullmatch(name) or name in self._anchors:
                raise _Declined  # an anchor on nothing, an odd name, the same name twice
            value = self._anchors[name] = self._scalar(text)
            return value
        if text[0] == "*":
            name = text[1:]
            if not _ANCHOR.fullmatch(name) or name not in self._anchors:
                raise _Declined
            return self._anchors[name]
        return self._scalar(text)

    def _item(self, line: str) -> tuple[str, Any]:
        m = _ITEM.fullmatch(line)
        if m is None:
            raise _Declined
        item = m.group(2).rstrip(" ")
        if not item:
            raise _Declined
        seen = m.group(1), self._scalar(item)
        _remember(self._items, line, seen)
        return seen

    def _flow(self, text: str) -> list[Any]:
        if text[-1] != "]":
            raise _Declined
        inner = text[1:-1]
        items: list[Any] = []
        if not inner.strip(" "):
            return items
        if _FLOW_PLAIN.fullmatch(inner):
            # Nothing but plain items (no quote, bracket, brace, '#' or ':'): what _FLOW_ITEM would find between
            # the commas, without a regular expression per item.
            tags = self._tags
            for piece in inner.split(","):
                item = piece.strip(" ")
                if not item or item[0] in _INDICATORS:  # "a,,b", a trailing comma, "[-a]": the loader's to read
                    raise _Declined
                items.append(item if tags.get(item) == _STR else self._plain(item))  # a word seen before: as it is
            return items
        pos, end = 0, len(inner)
        while pos < end:
            m = _FLOW_ITEM.match(inner, pos)
            if m is None:
                raise _Declined
            double, single, plain, comma = m.groups()
            if comma and m.end() == end:  # a trailing comma
                raise _Declined
            if plain is not None:
                if plain[0] in _INDICATORS:
                    raise _Declined
                items.append(self._plain(plain))
            else:
                items.append(double if double is not None else single.replace("''", "'"))
            pos = m.end()
        return items

    def _scalar(self, text: str) -> Any:
        """A one-line scalar in block context (trailing spaces already cut)."""
        first = text[0]
        # Quoted: a closing quote at the end and none inside, no escape (doubled single quotes), found by str
        # methods: a regular expression steps through a long title character by character (tests/test_fastyaml.py).
        if first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
                raise _Declined
            return inner
        if first == "'":
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
                raise _Declined
            return inner.replace("''", "'")
        if first in _INDICATORS or first == " " or ": " in text or " #" in text or text[-1] == ":":
            raise _Declined
        return self._plain(text)

    def _resolve(self, text: str) -> str:
        if " " in text:
            # Ending in a UTC offset without its colon ("2024-06-26 11:30:00 +0900"): not a timestamp, which ends in
            # seconds, a fraction or an offset of at most two digits before any colon.
            if text[-5:-4] in ("+", "-") and text[-4:].isdigit() and text[-4:].isascii():
                return _STR
            rows = self._spaced.get(text[0], self._spaced_wildcard)
        else:
            rows = self._resolvers.get(text[0] if text else "", self._wildcard)
        for tag, regexp in rows:
            if regexp.match(text):
                return tag
        return _STR

    def _plain(self, text: str) -> Any:
        """A plain scalar, typed as PyYAML types it: its implicit resolvers, then the loader's constructor."""
        tag = self._tags.get(text)
        if tag is None:  # words recur from post to post (tags, categories): each is resolved once
            tag = self._resolve(text)
            if " " not in text:  # text with a space (a date, a phrase) seldom recurs: not worth remembering
                _remember(self._tags, text, tag)
        if tag == _STR:
            return text
        if tag not in _TYPED:  # '<<' (merge), '=' (value)
            raise _Declined
        try:
            return self._constructors[tag](self._constructor, self._node(tag, text))
        except Exception:  # noqa: BLE001 - the full loader reports it in its own words
            raise _Declined from None


def _remember(memo: dict[str, Any], line: str, seen: Any) -> None:
    if len(memo) >= _MEMO_SIZE:  # bounded: most lines that recur are met early
        memo.clear()
    memo[line] = seen


def _block_scalar(lines: list[str], i: int, joint: str, chomp: str) -> tuple[str, int]:
    """A folded (``>``) or literal (``|``) scalar whose lines share one indentation and hold no blank line."""
    end = len(lines)
    if i == end or not lines[i].startswith(" "):
        raise _Declined
    first = lines[i]
    width = len(first) - len(first.lstrip(" "))
    indent = " " * width
    content = []
    while i < end:
        line = lines[i]
        if not line or line[0] != " ":
            break
        # Less or more indented, only spaces, trailing spaces: each folds or ends the scalar in its own way.
        if len(line) <= width or not line.startswith(indent) or line[width] == " " or line[-1] == " ":
            raise _Declined
        content.append(line[width:])
        i += 1
    if i == end:  # the text ends without a line break: there is none to keep
        chomp = ""
    j = i
    while j < end and not lines[j]:
        j += 1
    if j < end and lines[j][0] == " ":  # a blank line inside: paragraphs fold differently
        raise _Declined
    return joint.join(content) + chomp, i
