"""kramdown's typographic symbols and smart quotes, in one pass over the text of the parsed document.

Python-Markdown's ``smarty`` does the same job with a second inline-pattern pass over the whole tree, which
doubles the cost of rendering a post; this treeprocessor runs a few regular expressions over text nodes instead.
It runs after inline parsing and before escapes are restored, so a backslash-escaped ``\\'`` stays straight.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

_VERBATIM = {"pre", "code", "kbd", "samp", "script", "style", "math"}
_SYMBOLS = re.compile(r"---|--|\.\.\.|\. \. \.|<< | >>|<<|>>")
_SYMBOL = {
    "---": "\u2014", "--": "\u2013", "...": "\u2026", ". . .": "\u2026",
    "<< ": "\u00ab\u00a0", " >>": "\u00a0\u00bb", "<<": "\u00ab", ">>": "\u00bb",
}
_QUOTE = re.compile(r"['\"]")
# A quote after one of these opens (after anything else it closes or is an apostrophe).
_OPENS_AFTER = set(" \t\n\r([{\u2014\u2013-\u00a0\u201c\u2018/")
_OPEN = {"'": "\u2018", '"': "\u201c"}
_CLOSE = {"'": "\u2019", '"': "\u201d"}
_DECADE = re.compile(r"\d\ds\b")


def _quotes(text: str, before: str) -> str:
    if "'" not in text and '"' not in text:
        return text
    out = []
    last = 0
    for m in _QUOTE.finditer(text):
        i, q = m.start(), m.group()
        prev = text[i - 1] if i else before
        after = text[i + 1 : i + 2]
        if q == "'" and prev in _OPENS_AFTER and _DECADE.match(text, i + 1):
            mark = _CLOSE[q]  # '80s
        elif prev in _OPENS_AFTER and after and not after.isspace():
            mark = _OPEN[q]
        else:
            mark = _CLOSE[q]
        out += [text[last:i], mark]
        last = i + 1
    out.append(text[last:])
    return "".join(out)


def smarten(text: str, before: str = " ") -> str:
    """Dashes, ellipses, guillemets and curly quotes in ``text``; ``before`` is the character that precedes it."""
    if "--" in text or "." in text or "<<" in text or ">>" in text:
        text = _SYMBOLS.sub(lambda m: _SYMBOL[m.group()], text)
    return _quotes(text, before)


class Typography(Treeprocessor):
    """kramdown's ``smart_quotes`` and typographic symbols (Jekyll's defaults) on every text outside code."""

    def run(self, root: etree.Element) -> None:
        self.walk(root)

    def walk(self, el: etree.Element) -> None:
        if el.text and not isinstance(el.text, AtomicString):
            el.text = smarten(el.text)
        for child in el:
            if child.tag not in _VERBATIM:
                self.walk(child)
            if child.tail:
                # Text right after an element (``<em>Custer</em>'s``) follows a word unless the element is a break.
                child.tail = smarten(child.tail, " " if child.tag in ("br", "hr") else "x")
