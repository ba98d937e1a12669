"""kramdown's block structure rewritten into the shape Python-Markdown parses the same way.

Python-Markdown nests list content by 4-space steps and needs a blank line before a list; kramdown (GFM input, as
Jekyll configures it) nests by the item's own content column (2 spaces under ``- a``, 3 under ``1. a``) and lets a
list, like a heading or a fence, interrupt a paragraph. Rather than fork Python-Markdown's list parser, this module
re-indents the text line by line: each list item's content moves from kramdown's column to Python-Markdown's
(4 spaces a level), fenced code moves with the item it belongs to, and a blank line goes in before a list that
follows a text line. Standalone block IALs (``{: .class}`` on their own line) stay where Python-Markdown's
``attr_list`` can apply them (after a paragraph line, or appended to a heading) and are dropped elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"(?P<indent> *)(?P<marker>[*+-]|\d{1,9}\.)(?P<gap>[ \t]+|$)(?P<rest>.*)")
_FENCE = re.compile(r"(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_IAL_LINE = re.compile(r" {0,3}\{:(?!:)(?:[^}\\]|\\.)*\}[ \t]*")
_ALD_LINE = re.compile(r" {0,3}\{:[\w-]+:(?:[^}\\]|\\.)*\}[ \t]*")
_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_HR = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_QUOTE = re.compile(r" {0,3}> ?")
_TAB_STOP = 4
PY_INDENT = 4  # Python-Markdown's tab_length: one nesting level
MAX_QUOTES = 16


@dataclass
class _Item:
    """An open list item: where kramdown expects its content, and where Python-Markdown will."""

    kramdown_col: int
    python_col: int


def _expand(line: str) -> str:
    """Leading tabs to spaces at 4-column stops (kramdown's and Python-Markdown's tab width)."""
    if "\t" not in line:
        return line
    head = len(line) - len(line.lstrip(" \t"))
    return line[:head].expandtabs(_TAB_STOP) + line[head:]


def _unquote(line: str) -> str:
    m = _QUOTE.match(line)
    return line[m.end() :] if m else line  # a lazy line has no ">"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class Reindenter:
    """One pass over the lines of a document; :meth:`run` returns the rewritten lines."""

    def __init__(self, separator: str = "<!-- -->", depth: int = 0) -> None:
        self.separator = separator  # a line that ends every open list for Python-Markdown and renders as nothing
        self.depth = depth  # how many block quotes this text is inside
        self.items: list[_Item] = []
        self.out: list[str] = []
        self.fence: tuple[str, int, int] | None = None  # closing fence, kramdown column, Python-Markdown column
        self.blank = True  # the previous line was blank (or there was none)
        self.text = False  # the previous line was text a list could interrupt
        self.first = False  # the lines since the innermost item's marker are its first block (no blank line yet)

    def run(self, lines: list[str]) -> list[str]:
        i = 0
        while i < len(lines):
            line = _expand(lines[i])
            # (Past MAX_QUOTES levels quotes are left as they are: hostile input must not cost depth x size.)
            if self.fence is None and not self.items and self.depth < MAX_QUOTES and _QUOTE.match(line):
                i = self.quote(lines, i)
            else:
                self.line(line)
                i += 1
        return self.out

    def quote(self, lines: list[str], start: int) -> int:
        """A block quote (up to a blank line, lazy lines included, as kramdown reads it): its content is
        rewritten like a document of its own, then quoted again. Returns the index of the line after it."""
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        inner = [_unquote(_expand(line)) for line in lines[start:end]]
        previous = next((line for line in reversed(self.out) if line), "")
        if previous.startswith(">"):
            self.out += ["", self.separator]  # kramdown keeps two quotes apart; Python-Markdown would join them
        if not self.blank or previous.startswith(">"):
            self.out.append("")
        self.out += [("> " + line).rstrip() for line in Reindenter(self.separator, self.depth + 1).run(inner)]
        self.blank, self.text, self.first = False, False, False
        return end

    def line(self, line: str) -> None:
        if self.fence is not None:
            self.fenced(line)
        elif not line.strip():
            self.out.append("")
            self.blank, self.text, self.first = True, False, False
        else:
            self.block(line)

    def fenced(self, line: str) -> None:
        close, k_col, p_col = self.fence  # type: ignore[misc]
        n = _indent(line)
        body = line[min(n, k_col) :]
        self.blank = self.text = False
        if body.lstrip(" ").startswith(close) and not body.strip().strip(close[0]):
            self.out.append(" " * p_col + body.strip())  # at the opener's column: superfences wants them level
            self.fence = None
            self.out.append("")  # and text right after it starts a new paragraph
            self.blank = True
        else:
            self.out.append(" " * p_col + body if body.strip() else "")

    def owner(self, n: int) -> int:
        """How many open items a line indented ``n`` columns belongs to (0: none, top level)."""
        depth = len(self.items)
        while depth and n < self.items[depth - 1].kramdown_col:
            depth -= 1
        return depth

    def block(self, line: str) -> None:
        if line.rstrip() == "^":  # kramdown's end-of-block marker: ends every open list, shows nothing
            self.end_lists()
            return
        n = _indent(line)
        depth = self.owner(n)
        if depth == 0 and self.items and self.blank and n >= 4:
            # Indented code after a list: kramdown ends the list first, Python-Markdown would append it to the list.
            self.end_lists()
        k_col = self.items[depth - 1].kramdown_col if depth else 0
        p_col = self.items[depth - 1].python_col if depth else 0
        if depth < len(self.items) and not self.blank and not _MARKER.fullmatch(line):
            # A lazy line continues the innermost open item's paragraph, as in kramdown.
            depth = len(self.items)
            k_col, p_col = n, self.items[-1].python_col
        relative = n - k_col
        m = _MARKER.fullmatch(line)
        if relative <= 3 and m and not _HR.fullmatch(line):
            self.item(m, depth, p_col)
            return
        del self.items[depth:]
        if relative <= 3 and _IAL_LINE.fullmatch(line) or _ALD_LINE.fullmatch(line):
            self.ial(line)
            return
        shifted = " " * (p_col + relative) + line[n:]
        fence = _FENCE.fullmatch(line)
        if relative <= 3 and fence and not (fence["fence"][0] == "`" and "`" in fence["info"]):
            self.fence = (fence["fence"], k_col, p_col)  # content keeps its indentation beyond the item's
            shifted = " " * p_col + line[n:]
            if not self.blank:  # a fence interrupts a paragraph; Python-Markdown would put it inside the <p>
                self.out.append("")
            self.first = False
        elif self.first and depth and depth == len(self.items):
            # The item's first block: Python-Markdown reads its lines as written only when they are not indented
            # (indented, "SIZE\n: 123" stays paragraph text instead of becoming a definition list).
            shifted = " " * (p_col - PY_INDENT) + line[n:]
        self.out.append(shifted)
        self.blank = False
        self.text = relative <= 3 and fence is None and not _ATX.match(line)

    def end_lists(self) -> None:
        if self.items:
            self.out += ["", self.separator, ""]
        self.items.clear()
        self.blank, self.text, self.first = True, False, False

    def item(self, m: re.Match[str], depth: int, p_col: int) -> None:
        """A list marker: a sibling of the item at this depth, or the first item of a new (nested) list."""
        new_list = depth == len(self.items)
        del self.items[depth + 1 :]
        if (self.text and new_list) or not (self.blank or self.first):
            # kramdown (GFM) lets a list interrupt a paragraph, and an item follow its previous item's later
            # paragraphs without a blank line; Python-Markdown needs the gap.
            self.out.append("")
        gap = m["gap"].expandtabs(_TAB_STOP) if m["gap"] else " "
        width = len(m["indent"]) + len(m["marker"]) + (len(gap) if 0 < len(gap) <= 4 else 1)
        item = _Item(kramdown_col=width, python_col=p_col + PY_INDENT)
        if depth < len(self.items):
            self.items[depth] = item
        else:
            self.items.append(item)
        rest = m["rest"] if len(gap) <= 4 else " " * (len(gap) - 1) + m["rest"]
        self.out.append(" " * p_col + m["marker"] + " " + rest)
        self.blank, self.text, self.first = False, False, True

    def ial(self, line: str) -> None:
        """A block IAL on its own line: kept for ``attr_list`` where it can apply it, dropped elsewhere."""
        previous = self.out[-1] if self.out else ""
        if not self.blank and _ATX.match(previous.lstrip(" ")):
            self.out[-1] = previous.rstrip() + " " + line.strip()
        elif not self.blank and self.text and not _ALD_LINE.fullmatch(line):
            self.out.append(" " * _indent(previous) + line.strip())
        # else: after a list, a table, a fence or a blank line there is nothing attr_list can attach it to.


def reindent(lines: list[str], separator: str = "<!-- -->") -> list[str]:
    """kramdown's lines in Python-Markdown's shape (see the module docstring); ``separator`` is a line that ends
    a list for Python-Markdown and shows nothing (the default, a comment, does; a stash placeholder is lighter)."""
    return Reindenter(separator).run(lines)
