"""Python-Markdown extensions that make it read Markdown as kramdown (GFM input, Jekyll 4.3's default) does.

What stock and pymdown-extensions cover is configured in :mod:`feedwright.pipeline.markdown`; this module holds
the rest: kramdown's list indentation and paragraph interruption (:mod:`.blocks`), its ``{::comment}``,
``{::options}`` and ``{::nomarkdown}`` extensions, its backslash escapes, GFM's ATX headings (``#`` needs a space)
and GFM header ids, and a last sweep so no ``{: ...}`` attribute list Python-Markdown could not apply is shown as
text.
"""

from __future__ import annotations

import copy
import re
import unicodedata
import xml.etree.ElementTree as etree
from collections import Counter
from typing import Any

from markdown import Extension, Markdown
from markdown import inlinepatterns as patterns
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .blocks import reindent
from .tables import KramdownTableProcessor
from .typography import Typography

# kramdown's escapable characters that Python-Markdown (with tables) does not already treat as escapes.
_MORE_ESCAPES = ("'", '"', ":", "$", "=", "<", "|")
_FENCE = re.compile(r"^ *(`{3,}|~{3,})")
# One pass: a code span is kept as it is (it may show the syntax itself), else comments and options go.
_EXTENSION = re.compile(
    r"(?P<code>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|\{::comment\}.*?\{:/(?:comment)?\}"
    r"|\{::nomarkdown(?:[ \t][^}]*)?\}(?P<raw>.*?)\{:/(?:nomarkdown)?\}"
    r"|\{::\w+(?:[ \t][^}]*)?/\}"
    r"|(?P<ials>\{:(?!:)[^}\n]*\}(?:[ \t]*\{:(?!:)[^}\n]*\})+)",
    re.S,
)
_IAL_BODY = re.compile(r"\{:([^}\n]*)\}")
_IAL = re.compile(r"[ \t]*\{:(?:[^}\\]|\\.)*\}|\{:/\w*\}")  # may span lines: ``{:\n.icon}``
_PLACEHOLDER = re.compile("\x02[^\x03]*\x03")  # raw HTML stashed by Python-Markdown
_VERBATIM = {"pre", "code", "kbd", "samp", "script", "style"}


class _Reindent(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return reindent(lines, self.md.htmlStash.store("<!-- -->"))


class _Extensions(Preprocessor):
    """kramdown's ``{::name}`` extensions outside fenced code: comments and options go, nomarkdown stays raw."""

    def run(self, lines: list[str]) -> list[str]:
        if not any("{:" in line for line in lines):
            return lines
        chunks: list[tuple[bool, list[str]]] = []
        fence = None
        for line in lines:
            m = _FENCE.match(line)
            in_code = fence is not None
            if m and fence is None:
                fence, in_code = m.group(1), True
            elif m and fence is not None and m.group(1).startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            if chunks and chunks[-1][0] == in_code:
                chunks[-1][1].append(line)
            else:
                chunks.append((in_code, [line]))
        out: list[str] = []
        for code, chunk in chunks:
            out += chunk if code else self.clean("\n".join(chunk)).split("\n")
        return out

    def clean(self, text: str) -> str:
        def replace(m: re.Match[str]) -> str:
            if m["code"]:
                return m["code"]
            if m["ials"]:  # {: .a}{: width="9"} -> {: .a width="9"}, which attr_list reads as one
                return "{:" + " ".join(_IAL_BODY.findall(m["ials"])) + "}"
            return self.md.htmlStash.store(m["raw"]) if m["raw"] is not None else ""

        return _EXTENSION.sub(replace, text)


class _GfmHashHeader(HashHeaderProcessor):
    """An ATX heading as GFM has it: ``#`` then a space (``#include <x>`` is text, not a heading)."""

    RE = re.compile(r"(?:^|\n)(?P<level>#{1,6})(?=[ \t]+[^ \t\n])(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")


class _ExactBackticks(BacktickInlineProcessor):
    """A run of backticks opens a code span only if a run of the same length closes it, else it is text.

    Python-Markdown falls back to a shorter opening run, which swallows the rest of the paragraph into code.
    """

    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:
        ticks = len(text[start:]) - len(text[start:].lstrip("`"))
        found, end = super().find_code_spans(start, text)
        return (found, end) if end is None or found == start + ticks else (start + ticks, None)


class _RetryUndefined:
    """An undefined reference leaves its ``[`` as text and matching goes on right after it, as in kramdown:
    ``[[Feature #1]]`` is ``[`` + the link ``Feature #1`` + ``]``. (Python-Markdown skips the whole bracket.)"""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int | None, int | None]:  # noqa: N802
        el, start, end = super().handleMatch(m, data)  # type: ignore[misc]
        return (el, start, end) if el is not None else (None, None, None)


def _retrying(cls: type) -> type:
    return type(f"Kramdown{cls.__name__}", (_RetryUndefined, cls), {})


# inline pattern name -> (processor, its pattern, priority), as Python-Markdown registers them
_REFERENCES = {
    "reference": (patterns.ReferenceInlineProcessor, patterns.REFERENCE_RE, 170),
    "image_reference": (patterns.ImageReferenceInlineProcessor, patterns.IMAGE_REFERENCE_RE, 140),
    "short_reference": (patterns.ShortReferenceInlineProcessor, patterns.REFERENCE_RE, 130),
    "short_image_ref": (patterns.ShortImageReferenceInlineProcessor, patterns.IMAGE_REFERENCE_RE, 125),
}


def _word_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LM" or category in ("Nd", "Pc")


def gfm_id(text: str) -> str:
    """kramdown-parser-gfm's header id: lower case, only word characters, ``-`` and blanks, blanks as ``-``."""
    kept = "".join(ch for ch in text.lower() if ch in "- \t" or _word_char(ch))
    return kept.replace(" ", "-").replace("\t", "-")


class _HeaderIds(Treeprocessor):
    """GFM ids from each heading's text as it reads (kramdown-parser-gfm's ``update_raw_text``: link text without
    its URL, code, characters of entities, quotes and dashes); runs last, once escapes are restored."""

    def run(self, root: etree.Element) -> None:
        seen: Counter[str] = Counter()
        for el in root.iter():
            if el.tag not in ("h1", "h2", "h3", "h4", "h5", "h6") or el.get("id"):
                continue  # an id the author chose (attr_list set it): kramdown then makes none
            base = gfm_id(_PLACEHOLDER.sub("", "".join(el.itertext())))
            seen[base] += 1
            el.set("id", base if seen[base] == 1 else f"{base}-{seen[base] - 1}")


class _DropAttributeLists(Treeprocessor):
    """Attribute lists ``attr_list`` could not apply: kramdown never shows them, neither do we."""

    def run(self, root: etree.Element) -> None:
        self.sweep(root)

    def sweep(self, el: etree.Element) -> None:
        if el.text and "{:" in el.text and el.tag not in _VERBATIM:
            el.text = _IAL.sub("", el.text)
        for child in el:
            if child.tag not in _VERBATIM:
                self.sweep(child)
            if child.tail and "{:" in child.tail:
                child.tail = _IAL.sub("", child.tail)


class _ColonAttributeLists(AttrListTreeprocessor):
    """``attr_list`` reading only kramdown's ``{: ...}`` after a block or a span: Python-Markdown's own ``{...}``
    would take Liquid left as text (``{% endraw %}`` ending a paragraph, ``render_with_liquid: false``) as
    attributes and the sanitiser would drop it. A heading's ``{#id}`` stays, as in kramdown."""

    BASE_RE = r"\{\:[ ]*([^\}\n ][^\n]*)\}"
    BLOCK_RE = re.compile(rf"\n[ ]*{BASE_RE}[ ]*$")
    INLINE_RE = re.compile(rf"^{BASE_RE}")


_LATER_REF = re.compile(r"fnref(\d+):(.+)")


def _later_references(root: etree.Element) -> Counter[str]:
    """Python-Markdown's ``fnref2:x`` renamed as kramdown's ``fnref:x:1``; how many later references each note has."""
    later: Counter[str] = Counter()
    for sup in root.iter("sup"):
        m = _LATER_REF.fullmatch(sup.get("id", ""))
        if m:
            sup.set("id", f"fnref:{m[2]}:{int(m[1]) - 1}")
            later[m[2]] += 1
    return later


def _more_backlinks(li: etree.Element, name: str, count: int) -> None:
    """After a note's back-link, one per later reference (``↩<sup>2</sup>``), as kramdown writes them."""
    for parent in li.iter():
        for i, a in enumerate(list(parent)):
            if a.tag == "a" and a.get("href") == f"#fnref:{name}":
                for n in range(count, 0, -1):
                    more = copy.deepcopy(a)
                    more.set("href", f"#fnref:{name}:{n}")
                    more.tail = a.tail if n == count else "\xa0"
                    etree.SubElement(more, "sup").text = str(n + 1)
                    parent.insert(i + 1, more)
                a.tail = "\xa0"
                return


class _FootnoteBacklinks(Treeprocessor):
    """One back-link per reference to a note, as kramdown writes them (after the inline patterns made the refs)."""

    def run(self, root: etree.Element) -> None:
        later = _later_references(root)
        if not later:
            return
        for div in root.iter("div"):
            if div.get("class") == "footnotes":
                for li in div.iter("li"):
                    name = li.get("id", "").removeprefix("fn:")
                    if later[name]:
                        _more_backlinks(li, name, later[name])


class _Footnotes(Treeprocessor):
    """Footnotes as kramdown lays them out: no rule above them, back-links without a tooltip."""

    def run(self, root: etree.Element) -> None:
        for div in root.iter("div"):
            if div.get("class") == "footnote":
                div.set("class", "footnotes")
                for hr in div.findall("hr"):
                    div.remove(hr)
                for a in div.iter("a"):
                    a.attrib.pop("title", None)


class KramdownExtension(Extension):
    """The parts of kramdown's dialect no stock or pymdown-extensions extension provides."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.ESCAPED_CHARS.extend(c for c in _MORE_ESCAPES if c not in md.ESCAPED_CHARS)
        # After normalize_whitespace (30), before fences (25) and raw HTML (20) are taken out.
        md.preprocessors.register(_Reindent(md), "kramdown_reindent", 28)
        md.preprocessors.register(_Extensions(md), "kramdown_extensions", 27)
        md.parser.blockprocessors.register(_GfmHashHeader(md.parser), "hashheader", 70)
        md.parser.blockprocessors.register(KramdownTableProcessor(md.parser), "table", 75)
        md.inlinePatterns.register(_ExactBackticks(BACKTICK_RE), "backtick", 190)
        for name, (cls, pattern, priority) in _REFERENCES.items():
            md.inlinePatterns.register(_retrying(cls)(pattern, md), name, priority)
        md.treeprocessors.register(_HeaderIds(md), "kramdown_header_ids", -1)  # after unescape (0)
        md.treeprocessors.register(_ColonAttributeLists(md), "attr_list", 8)  # replaces attr_list's own
        md.treeprocessors.register(_DropAttributeLists(md), "kramdown_drop_ials", 6)
        md.treeprocessors.register(_Footnotes(md), "kramdown_footnotes", 45)  # after footnotes' own (50)
        md.treeprocessors.register(_FootnoteBacklinks(md), "kramdown_backlinks", 15)  # after inline (20)
        md.treeprocessors.register(Typography(md), "kramdown_typography", 5)  # before escapes are restored (0)
