"""What a Jekyll site's ``_config.yml`` selects in the rest of the pipeline: the Markdown dialect, Liquid's
``site.*``, the excerpt separator, the item language."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedwright.config import load_site
from test_jekyll_config import jekyll_site


@pytest.mark.parametrize(
    ("line", "dialect"),
    [("", "kramdown"), ("markdown: kramdown\n", "kramdown"), ("markdown: Kramdown\n", "kramdown"),
     ("markdown: CommonMarkGhPages\n", "markdown")],
)
def test_config_yml_selects_the_markdown_dialect(tmp_path: Path, line: str, dialect: str) -> None:
    site = load_site(jekyll_site(tmp_path, "url: https://ex.org\n" + line))
    assert site.markdown == dialect


def test_feedwright_toml_overrides_the_dialect(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, "url: https://ex.org\n")
    (root / "feedwright.toml").write_text('[build]\nmarkdown = "markdown"\n')
    assert load_site(root).markdown == "markdown"
