"""kramdown's tables, which Python-Markdown's ``tables`` extension does not read.

In kramdown a block whose every line holds a ``|`` outside code spans is a table: no header row or separator
line is needed, a separator may be as short as ``|---``, rows may have fewer cells than others (they are padded),
a later separator starts a new ``<tbody>`` and a ``|===`` line starts the ``<tfoot>``. Alignment comes from the
first separator line and is written as ``align=`` (which the sanitiser keeps; ``style=`` it drops).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.blockprocessors import BlockProcessor

_SEPARATOR = re.compile(r" {0,3}[+|: \t-]*-[+|: \t-]*")
_FOOTER = re.compile(r" {0,3}[+|: \t]*\+[+|: \t]*=[+|: \t=]*|[ \t]*\|[ \t]*=+[ \t=|+]*")
_ALIGN = re.compile(r"[ \t]*(:?)-+(:?)[ \t]*")
_NOT_A_TABLE = re.compile(r" {0,3}(?:#|>|[*+-][ \t]|\d+\.[ \t]|\[\^?[^\]]+\]:|\*\[[^\]]+\]:|:[ \t])")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


def cells(line: str) -> list[str] | None:
    """The cells of a table row, or None when the line has no ``|`` outside code spans and escapes."""
    if "`" in line or "\\" in line:
        out = _split(line)
        if out is None:
            return None
    elif "|" in line:  # no code span or escape can hide one: every | separates
        out = line.split("|")
    else:
        return None
    if line.lstrip().startswith("|"):
        out.pop(0)
    if line.rstrip().endswith("|") and out:
        out.pop()
    return [c.strip() for c in out]


def _split(line: str) -> list[str] | None:
    out, cell, i, piped = [], [], 0, False
    while i < len(line):
        ch = line[i]
        code = _CODE.match(line, i) if ch == "`" else None
        if code:
            cell.append(code.group(0))
            i = code.end()
            continue
        if ch == "\\" and i + 1 < len(line):
            cell.append(line[i : i + 2])
            i += 2
            continue
        if ch == "|":
            out.append("".join(cell))
            cell, piped = [], True
        else:
            cell.append(ch)
        i += 1
    out.append("".join(cell))
    return out if piped else None


def _alignment(line: str) -> list[str | None]:
    found = []
    for part in (cells(line) or [line.strip()]):
        m = _ALIGN.fullmatch(part)
        left, right = (m.group(1), m.group(2)) if m else ("", "")
        found.append({("", ""): None, (":", ""): "left", ("", ":"): "right", (":", ":"): "center"}[(left, right)])
    return found


def is_table(lines: list[str]) -> bool:
    if not lines or _NOT_A_TABLE.match(lines[0]) or lines[0].startswith("    "):
        return False
    if any(_SETEXT.fullmatch(line) for line in lines):
        return False
    return all(_SEPARATOR.fullmatch(line) or _FOOTER.fullmatch(line) or cells(line) is not None for line in lines)


class KramdownTableProcessor(BlockProcessor):
    """A block of lines that each hold a ``|`` -> ``<table>``, as kramdown builds it."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return "|" in block and is_table(block.split("\n"))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        lines = blocks.pop(0).split("\n")
        sections: list[tuple[str, list[list[str]]]] = [("tbody", [])]
        align: list[str | None] | None = None
        for line in lines:
            if _FOOTER.fullmatch(line):
                sections.append(("tfoot", []))
            elif _SEPARATOR.fullmatch(line):
                if align is None:
                    align = _alignment(line)
                    if sections == [("tbody", sections[0][1])] and sections[0][1]:
                        sections[0] = ("thead", sections[0][1])
                sections.append(("tbody", []))
            else:
                sections[-1][1].append(cells(line) or [])
        width = max((len(row) for _, rows in sections for row in rows), default=0)
        table = etree.SubElement(parent, "table")
        for kind, rows in sections:
            if rows:
                self.section(table, kind, rows, width, align or [])
        if not len(table):
            parent.remove(table)

    def section(self, table: etree.Element, kind: str, rows: list[list[str]], width: int, align: list) -> None:
        el = etree.SubElement(table, kind)
        for row in rows:
            tr = etree.SubElement(el, "tr")
            for i, text in enumerate(row + [""] * (width - len(row))):
                cell = etree.SubElement(tr, "th" if kind == "thead" else "td")
                cell.text = text
                if i < len(align) and align[i]:
                    cell.set("align", align[i])
