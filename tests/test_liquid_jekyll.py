"""Differential test: the Liquid of a small Jekyll site, rendered by real Jekyll and by feedwright, gives the same
links and values (tests/oracle/liquid-site: data-driven download sections, post_url/link cross-references,
site.repository, includes with parameters, Jekyll's filters)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest
import yaml

from feedwright.build import build
from feedwright.config import Site

SITE = Path(__file__).parent / "oracle" / "liquid-site"
URL = "https://www.example.org/blog/"

pytestmark = pytest.mark.skipif(shutil.which("jekyll") is None, reason="needs Jekyll (apt-get install jekyll)")


def _facts(html: str, page_url: str) -> tuple[list[str], list[str], list[str]]:
    """Absolute link targets, the text of each list item, and the text of each code block."""
    doc = lxml.html.fragment_fromstring(html, create_parent="div")
    links = [urljoin(page_url, a.get("href")) for a in doc.iter("a")]

    def text(el: lxml.html.HtmlElement) -> str:
        # kramdown makes quotes curly (its smart quotes, a Markdown matter): values are compared without that.
        plain = el.text_content().translate(str.maketrans("“”‘’", "\"\"''"))
        return " ".join(plain.split())

    items = [text(li) for li in doc.iter("li")]
    code = [text(c) for c in doc.iter("code")]
    return links, items, code


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    root = tmp_path_factory.mktemp("oracle") / "site"
    shutil.copytree(SITE, root)
    subprocess.run(
        ["jekyll", "build", "--quiet", "--source", str(root), "--destination", str(root / "_site")],
        check=True, capture_output=True, timeout=300,
    )
    jekyll = {}
    for page in (root / "_site").rglob("index.html"):
        rel = page.parent.relative_to(root / "_site").as_posix()
        jekyll[URL + rel + "/"] = page.read_text(encoding="utf-8")
    shutil.rmtree(root / "_site")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    site = Site(root=root, url=URL, content=Path("."), output=Path("out"), permalink="/:year/:month/:day/:slug/",
                variables=config, browser_view=False)
    report = build(site, write=False)
    assert not report.rejected and not report.warnings, report.warnings
    feed = json.loads(report.files["feed.json"])
    ours = {item["url"]: item["content_html"] for item in feed["items"]}
    return jekyll, ours


def test_same_posts(both: tuple[dict[str, str], dict[str, str]]) -> None:
    jekyll, ours = both
    assert set(ours) == set(jekyll)
    assert len(ours) == 3


def test_links_and_values_match_jekyll(both: tuple[dict[str, str], dict[str, str]]) -> None:
    jekyll, ours = both
    compared = 0
    problems = []
    for url, html in sorted(ours.items()):
        want, got = _facts(jekyll[url], url), _facts(html, url)
        for kind, w, g in zip(("links", "list items", "code"), want, got, strict=True):
            compared += max(len(w), len(g))
            if w != g:
                problems.append(f"{url} {kind}:\n  jekyll     {w}\n  feedwright {g}")
    assert compared > 40
    assert not problems, "\n".join(problems)


def test_download_sections_come_from_site_data(both: tuple[dict[str, str], dict[str, str]]) -> None:
    _, ours = both
    html = ours[URL + "2023/12/25/ruby-3-3-0-released/"]
    for value in ("ruby-3.3.0.tar.gz", "size 22068888", "size 26976223", "96518814d9832bece92a85415a819d48"):
        assert value in html
    assert "3.2.2.tar.gz" not in html
    assert re.search(r"release of Ruby 3\.3\.0, on 25 Dec 2023", html)
