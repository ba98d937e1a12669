"""One row per format (``formats.py``): every other part reads the table, none spells a format out again."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conftest import NOW, REPO, make_site, run_build, write_post
from feedwright.config import load_site
from feedwright.errors import ConfigError
from feedwright.formats import BY_NAME, FORMATS, NAMES
from feedwright.ops.serve import content_type
from feedwright.pipeline.pages import PAGES

SRC = REPO / "src" / "feedwright"


def test_no_module_but_formats_py_names_a_feed_file_or_media_type() -> None:
    spelled = {value for fmt in FORMATS for value in (fmt.file_name, fmt.media_type)}
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "formats.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in spelled:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value!r}")
    assert not found, found


def test_the_table_is_what_the_config_accepts_in_its_order(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[build]\nformats = ["json", "rss"]\n')
    assert load_site(site).formats == ("rss", "json") and NAMES == ("rss", "atom", "json")
    (site / "feedwright.toml").write_text('[build]\nformats = ["rdf"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="rdf"):
        load_site(site)


def test_each_row_writes_its_file_served_with_its_media_type(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    report = run_build(site, NOW)
    assert report.result is not None
    written = set(report.result.written) - set(PAGES)
    assert written == {fmt.file_name for fmt in FORMATS}
    for fmt in FORMATS:
        data = (site / "output" / fmt.file_name).read_bytes()
        assert content_type(fmt.file_name) == f"{fmt.media_type}; charset=utf-8"
        assert data.startswith(b"<?xml") == fmt.styled  # only XML feeds carry feed.xsl's instruction
        assert (b"xml-stylesheet" in data) == fmt.styled
    assert json.loads((site / "output" / BY_NAME["json"].file_name).read_bytes())["version"].startswith("https://jsonfeed.org/")
