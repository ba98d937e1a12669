"""The kramdown dialect (``[build] markdown = "kramdown"``) against real kramdown: small cases with kramdown's HTML
stored beside them (``tests/kramdown/``), and every post of ``../shared/corpora`` rendered both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kramdown_oracle as oracle
from conftest import CORPORA, make_site, run_build, write_post
from feedwright.config import MARKDOWN_DIALECTS, parse_config
from feedwright.errors import ConfigError
from feedwright.pipeline.markdown import DIALECTS, converter, keep_attribute
from feedwright.pipeline.markdown.kramdown import gfm_id
from feedwright.pipeline.render import sanitise, to_html
from feedwright.pipeline.text import html_to_text

CASES = sorted(Path(__file__).with_name("kramdown").glob("*.md"))
BASE = "https://example.org/post/"


def kramdown_dialect(text: str) -> str:
    return to_html(text, "markdown", "kramdown")


# --- the case files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_renders_as_kramdown_does(case: Path) -> None:
    expected = oracle.normalise(case.with_suffix(".html").read_text(encoding="utf-8"))
    assert oracle.normalise(kramdown_dialect(case.read_text(encoding="utf-8"))) == expected


def test_case_files_hold_kramdowns_own_output() -> None:
    """The stored HTML is what real kramdown makes of each case today (regenerate: scripts/kramdown_cases.py)."""
    reason = oracle.missing()
    if reason:
        pytest.skip(reason)
    fresh = oracle.kramdown([c.read_text(encoding="utf-8") for c in CASES])
    stale = [c.name for c, html in zip(CASES, fresh, strict=True) if c.with_suffix(".html").read_text("utf-8") != html]
    assert not stale


def test_the_cases_tell_the_dialects_apart() -> None:
    """The case files would catch a dialect that is plain Python-Markdown: most of them render differently."""
    plain = converter("markdown")
    same = [
        c.stem
        for c in CASES
        if oracle.normalise(plain(c.read_text("utf-8"))) == oracle.normalise(c.with_suffix(".html").read_text("utf-8"))
    ]
    assert len(same) <= len(CASES) // 4, same


# --- the constructs the issue found, one by one -------------------------------------------------------------------


def test_fence_inside_a_list_item_stays_a_code_block() -> None:
    html = kramdown_dialect("1. Build:\n\n   ```sh\n   make && make install\n   ```\n2. Run it.\n")
    assert html.count("<pre") == 1 and "<li>" in html
    assert re.search(r"<li>.*<pre.*</pre>.*</li>", html, re.S)


def test_two_space_nested_lists_keep_their_nesting() -> None:
    html = kramdown_dialect("* a\n  * b\n    * c\n* d\n")
    assert html.count("<ul>") == 3 and html.count("<li>") == 4


def test_a_list_may_follow_a_paragraph_line() -> None:
    html = kramdown_dialect("Changes:\n- one\n- two\n")
    assert "<p>Changes:</p>" in html and html.count("<li>") == 2


def test_include_line_in_a_list_is_not_a_heading() -> None:
    html = sanitise(kramdown_dialect("- #include \\<cstdio>\n- #include <vector>\n"), BASE)
    assert "<h1" not in html and "#include &lt;cstdio&gt;" in html


@pytest.mark.parametrize(
    "text",
    [
        "![a](/a.png)\n{: .align-center}\n",
        '![a](/a.png){: width="70%"}\n',
        "- a\n- b\n{: .list}\n",
        "```\nx\n```\n{: .code}\n",
        "{:ref: .class}\n\ntext\n",
        "Para.\n\n{: .orphan}\n\nMore.\n",
        "| a | b |\n{: .table}\n",
        "# Title\n{: #custom}\n",
    ],
)
def test_attribute_lists_are_never_shown(text: str) -> None:
    assert "{:" not in html_to_text(sanitise(kramdown_dialect(text), BASE))


def test_attribute_lists_apply_where_python_markdown_can() -> None:
    html = kramdown_dialect('![a](/a.png){: width="70%"}\n\n# Title\n{: #custom}\n')
    assert 'width="70%"' in html and 'id="custom"' in html


def test_only_colon_attribute_lists_are_attributes() -> None:
    # Liquid left as text (render_with_liquid: false, {% raw %}) ending a paragraph is text in kramdown, not a
    # Python-Markdown attribute list the sanitiser would then drop.
    html = kramdown_dialect("a\n{% endraw %}\n{%- endfor -%}\n\nb *c*{x} d\n")
    assert "{% endraw %}\n{%- endfor -%}</p>" in html and "<em>c</em>{x} d" in html


def test_a_note_referenced_twice_has_a_back_link_to_each_reference() -> None:
    html = sanitise(kramdown_dialect("a[^x] b[^x] c[^y]\n\n[^x]: note\n[^y]: other\n"), BASE)
    assert '<sup id="fnref:x">' in html and '<sup id="fnref:x:1">' in html  # kramdown's ids, not fnref2:x
    assert f'<a href="{BASE}#fnref:x">↩</a>&nbsp;<a href="{BASE}#fnref:x:1">↩<sup>2</sup></a></p>' in html
    assert html.count("#fnref:y") == 1


def test_kramdown_backslash_escapes_are_consumed() -> None:
    text = html_to_text(kramdown_dialect("It\\'s \\<b\\> a \\| b \\$5 \\= c\\: \\\"q\\\"\n"))
    assert "\\" not in text and text == "It's <b> a | b $5 = c: \"q\""


def test_kramdown_extensions_are_not_shown() -> None:
    text = '{::options auto_ids="false" /}\nA{::comment}hidden{:/comment}B\n\n{::nomarkdown}<i>*x*</i>{:/}\n'
    html = kramdown_dialect(text)
    assert "hidden" not in html and "{:" not in html and "<i>*x*</i>" in html


def test_extension_syntax_inside_code_is_shown() -> None:
    html = kramdown_dialect("Wrap it in `{::nomarkdown} ... {:/}`.\n\n```\n{::comment}x{:/comment}\n```\n")
    assert "{::nomarkdown} ... {:/}" in html and "{::comment}x{:/comment}" in html


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Hello, World!", "hello-world"),
        ("Numbers 1.2.3 & symbols (yes)", "numbers-123--symbols-yes"),
        ("한국어 제목", "한국어-제목"),
        ("snake_case and `code`", "snake_case-and-code"),
        ("Ünïcode", "ünïcode"),
    ],
)
def test_header_ids_are_gfms(heading: str, expected: str) -> None:
    assert gfm_id(heading) == expected


def test_repeated_headings_get_numbered_ids() -> None:
    html = kramdown_dialect("# Intro\n\n# Intro\n\n# Intro\n")
    assert re.findall(r'id="([^"]+)"', html) == ["intro", "intro-1", "intro-2"]


# --- what survives the sanitiser -------------------------------------------------------------------------------


def test_ids_and_languages_survive_the_sanitiser() -> None:
    html = sanitise(kramdown_dialect("# Title\n\nText.[^1]\n\n```python\nx = 1\n```\n\n[^1]: A note.\n"), BASE)
    assert '<h1 id="title">' in html and '<sup id="fnref:1">' in html and '<li id="fn:1">' in html
    assert '<code class="language-python">' in html
    assert 'href="https://example.org/post/#fn:1"' in html and 'href="https://example.org/post/#fnref:1"' in html


def test_table_alignment_survives_the_sanitiser() -> None:
    html = sanitise(kramdown_dialect("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n"), BASE)
    assert re.findall(r'<td align="(\w+)">', html) == ["left", "center", "right"]


@pytest.mark.parametrize(
    ("tag", "name", "value", "kept"),
    [
        ("h2", "id", "section-1", "section-1"),
        ("li", "id", "fn:note", "fn:note"),
        ("h2", "id", 'x" onmouseover="alert(1)', None),
        ("h2", "id", "two words", None),
        ("code", "class", "language-c++", "language-c++"),
        ("code", "class", "language-js evil-class", "language-js"),
        ("code", "class", "hljs", None),
        ("a", "href", "https://e.org/", "https://e.org/"),
    ],
)
def test_attribute_filter(tag: str, name: str, value: str, kept: str | None) -> None:
    assert keep_attribute(tag, name, value) == kept


def test_ids_on_other_elements_are_still_removed() -> None:
    html = sanitise('<p id="x" class="language-y">t</p><div id="d">u</div>', BASE)
    assert "id=" not in html and "class=" not in html


# --- robustness ------------------------------------------------------------------------------------------------

_LINES = st.sampled_from(
    [
        "", "text", "- item", "  - nested", "   1. three", "* star", "1. one", "    code", "  ```", "```", "~~~",
        "{: .x}", "{:ref: .y}", "# head", "#nohead", "| a | b |", "|---|", "> quote", "[^1]: note", "text[^1]",
        "{::comment}", "{:/comment}", "{:/}", "\t- tab", "-", "Term", ": definition",
        "*[ABBR]: x", "``` {: .z}", "a\\'b \\<c\\>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30))
def test_any_mix_of_constructs_renders_and_shows_no_attribute_list(lines: list[str]) -> None:
    """(Raw HTML and ``{::nomarkdown}`` are left out: inside them kramdown shows an attribute list as text too,
    e.g. ``{::nomarkdown}``/``{: .x}``/``{:/}`` gives ``{: .x}``, found by this test.)"""
    html = sanitise(kramdown_dialect("\n".join(lines) + "\n"), BASE)
    outside_code = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S)
    assert not re.search(r"\{:(?!/\}|/comment\}|:)", html_to_text(outside_code))


# --- configuration and the build -------------------------------------------------------------------------------


def test_config_names_every_dialect_the_renderer_has() -> None:
    assert tuple(DIALECTS) == MARKDOWN_DIALECTS


def test_markdown_key_is_validated(tmp_path: Path) -> None:
    assert parse_config({}, tmp_path).markdown == "markdown"
    assert parse_config({"build": {"markdown": "kramdown"}}, tmp_path).markdown == "kramdown"
    with pytest.raises(ConfigError, match=r"build\.markdown must be one of \['markdown', 'kramdown'\], got 'gfm'"):
        parse_config({"build": {"markdown": "gfm"}}, tmp_path)


def test_a_build_renders_in_the_configured_dialect_and_rerenders_when_it_changes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "p.md", {"title": "P", "date": "2024-01-01"}, "Steps:\n* a\n  * b\n")
    plain = run_build(site)
    config = site / "feedwright.toml"
    config.write_text(config.read_text(encoding="utf-8") + '[build]\nmarkdown = "kramdown"\n', encoding="utf-8")
    kramdown = run_build(site)  # same cache: the rendered HTML of the plain build must not be reused
    assert (site / "output" / "feed.json").read_bytes() == kramdown.files["feed.json"]
    assert b"<ul>\\n<li>b</li>\\n</ul>" in kramdown.files["feed.json"]
    assert plain.files["feed.json"] != kramdown.files["feed.json"]


# --- every corpus post against kramdown ------------------------------------------------------------------------


_HEADING_ID = re.compile(r'<h[1-6] id="([^"]*)"')


def _corpus_posts() -> list[Path]:
    return sorted(
        p
        for p in CORPORA.rglob("*")
        if p.suffix in (".md", ".markdown") and p.is_file() and p.read_bytes().lstrip(b"\xef\xbb\xbf")[:3] == b"---"
    )


def test_corpora_render_as_kramdown_does() -> None:
    """Summed over every post: <pre>, <li>, heading and table counts within 3 % of kramdown's, no ``{:`` and no
    backslash escape that kramdown would not show, and at most 3 % of posts whose words differ by more than 5 %."""
    reason = oracle.missing()
    if reason:
        pytest.skip(reason)
    if not CORPORA.is_dir():
        pytest.skip(f"{CORPORA} not found (the ../shared folder beside the repo is absent)")
    posts = _corpus_posts()
    texts = [oracle.body(p.read_text(encoding="utf-8")) for p in posts]
    theirs = [sanitise(html, BASE) for html in oracle.kramdown(texts)]
    ours = [sanitise(kramdown_dialect(text), BASE) for text in texts]
    totals = {"pre": [0, 0], "li": [0, 0], "headings": [0, 0], "tables": [0, 0], "images": [0, 0]}
    wordy, leaks, ids = [], [], []
    for path, a, b in zip(posts, theirs, ours, strict=True):
        if _HEADING_ID.findall(a) != _HEADING_ID.findall(b):
            ids.append(path.name)
        ma, mb = oracle.measure(a, html_to_text(a)), oracle.measure(b, html_to_text(b))
        for key, pair in totals.items():
            pair[0] += getattr(ma, key)
            pair[1] += getattr(mb, key)
        if oracle.word_difference(ma.words, mb.words) > 0.05:
            wordy.append(path.name)
        if oracle.syntax_shown(b) > oracle.syntax_shown(a):
            leaks.append(path.name)
    for key, (a, b) in totals.items():
        print(f"{key:9} kramdown {a:6}  ours {b:6}  {100 * (b - a) / max(a, 1):+.1f} %")
    print(
        f"{len(posts)} posts; words differ by more than 5 % in {len(wordy)}; kramdown syntax shown in {len(leaks)};"
        f" heading ids differ in {len(ids)}"
    )
    assert len(posts) > 1000
    for key in ("pre", "li", "headings", "tables"):
        a, b = totals[key]
        assert abs(b - a) <= 0.03 * a, key
    assert not leaks
    assert len(wordy) <= 0.03 * len(posts), wordy
    assert not ids  # links to a post's sections (#heading-id) work as on the site


@given(st.text(st.sampled_from("ab |:-=\t+#*"), max_size=40))
def test_a_table_row_without_code_or_escapes_splits_at_every_bar(line: str) -> None:
    """tables.cells' fast path (``str.split``) is what its scan for code spans and escapes gives such a row."""
    from feedwright.pipeline.markdown.tables import _split

    assert _split(line) == (line.split("|") if "|" in line else None)
