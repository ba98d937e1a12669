"""The inline treeprocessor that passes over patterns which cannot match (``pipeline/markdown/inline.py``) against
Python-Markdown's own: the same HTML for real posts, the case files and generated Markdown, in every dialect."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import markdown
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import InlineProcessor

from conftest import CORPORA
from feedwright.pipeline.frontmatter import body_of
from feedwright.pipeline.markdown import DIALECTS, _instance
from feedwright.pipeline.markdown.inline import TRIGGERS, TriggeredInline, triggers

CASES = sorted(Path(__file__).with_name("kramdown").glob("*.md"))
POSTS = sorted(CORPORA.glob("*/_posts/**/*.md")) + sorted(CORPORA.glob("*/_drafts/**/*.md"))


@cache
def _stock(dialect: str) -> markdown.Markdown:
    """The dialect with Python-Markdown's own inline treeprocessor put back."""
    extensions, config = DIALECTS[dialect]()
    md = markdown.Markdown(extensions=extensions, extension_configs=config, output_format="html")
    md.treeprocessors.register(InlineProcessor(md), "inline", 20)
    return md


def _both(dialect: str, text: str) -> tuple[str, str]:
    return _instance(dialect).reset().convert(text), _stock(dialect).reset().convert(text)


def test_the_dialects_use_the_triggered_processor_and_the_oracle_does_not() -> None:
    for dialect in DIALECTS:
        assert type(_instance(dialect).treeprocessors["inline"]) is TriggeredInline
        assert type(_stock(dialect).treeprocessors["inline"]) is InlineProcessor


def test_every_pattern_of_every_dialect_has_its_triggers() -> None:
    """A pattern missing from the table is always tried: correct, but the speed-up would be lost unnoticed."""
    for dialect in DIALECTS:
        untriggered = [name for name, p in zip(_names(dialect), _instance(dialect).inlinePatterns, strict=True)
                       if triggers(p) is None]
        assert not untriggered, (dialect, untriggered)


def _names(dialect: str) -> list[str]:
    registry = _instance(dialect).inlinePatterns
    return [registry._priority[i].name for i in range(len(registry))]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_real_posts_render_as_with_the_stock_processor(dialect: str) -> None:
    assert len(POSTS) > 500  # the corpora are there
    differ = []
    for path in POSTS:
        text = path.read_text(encoding="utf-8", errors="replace")
        mine, stock = _both(dialect, body_of(text) if text.startswith(("---", "+++")) else text)
        if mine != stock:
            differ.append(path.name)
    assert not differ


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_files_render_as_with_the_stock_processor(case: Path) -> None:
    for dialect in DIALECTS:
        mine, stock = _both(dialect, case.read_text(encoding="utf-8"))
        assert mine == stock


# Markdown's inline syntax, densely: every trigger, and what sits next to one (escapes, nesting, references).
_PIECES = st.sampled_from([
    "a", "word", " ", "  \n", "\n", "\n\n", "*", "**", "_", "__", "~~", "~", "`", "``", "\\", "\\*", "[", "]", "(",
    ")", "![", "[^1]", "[^1]: note", "[x]", "[x]: /u", "[x][]", "[x][y]", "\n[y]: /v \"t\"\n", "<", ">",
    "<b>", "</b>", "<a href='/x'>", "</a>", "<!-- c -->", "&", "&amp;", "&#42;", ";", "<https://e.org/a>",
    "<me@e.org>", "@", "://", "{: .c}", "{:", "}", "#", "- ", "1. ", "> ", "    ", "|", "---", ":", "'", "\"",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.sampled_from(sorted(DIALECTS)))
@example("[a](/b) and [c][d]\n\n[d]: /e", "kramdown")
@example("**a *b* c** `x` ~~y~~ <i>z</i> &amp; \\*", "markdown")
def test_generated_markdown_renders_as_with_the_stock_processor(text: str, dialect: str) -> None:
    mine, stock = _both(dialect, text)
    assert mine == stock


_ANY_TEXT = st.text(st.sampled_from("ab \n\t*_~`\\[]()!<>&#;:/@^.-|{}'\"=x1"), max_size=60) | st.lists(
    _PIECES, max_size=30).map("".join)


@pytest.mark.parametrize("regex", sorted(TRIGGERS))
@settings(max_examples=150, deadline=None)
@given(text=_ANY_TEXT)
def test_no_match_without_a_trigger(regex: str, text: str) -> None:
    """What the table claims: a text holding none of a pattern's triggers has no match of its regex."""
    for needed in TRIGGERS[regex]:
        text = text.replace(needed, "")
    if any(needed in text for needed in TRIGGERS[regex]):  # removing one made another ("[[^^" -> "[^")
        return
    assert re.compile(regex, re.DOTALL | re.UNICODE).search(text) is None
