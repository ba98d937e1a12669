"""Markdown dialects: one Python-Markdown configuration per row of :data:`DIALECTS`.

``markdown`` is Python-Markdown with *extra* (the default for sites that are not Jekyll's); ``kramdown`` reads
Markdown as kramdown with GFM input does, which is what Jekyll 4.3 (and GitHub Pages) renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import markdown

Extensions = tuple[list[Any], dict[str, dict[str, Any]]]


def _plain() -> Extensions:
    from .inline import InlineExtension

    return ["extra", "sane_lists", InlineExtension()], {}


def _kramdown() -> Extensions:
    from .inline import InlineExtension
    from .kramdown import KramdownExtension

    extensions: list[Any] = [
        "abbr",
        "attr_list",
        "def_list",
        "footnotes",
        "md_in_html",
        "sane_lists",
        "pymdownx.highlight",
        "pymdownx.superfences",  # fences inside list items, which fenced_code cannot see
        "pymdownx.tilde",
        "pymdownx.tasklist",
        KramdownExtension(),
        InlineExtension(),
    ]
    config: dict[str, dict[str, Any]] = {
        "pymdownx.tilde": {"subscript": False},  # GFM: ~~strike~~ only; a single ~ stays a ~
        "pymdownx.highlight": {"use_pygments": False},  # <pre><code class="language-x">: what readers render
        "footnotes": {"SEPARATOR": ":"},
    }
    return extensions, config


# Attributes the renderers emit that a reader needs and the sanitiser may keep: heading ids (links to sections),
# footnote ids (references and back-links point at them), the language of a code block. Values are checked by
# keep_attribute.
SAFE_ATTRIBUTES: dict[str, set[str]] = {
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "sup": {"id"},
    "li": {"id"},
    "code": {"class"},
}
_ID = re.compile(r"[\w:.-]{1,200}")
_LANGUAGE = re.compile(r"language-[\w+#.-]{1,50}")


def keep_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: ids only of word characters, ``:``, ``.`` and ``-``; of classes, only ``language-x``."""
    if name == "id":
        return value if _ID.fullmatch(value) else None
    if name == "class":
        if tag != "code":
            return value
        kept = [c for c in value.split() if _LANGUAGE.fullmatch(c)]
        return " ".join(kept) or None
    return value


# dialect name -> its Python-Markdown extensions and their settings ([build] markdown in feedwright.toml)
DIALECTS: dict[str, Callable[[], Extensions]] = {"markdown": _plain, "kramdown": _kramdown}


@cache
def _instance(dialect: str) -> markdown.Markdown:
    import markdown  # ~20 ms: only builds that render something pay for it

    extensions, config = DIALECTS[dialect]()
    return markdown.Markdown(extensions=extensions, extension_configs=config, output_format="html")


def converter(dialect: str) -> Callable[[str], str]:
    """Markdown text -> HTML in ``dialect``, one reused parser per process (reset before each document)."""
    md = _instance(dialect)

    def convert(text: str) -> str:
        return md.reset().convert(text)

    return convert
