"""Jekyll's ``Utils.slugify`` (lib/jekyll/utils.rb), character for character, and ``Utils.titleize_slug``."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MODES = ("raw", "default", "pretty", "ascii", "latin")
# The characters "pretty" keeps besides letters, marks and decimal digits: readable, unescaped, in a URL.
_PRETTY_KEPT = frozenset("._~!$&'()+,;=@")
_ASCII_KEPT = re.compile(r"[A-Za-z0-9]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")  # Ruby's \s: ASCII whitespace only


@lru_cache(maxsize=4096)
def _word_char(ch: str) -> bool:
    # Ruby's [\p{M}\p{L}\p{Nd}]: any mark, any letter, a decimal digit.
    category = unicodedata.category(ch)
    return category[0] in "ML" or category == "Nd"


def _hyphenate(text: str, keep: object) -> str:
    out: list[str] = []
    for ch in text:
        if keep(ch):  # type: ignore[operator]
            out.append(ch)
        elif not out or out[-1] != "\0":
            out.append("\0")  # a run of replaced characters becomes one hyphen
    return "".join(out).replace("\0", "-")


def _latin(text: str) -> str:
    # I18n.transliterate: accents dropped from Latin letters, anything else it cannot map becomes "?".
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if ord(ch) < 128 else "?" for ch in plain)


def slugify(text: str | None, mode: str | None = None, cased: bool = False) -> str | None:
    """``Jekyll::Utils.slugify(string, mode:, cased:)``: None stays None; an unknown mode only lower-cases."""
    if text is None:
        return None
    mode = mode or "default"
    if mode not in MODES:
        return text if cased else text.lower()
    if mode == "latin":
        text = _latin(text)
    if mode == "raw":
        slug = _SPACES.sub("-", text)
    elif mode == "pretty":
        slug = _hyphenate(text, lambda ch: ch in _PRETTY_KEPT or _word_char(ch))
    elif mode == "ascii":
        slug = _hyphenate(text, lambda ch: bool(_ASCII_KEPT.match(ch)))
    else:
        slug = _hyphenate(text, _word_char)
    # gsub(/^-|-$/) anchors at every line; a slug holds a newline only in raw mode.
    slug = re.sub(r"^-|-$", "", slug, flags=re.MULTILINE)
    return slug if cased else slug.lower()


def titleize_slug(slug: str) -> str:
    """``Utils.titleize_slug``: ``"my-first-post"`` -> ``"My First Post"`` (Ruby's split drops trailing empties)."""
    words = slug.split("-")
    while words and words[-1] == "":
        words.pop()
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)
