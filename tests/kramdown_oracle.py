"""Real kramdown (Ruby) as an oracle for the kramdown dialect, and the measures both renderings are compared on.

Used by ``tests/test_kramdown.py``, ``scripts/kramdown_cases.py`` and ``benchmarks/markdown.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ORACLE = Path(__file__).with_name("kramdown") / "oracle.rb"
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n.*?^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)
_LIQUID = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def missing() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    if shutil.which("ruby") is None:
        return "ruby is not installed (apt-get install ruby-kramdown-parser-gfm)"
    probe = subprocess.run(["ruby", "-e", 'require "kramdown"; require "kramdown-parser-gfm"'], capture_output=True)
    if probe.returncode:
        return "kramdown or kramdown-parser-gfm is not installed (apt-get install ruby-kramdown-parser-gfm)"
    return None


def kramdown(texts: list[str]) -> list[str]:
    """kramdown's HTML for each text, all in one Ruby process."""
    done = subprocess.run(
        ["ruby", str(ORACLE)], input=json.dumps(texts), capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout)


def body(text: str) -> str:
    """A post's Markdown without its front matter and with Liquid cut out (Liquid is not this test's concern)."""
    return _LIQUID.sub("", _FRONT_MATTER.sub("", text, count=1))


@dataclass(frozen=True)
class Measures:
    """What a reader sees of a rendering, in numbers."""

    pre: int
    li: int
    headings: int
    tables: int
    images: int
    words: Counter[str]


def measure(html: str, text: str) -> Measures:
    """Counts of block elements in sanitised ``html``; ``text`` is its visible text."""

    def count(pattern: str) -> int:
        return len(re.findall(pattern, html))

    return Measures(
        count(r"<pre\b"), count(r"<li\b"), count(r"<h[1-6]\b"), count(r"<table\b"), count(r"<img\b"),
        Counter(text.split()),
    )


def word_difference(a: Counter[str], b: Counter[str]) -> float:
    """Share of words in one rendering and not the other, relative to the larger of the two."""
    total = max(sum(a.values()), sum(b.values()))
    return sum(((a - b) + (b - a)).values()) / total if total else 0.0


_ALIGN = re.compile(r' style="text-align: (left|center|right)"')
_WRAPPERS = re.compile(r"</?(?:div|span)>")
_TAG = re.compile(r"<(\w+)((?: [\w:-]+=\"[^\"]*\")*)>")
_ATTRIBUTE = re.compile(r' ([\w:-]+)="([^"]*)"')
_AROUND_TAG = re.compile(r"\s*(<[^>]+>)\s*")
# A list item's first paragraph: whether it is wrapped in <p> (a "loose" item) is not compared.
_ITEM_PARAGRAPH = re.compile(r"(<li(?: [^>]*)?>)<p>(.*?)</p>")


def normalise(html: str) -> str:
    """HTML as the product's sanitiser leaves it, with what feeds do not show evened out.

    Evened out: wrappers (rouge's ``<div>`` and ``<span>``s, the footnotes' ``<div>``), classes (kramdown names a
    code block's language on its wrapper, we on ``<code>``), attribute order, white space, and whether a list
    item's first paragraph is wrapped in ``<p>``. kramdown's ``style="text-align: x"`` counts as ``align="x"``.
    """
    from feedwright.pipeline.render import sanitise

    html = sanitise(_ALIGN.sub(r' align="\1"', html), "https://example.org/post/")
    html = _WRAPPERS.sub("", html).replace("&nbsp;", " ").replace("\xa0", " ")

    def tag(m: re.Match[str]) -> str:
        kept = sorted((k, v) for k, v in _ATTRIBUTE.findall(m.group(2)) if k != "class")
        return "<" + m.group(1) + "".join(f' {k}="{v}"' for k, v in kept) + ">"

    html = _AROUND_TAG.sub(r"\1", re.sub(r"\s+", " ", _TAG.sub(tag, html))).strip()
    return _ITEM_PARAGRAPH.sub(r"\1\2", html)


_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
_SYNTAX = re.compile(r"\{:|\\[\\.*_+\-`()\[\]{}#!:|\"'$=<>]")


def syntax_shown(sanitised: str) -> int:
    """How many kramdown attribute lists (``{:``) and backslash escapes a reader sees outside code."""
    from feedwright.pipeline.text import html_to_text

    return len(_SYNTAX.findall(html_to_text(_CODE.sub("", sanitised))))
