"""The shape the product owner asked for: templates are files, not long strings in Python."""

from __future__ import annotations

import ast

from conftest import REPO

SRC = REPO / "src" / "feedwright"
MAX_STRING_LINES = 30


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants: documentation, not text the program emits."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_string_constant_in_src_is_longer_than_30_lines() -> None:
    long = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                lines = node.value.count("\n") + 1
                if lines > MAX_STRING_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} ({lines} lines)")
    assert not long, f"move these into files (package data): {long}"


def test_the_browser_view_templates_are_package_data_and_pages_py_stays_small() -> None:
    templates = {p.name for p in (SRC / "pipeline" / "templates").iterdir()}
    assert {"feed.xsl", "index.html", "feeds.opml", "pages.css"} <= templates
    assert len((SRC / "pipeline" / "pages.py").read_text(encoding="utf-8").splitlines()) < 400
