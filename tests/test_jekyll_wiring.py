"""What a Jekyll site's ``_config.yml`` selects in the rest of the pipeline: the Markdown dialect, Liquid's
``site.*``, the excerpt separator, the item language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_build
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


def _items(root: Path) -> dict[str, dict]:
    run_build(root)
    feed = json.loads((root / "output" / "feed.json").read_text(encoding="utf-8"))
    return {item["title"]: item for item in feed["items"]}


def test_a_jekyll_site_renders_as_jekyll_does(tmp_path: Path) -> None:
    # One build through every stage: _config.yml's values in Liquid, post_url to the Jekyll permalink, kramdown's
    # nested 2-space list and IAL, the site's excerpt_separator, a .text post published unconverted, lang.
    config = ("url: https://ex.org\nbaseurl: /b\nrepository: me/repo\nexcerpt_separator: <!--more-->\n"
              "permalink: /:categories/:title/\nlang: en\n")
    root = jekyll_site(tmp_path, config, posts={
        "news/_posts/2024-01-02-first.md": (
            "---\ntitle: First\nlang: de\n---\n"
            "Intro **one**\n\nstill intro<!--more-->\n\n* a\n  * b\n\nSee {{ site.repository }}.\n{: .x}\n"
        ),
        "_posts/2024-01-03-second.md": "---\ntitle: Second\n---\n[back]({% post_url news/2024-01-02-first %})\n",
        "_posts/2024-01-04-plain.text": "---\ntitle: Plain\n---\nBest **post** ever\n",
    })
    items = _items(root)
    first = items["First"]
    assert first["url"] == "https://ex.org/b/news/first/" and first["language"] == "de"
    assert first["summary"] == "Intro one still intro"
    assert "<li>a<ul><li>b</li></ul></li>" in first["content_html"].replace("\n", "")
    assert "See me/repo.</p>" in first["content_html"] and "{:" not in first["content_html"]
    assert '<a href="https://ex.org/b/news/first/">back</a>' in items["Second"]["content_html"]
    assert items["Plain"]["content_html"] == "Best **post** ever"
