"""Unit tests for feedwright.pipeline.render: Markdown, sanitising, summaries and images."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedwright.config import Site, parse_config
from feedwright.pipeline.collect import Post
from feedwright.pipeline.render import Entry, image, render, sanitise, summarise, to_html

SITE_URL = "https://ex.org/blog/"
POST_URL = SITE_URL + "news/hello/"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    (tmp_path / "content").mkdir()
    return parse_config({"site": {"url": SITE_URL}}, tmp_path)


def make_post(body: str, **changes: object) -> Post:
    when = datetime(2024, 6, 26, tzinfo=UTC)
    post = Post(
        source="news/hello.md", title="Hello", published=when, updated=when, url=POST_URL, id=POST_URL,
        categories=(), tags=(), summary=None, image=None, authors=(), draft=False, body=body, markup="markdown",
    )
    return replace(post, **changes)  # type: ignore[arg-type]


# --- to_html -------------------------------------------------------------------------------------------------


def test_to_html_markdown_table() -> None:
    html = to_html("| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown")
    assert "<table>" in html and "<td>1</td>" in html and "<th>a</th>" in html


def test_to_html_fenced_code() -> None:
    html = to_html("```python\nx = 1 < 2\n```\n", "markdown")
    assert re.search(r"<pre><code[^>]*>x = 1 &lt; 2\n</code></pre>", html)


def test_to_html_raw_html_passes_through() -> None:
    html = to_html('<div class="note">Hi</div>\n\nText *em*\n', "markdown")
    assert '<div class="note">Hi</div>' in html
    assert "<em>em</em>" in html


def test_to_html_html_markup_is_unchanged() -> None:
    body = "# not a heading\n<p>x</p>"
    assert to_html(body, "html") == body


def test_to_html_state_does_not_leak_between_posts() -> None:
    first = to_html("Text[^1]\n\n[^1]: Note one\n", "markdown")
    second = to_html("Plain\n", "markdown")
    assert "Note one" in first
    assert "Note one" not in second and "footnote" not in second


# --- sanitise ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dirty", "banned"),
    [
        ("<p>a</p><script>alert(1)</script>", "alert"),
        ('<iframe src="https://evil.example/"></iframe>', "iframe"),
        ('<object data="x.swf"></object>', "object"),
        ("<style>body{display:none}</style><p>a</p>", "display"),
        ('<img src="a.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "javascript"),
        ('<img src="data:image/png;base64,AAAA">', "data:"),
        ('<p style="color:red">a</p>', "style"),
        ('<form action="/x"><input name="q"></form>', "input"),
    ],
)
def test_sanitise_removes_unsafe_html(dirty: str, banned: str) -> None:
    assert banned not in sanitise(dirty, POST_URL).lower()


def test_sanitise_keeps_tables_images_links_headings() -> None:
    html = (
        '<h2>Head</h2><table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
        '<p><a href="https://ex.org/x" title="t">link</a> <img src="https://ex.org/i.png" alt="pic"></p>'
    )
    out = sanitise(html, POST_URL)
    for piece in ("<h2>Head</h2>", "<table>", "<th>a</th>", "<td>1</td>", 'href="https://ex.org/x"',
                  'title="t"', 'src="https://ex.org/i.png"', 'alt="pic"'):
        assert piece in out


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        ('href="other/"', POST_URL + "other/"),
        ('href="../up/"', SITE_URL + "news/up/"),
        ('href="/root"', "https://ex.org/root"),
        ('href="#fn1"', POST_URL + "#fn1"),
        ('src="pic.png"', POST_URL + "pic.png"),
        ('href="https://other.org/x"', "https://other.org/x"),
    ],
)
def test_sanitise_resolves_relative_urls_against_the_post(attr: str, expected: str) -> None:
    tag = f"<a {attr}>x</a>" if attr.startswith("href") else f"<img {attr}>"
    out = sanitise(tag, POST_URL)
    name = attr.split("=")[0]
    assert f'{name}="{expected}"' in out


def test_sanitise_adds_no_rel_attribute() -> None:
    assert "rel=" not in sanitise('<a href="https://x.org/">x</a>', POST_URL)


# --- summarise -----------------------------------------------------------------------------------------------


def test_summarise_first_paragraph_with_text() -> None:
    html = '<p><img src="a.png" alt="photo"></p><p>First <b>real</b> words.</p><p>Second.</p>'
    assert summarise(html) == "First real words."


def test_summarise_skips_empty_paragraphs() -> None:
    assert summarise("<p> </p><p>&nbsp;Text</p>") == "Text"


def test_summarise_without_paragraphs_uses_all_text() -> None:
    assert summarise("<h2>Title</h2><ul><li>one</li></ul>") == "Title one"


def test_summarise_is_trimmed() -> None:
    out = summarise("<p>" + "word " * 200 + "</p>")
    assert out.endswith("…") and len(out) <= 301


# --- image ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime"),
    [("a.png", "image/png"), ("a.jpg", "image/jpeg"), ("a.JPEG", "image/jpeg"), ("a.gif", "image/gif"),
     ("a.webp", "image/webp"), ("a.svg", "image/svg+xml")],
)
def test_image_mime_type_from_extension(site: Site, name: str, mime: str) -> None:
    assert image(site, "https://cdn.example/" + name).type == mime


@pytest.mark.parametrize(
    "url", ["https://cdn.example/picture", "https://cdn.example/photo?id=3.jpg", "https://cdn.example/page.php"]
)
def test_image_type_omitted_when_the_url_names_none(site: Site, url: str) -> None:
    # Never application/octet-stream: a reader would not show it as an image.
    assert image(site, url).type is None


@pytest.mark.parametrize(
    ("url", "mime"),
    [("https://cdn.example/a.webp", "image/webp"), ("https://cdn.example/a.AVIF", "image/avif"),
     ("https://cdn.example/a.svg", "image/svg+xml"), ("https://cdn.example/a.JPG?w=3", "image/jpeg")],
)
def test_image_type_from_the_extension(site: Site, url: str, mime: str) -> None:
    assert image(site, url).type == mime


def test_image_length_of_a_site_file(site: Site) -> None:
    folder = site.root / "content" / "images"
    folder.mkdir()
    (folder / "서울 밤.png").write_bytes(b"\x89PNG" + b"\0" * 96)
    found = image(site, SITE_URL + "images/%EC%84%9C%EC%9A%B8%20%EB%B0%A4.png")
    assert found.length == 100
    assert found.type == "image/png"
    assert found.url == SITE_URL + "images/%EC%84%9C%EC%9A%B8%20%EB%B0%A4.png"


def test_image_length_zero_outside_the_site(site: Site) -> None:
    (site.root / "content" / "a.png").write_bytes(b"x" * 10)
    assert image(site, "https://cdn.example/blog/a.png").length == 0
    assert image(site, SITE_URL + "missing.png").length == 0


def test_image_cannot_reach_outside_content(site: Site) -> None:
    (site.root / "secret.png").write_bytes(b"x" * 10)
    assert image(site, SITE_URL + "../secret.png").length == 0
    assert image(site, SITE_URL + "%2e%2e/secret.png").length == 0


# --- render --------------------------------------------------------------------------------------------------


def rendered(post: Post, site: Site) -> Entry:
    """The entry the build makes of ``post``: rendered, then its image looked up."""
    return render(post, site)


def test_render_picks_first_img_when_post_has_no_image(site: Site) -> None:
    entry = rendered(make_post("Intro\n\n![one](pics/one.png)\n\n![two](https://cdn.ex/two.jpg)\n"), site)
    assert entry.image is not None
    assert entry.image.url == POST_URL + "pics/one.png"
    assert entry.image.type == "image/png"


def test_render_front_matter_image_wins(site: Site) -> None:
    post = make_post("![one](pics/one.png)", image="https://cdn.ex/cover.jpg")
    entry = rendered(post, site)
    assert entry.image is not None and entry.image.url == "https://cdn.ex/cover.jpg"


def test_render_no_image(site: Site) -> None:
    assert rendered(make_post("Just text."), site).image is None


def test_render_summary_from_body_unless_given(site: Site) -> None:
    assert rendered(make_post("![x](x.png)\n\nBody **text**.\n"), site).summary == "Body text."
    assert rendered(make_post("Body.", summary="Given"), site).summary == "Given"
    assert rendered(make_post(""), site).summary == "Hello"


def test_render_html_is_safe_and_absolute(site: Site) -> None:
    body = (
        "{% include ad.html %}\n\n[About]({{ '/about/' | relative_url }})\n\n"
        "<script>steal()</script>\n\n[note](#fn1)\n"
    )
    html = rendered(make_post(body), site).html
    assert "steal" not in html and "{%" not in html
    assert 'href="https://ex.org/blog/about/"' in html
    assert f'href="{POST_URL}#fn1"' in html


def test_render_html_markup_post(site: Site) -> None:
    html = rendered(make_post("<p>Hi <em>there</em></p><img src='a.png'>", markup="html"), site).html
    assert "<p>Hi <em>there</em></p>" in html
    assert f'src="{POST_URL}a.png"' in html
