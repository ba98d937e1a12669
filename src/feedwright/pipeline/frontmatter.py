"""Front matter: split a post's text into its front matter (YAML between ``---``, or TOML between ``+++``,
as Jekyll and Hugo write them) and its body, and load the front matter into a mapping.

Text that does not open with front matter is not a post; front matter that does not load rejects the post.
"""

from __future__ import annotations

import contextlib
import functools
import re
import tomllib
from typing import Any

from .fastyaml import Reader
from .normalise import Reject
from .text import xml_safe

BOM = b"\xef\xbb\xbf"
_OPENINGS = (b"---", b"+++", BOM + b"---", BOM + b"+++")
_STR_TAG = "tag:yaml.org,2002:str"
_C0_ILLEGAL = bytes(c for c in range(32) if c not in b"\t\n\r")
# What decode() changes in decoded text: a carriage return, and what XML forbids (xml_safe; decoded UTF-8 holds
# no lone surrogate).
_UNCLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")


@functools.cache
def loader() -> type:
    """The YAML loader front matter is read with (PyYAML, imported when the first file is parsed: a warm build
    that parses nothing does not pay for it)."""
    import yaml

    class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """The safe loader (no tag constructs an object), except that a timestamp YAML cannot build stays
        text.

        ``date: 2024-13-45`` then reaches the date normaliser, which rejects it naming the key, instead of
        failing the whole front matter with PyYAML's "month must be in 1..12".
        """

        def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
            # What a plain scalar resolves to is a function of its text alone (the safe loader has no path
            # resolvers), and most recur from post to post (keys, names): each is resolved once, not by trying
            # the implicit resolvers' regular expressions again (a tenth of loading a front matter).
            if kind is yaml.ScalarNode and implicit[0]:
                tag = resolved.get(value)
                if tag is None:
                    if len(resolved) >= 4096:  # bounded: most that recur are met early
                        resolved.clear()
                    tag = resolved[value] = super().resolve(kind, value, implicit)
                return tag
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            # Most front-matter values are plain strings, and constructing one is only ``node.value``: skip the
            # generic path (cache, recursion guard, constructor look-up; a fifth of loading a front matter).
            if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
                return node.value
            return super().construct_object(node, deep)

    def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
        if isinstance(node, yaml.ScalarNode):
            with contextlib.suppress(ValueError, OverflowError, AttributeError, TypeError):
                return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
        return loader.construct_scalar(node)  # type: ignore[arg-type]  # a non-scalar raises the usual error

    resolved: dict[str, str] = {}
    assert not _SafeLoader.yaml_path_resolvers  # else a scalar's tag would depend on where it is
    _SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
    return _SafeLoader


@functools.cache
def reader() -> Reader:
    """The fast path for the common shape of YAML front matter (fastyaml.py), bound to :func:`loader`."""
    return Reader(loader())


@functools.cache
def _handlers() -> tuple[tuple[Any, ...], tuple[type[Exception], ...]]:
    """The front-matter handlers, and the errors loading one may raise.

    PyYAML and python-frontmatter are imported here, when the first file is parsed.
    """
    import yaml
    from frontmatter.default_handlers import BaseHandler, YAMLHandler

    class TOMLHandler(BaseHandler):
        """``+++`` TOML front matter, read with the standard library's ``tomllib``."""

        # python-frontmatter ships one only when the third-party toml package is installed.
        FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
        START_DELIMITER = END_DELIMITER = "+++"

        def load(self, fm: str) -> dict[str, Any]:
            return tomllib.loads(fm)

    fast = reader()

    class JekyllYAMLHandler(YAMLHandler):
        """``---`` YAML front matter, closed by ``---`` or by YAML's document end marker ``...`` as Jekyll
        allows."""

        FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.{3})\s*$", re.MULTILINE)

        def detect(self, text: str) -> bool:
            return text.startswith("---") and super().detect(text)

        def load(self, fm: str, **kwargs: Any) -> Any:
            if not kwargs:  # the common shape of front matter, without PyYAML's Python half (fastyaml.py)
                meta = fast.load(fm)
                if meta is not None:
                    return meta
            kwargs.setdefault("Loader", loader())
            return super().load(fm, **kwargs)

    # PyYAML's constructors let some errors out unwrapped (ValueError, TypeError, AttributeError).
    errors = (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, TypeError, AttributeError)
    return (JekyllYAMLHandler(), TOMLHandler()), errors


def has_front_matter(head: bytes) -> bool:
    """Whether bytes (a file's first eight, or more) open with front matter, after a byte order mark if any."""
    return head.startswith(_OPENINGS)


def split(text: str) -> tuple[dict[str, Any], str] | None:
    """Front matter and body of a post's text; None if the text does not open with front matter."""
    for handler in _handlers()[0]:
        if handler.detect(text):
            try:
                fm, body = handler.split(text)
            except ValueError:
                raise Reject("front matter is not closed") from None
            return _load(handler, fm), body
    return None


def _load(handler: Any, fm: str, **kwargs: Any) -> dict[str, Any]:
    try:
        meta = handler.load(fm, **kwargs)
    # tomllib recurses ("a = [[[[..."). Any failure to load one post's front matter rejects that post.
    except _handlers()[1] as exc:
        reason = " ".join(str(exc).split())
        raise Reject(f"front matter is not valid: {reason}") from None
    except RecursionError:
        raise Reject("front matter is not valid: nested too deeply") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise Reject("front matter must be a mapping of keys to values")
    return meta


def front_matter(data: bytes) -> dict[str, Any] | None:
    """``split(decode(data))``'s front matter, for a reader that does not keep the body: what :func:`decode`
    would clean (carriage returns, characters XML forbids) is looked for only up to the end of the front matter.

    When the text up to the closing ``---`` line holds none of it, cleaning could not have changed where the front
    matter begins or ends nor what it holds; otherwise (and for TOML, or front matter that is not closed) the text
    goes the whole way, so every verdict and message is :func:`split`'s. Raises :class:`Reject` as they do.
    """
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        text = ""  # decode() below says why
    yaml_handler = _handlers()[0][0]
    boundary = yaml_handler.FM_BOUNDARY
    # The handler's split (re.split(text, 2)) without copying the body: its first two boundaries.
    opening = boundary.match(text) if text.startswith("---") else None
    closing = _closing(boundary, text, opening.end()) if opening else None
    if closing:
        head = text[: closing.end()]
        printable = head.replace("\n", "").isprintable()  # vouches for most text at once, in C
        if printable or not _UNCLEAN.search(head):
            fm = text[opening.end() : closing.start()]  # type: ignore[union-attr]
            # The handler's load without its layers, and the fast path told what was just checked.
            meta = reader().load(fm, printable)
            # Declined: the full loader, without the handler trying the fast path a second time.
            return meta if meta is not None else _load(yaml_handler, fm, Loader=loader())
    parts = split(decode(data))
    return parts[0] if parts is not None else None


def _closing(boundary: re.Pattern[str], text: str, pos: int) -> re.Match[str] | None:
    """``boundary.search(text, pos)``, looking only at the lines that open with ``---`` or ``...`` (a line starts
    after a line feed: ``pos`` is not one, it is the end of the opening line): found by ``str.find``, not by the
    regular expression tried at every character of the front matter."""
    while True:
        dashes = text.find("\n---", pos)
        dots = text.find("\n...", pos, dashes if dashes >= 0 else len(text))
        line = dots if dots >= 0 else dashes
        if line < 0:
            return None
        found = boundary.match(text, line + 1)
        if found:
            return found
        pos = line + 1


def body_of(text: str) -> str:
    """The body of a post's text whose front matter was loaded before: split off, not loaded again."""
    for handler in _handlers()[0]:
        if handler.detect(text):
            try:
                return handler.split(text)[1]  # type: ignore[no-any-return]
            except ValueError:
                break
    raise Reject("no longer has front matter")


def _legacy_encoding(data: bytes) -> str | None:
    """The likely encoding of text that is not UTF-8, only to name it in the rejection: never used to decode.

    Korean newsrooms' older files are CP949/EUC-KR; Western ones Latin-1 or its Windows superset.
    """
    if b"\0" in data:
        return None
    try:
        text = data.decode("cp949")
        if sum("\uac00" <= ch <= "\ud7a3" for ch in text) >= sum(ord(ch) > 0x7F for ch in text) / 2:
            return "CP949/EUC-KR"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "Latin-1/Windows-1252"


def decode(data: bytes) -> str:
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = _legacy_encoding(data)
        looks = f"; it looks like {guess}" if guess else ""
        raise Reject(f"not UTF-8 text (bad byte at offset {exc.start}{looks}); save the file as UTF-8") from None
    if b"\r" in data:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Decoded UTF-8 holds no lone surrogate: what XML forbids can only come from a C0 control byte or from
    # U+FFFE/U+FFFF (EF BF BE/BF). Looking for those bytes is three times faster than xml_safe on the text.
    if len(data.translate(None, _C0_ILLEGAL)) == len(data) and b"\xef\xbf" not in data:
        return text
    return xml_safe(text)
