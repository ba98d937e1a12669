"""Unit tests for feedwright.pipeline.text: XML-safe strings, white space, HTML to text, summaries and slugs."""

from __future__ import annotations

import html
import re
import sys
import unicodedata

import nh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.pipeline.text import SUMMARY_LENGTH, html_to_text, short_hash, slugify, squash, truncate, xml_safe

# The characters XML 1.0 allows (production [2] Char); anything else in a feed is a well-formedness error.
_XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")

# Plain characters plus the ones hypothesis leaves out by default: lone surrogates, U+FFFE/U+FFFF, C0 controls.
_ANY_CHAR = st.one_of(
    st.characters(),
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\ufffe", "\uffff", "\x00", "\x07", "\x1f", "\x7f"]),
)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


# --- xml_safe --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ch", [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"])
def test_xml_safe_drops_c0_controls(ch: str) -> None:
    assert xml_safe(f"a{ch}b") == "ab"


def test_xml_safe_keeps_tab_newline_and_carriage_return() -> None:
    assert xml_safe("a\tb\nc\rd") == "a\tb\nc\rd"


@pytest.mark.parametrize("ch", ["\ud800", "\udfff", "\ufffe", "\uffff"])
def test_xml_safe_drops_surrogates_and_non_characters(ch: str) -> None:
    assert xml_safe(f"x{ch}y") == "xy"


def test_xml_safe_keeps_korean_emoji_and_replacement_character() -> None:
    text = "디지털 성범죄 👩‍💻 café \ufffd \U0010ffff"
    assert xml_safe(text) == text


# --- squash ----------------------------------------------------------------------------------------------------


def test_squash_collapses_every_kind_of_white_space() -> None:
    assert squash("  a \t\n b\u00a0\u3000c  ") == "a b c"


def test_squash_of_blank_is_empty() -> None:
    assert squash(" \n\t ") == ""


_WHITE = st.sampled_from([chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()] + ["\u200b", "\ufeff"])


@given(st.text(st.one_of(_ANY_CHAR, _WHITE), max_size=80))
def test_squash_is_the_regular_expression_it_replaced(text: str) -> None:
    assert squash(text) == re.sub(r"\s+", " ", xml_safe(text)).strip()


# Each of squash's short ways (printable; printable once the ends are stripped; printable once folded) and what
# must send a text past them (white space or other characters that XML forbids, at the ends or inside).
_SQUASH_PIECES = st.sampled_from(
    ["a", "b", " ", "  ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x00", "\x07", "\ud800", "\ufffe",
     "\xa0", "\u2028", "\u3000", "\x85", "\u200b", "한"]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_SQUASH_PIECES, max_size=10).map("".join))
def test_squash_short_ways_are_the_regular_expression(text: str) -> None:
    assert squash(text) == re.sub(r"\s+", " ", xml_safe(text)).strip()


# --- html_to_text ----------------------------------------------------------------------------------------------


def test_html_to_text_drops_tags_and_collapses_space() -> None:
    assert html_to_text("<p>Hello <b>bold</b>\n<i>world</i></p>") == "Hello bold world"


def test_html_to_text_decodes_entities() -> None:
    assert html_to_text("Tom &amp; Jerry &lt;3 &#xD55C;&#44544; &eacute;") == "Tom & Jerry <3 한글 é"


def test_html_to_text_drops_script_and_style_content() -> None:
    text = html_to_text("<p>before</p><script>alert('x')</script><style>p{color:red}</style><p>after</p>")
    assert "alert" not in text and "color" not in text
    assert text.startswith("before") and text.endswith("after")


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("line one<br>line two", "line one line two"),
        ("서울특별시<BR/>중구", "서울특별시 중구"),
        ("<p>First.</p><p>Second.</p>", "First. Second."),
        ("<ul><li>a</li><li>b</li></ul>", "a b"),
        ("<h2>Title</h2><div>body</div>", "Title body"),
        ("<b>Hel</b>lo <i>wor</i>ld", "Hello world"),
    ],
)
def test_html_to_text_separates_blocks_but_not_inline_tags(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text


@settings(max_examples=600, deadline=None)
@given(st.text(st.one_of(_ANY_CHAR, st.sampled_from(" \t\r\n\x0c\x0b\xa0\u2028\u3000>\"'=/;#")), max_size=60))
def test_html_to_text_of_text_without_markup_is_what_the_html_parser_gives(text: str) -> None:
    # html_to_text skips the parser when there is no "<" and no "&": that must give what the parser gives.
    # (Decoded UTF-8 holds no lone surrogate, and nh3 cannot take one.)
    text = "".join(ch for ch in text if not "\ud800" <= ch <= "\udfff").replace("<", "").replace("&", "")
    assert html_to_text(text) == squash(html.unescape(nh3.clean(text, tags=set())))


def test_html_to_text_keeps_a_bare_less_than_as_text() -> None:
    assert html_to_text("a < b and c > d") == "a < b and c > d"


# --- truncate --------------------------------------------------------------------------------------------------


def test_truncate_leaves_short_text_alone() -> None:
    text = "가" * SUMMARY_LENGTH
    assert truncate(text) == text


def test_truncate_english_cuts_on_a_space() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    out = truncate(text)
    assert out.endswith("…")
    assert len(out) <= SUMMARY_LENGTH + 1
    kept = out[:-1]
    assert text.startswith(kept)
    # Whole words only: the next character of the original is the space the cut landed on.
    assert text[len(kept)] == " "
    assert len(kept) > SUMMARY_LENGTH - 60


def test_truncate_korean_cuts_on_a_space() -> None:
    text = "디지털 성범죄 피해자 지원 센터가 문을 열었다 " * 40
    out = truncate(text)
    kept = out[:-1]
    assert out.endswith("…") and len(out) <= SUMMARY_LENGTH + 1
    assert text.startswith(kept)
    assert text[len(kept)] == " "
    assert kept.split()[-1] in text.split()


@pytest.mark.parametrize("text", ["中文没有空格的句子" * 60, "日本語のテキストにはスペースがありません" * 30])
def test_truncate_cjk_without_spaces_cuts_at_the_limit(text: str) -> None:
    out = truncate(text)
    assert out == text[:SUMMARY_LENGTH] + "…"


def test_truncate_never_orphans_a_combining_accent() -> None:
    # "é" written as e + U+0301: the mark must never start the cut-off part or end the kept one alone.
    text = "e\u0301" * 400
    for limit in (299, 300, 301):
        out = truncate(text, limit)
        kept = out[:-1]
        assert out.endswith("…")
        assert len(out) <= limit + 1
        assert kept == "e\u0301" * (len(kept) // 2)
        assert not _is_mark(text[len(kept)])


def test_truncate_never_orphans_a_thai_vowel_mark() -> None:
    # U+0E31 is a non-spacing mark with combining class 0: it still belongs to the consonant before it.
    text = "ก" + "กั" * 400
    for limit in (299, 300):
        kept = truncate(text, limit)[:-1]
        assert text.startswith(kept)
        assert not _is_mark(text[len(kept)]), limit


def test_truncate_trims_trailing_punctuation_before_the_ellipsis() -> None:
    text = ("abc, " * 100).strip()
    out = truncate(text)
    assert not out[:-1].endswith((",", " "))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ANY_CHAR, max_size=600), st.integers(min_value=1, max_value=400))
def test_truncate_length_never_exceeds_limit_plus_ellipsis(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit + 1
    if len(text) > limit:
        assert out.endswith("…")
        assert text.startswith(out[:-1])
    else:
        assert out == text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "b", " ", "\u0301", "\u0e31", "\u0e01", "中"]), max_size=500))
def test_truncate_property_cut_is_never_before_a_mark(text: str) -> None:
    out = truncate(text)
    if len(text) > SUMMARY_LENGTH:
        kept = out[:-1]
        assert not _is_mark(text[len(kept)])


# --- slugify ---------------------------------------------------------------------------------------------------


def test_slugify_korean_keeps_letters_and_joins_words_with_a_hyphen() -> None:
    assert slugify("디지털 성범죄") == "디지털-성범죄"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Open Standards", "open-standards"),
        ("  C++ & Rust!  ", "c-rust"),
        ("News/Politics", "news-politics"),
        ("a\\b", "a-b"),
        ("ＦＵＬＬ　ＷＩＤＴＨ", "full-width"),
        ("Café", "café"),
        ("2024", "2024"),
    ],
)
def test_slugify_examples(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slugify_is_lower_case() -> None:
    assert slugify("NEWS") == slugify("news") == "news"


@pytest.mark.parametrize("name", ["", " ", ".", "..", "/", "\\", "../..", "!!!", "🎉"])
def test_slugify_is_never_empty_or_a_dot_name(name: str) -> None:
    slug = slugify(name)
    assert slug and slug not in (".", "..")
    assert "/" not in slug and "\\" not in slug


def test_slugify_punctuation_only_names_get_distinct_stable_slugs() -> None:
    assert slugify("!!!") == slugify("!!!")
    assert slugify("!!!") != slugify("???")


@pytest.mark.parametrize("name", ["CON", "con", "Nul", "aux", "PRN", "COM1", "lpt9", "com¹"])
def test_slugify_changes_windows_device_names(name: str) -> None:
    slug = slugify(name)
    assert slug.lower() not in {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                                *(f"lpt{i}" for i in range(10))}
    assert slug.startswith(unicodedata.normalize("NFKC", name).lower())


def test_slugify_caps_the_length() -> None:
    slug = slugify("word " * 100)
    assert 0 < len(slug) <= 80
    assert not slug.endswith("-")


def test_slugify_fits_a_file_name_even_with_four_byte_letters() -> None:
    # CJK extension B letters take four UTF-8 bytes; a folder name may hold at most 255 bytes, and a
    # disambiguating suffix ("-" and six hex digits) may still be added to it.
    slug = slugify("𠀀" * 200)
    assert slug
    assert len((slug + "-abcdef").encode("utf-8")) <= 255


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ANY_CHAR, max_size=200))
def test_slugify_property_path_safe_and_stable(name: str) -> None:
    slug = slugify(name)
    assert slug
    assert "/" not in slug and "\\" not in slug
    assert slug not in (".", "..")
    assert slug == slugify(name)
    assert slug == slug.lower()
    assert len(slug.encode("utf-8")) <= 255


def test_short_hash_is_six_hex_digits_and_tells_names_apart() -> None:
    assert re.fullmatch("[0-9a-f]{6}", short_hash("News"))
    assert short_hash("News") != short_hash("news")
    assert short_hash("\ud800") == short_hash("\ud800")


# --- xml_safe properties -----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ANY_CHAR, max_size=200))
def test_xml_safe_property_output_is_legal_and_idempotent(text: str) -> None:
    out = xml_safe(text)
    assert _XML_CHAR.fullmatch(out)
    assert xml_safe(out) == out


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), max_size=200))
def test_xml_safe_property_keeps_legal_text_unchanged(text: str) -> None:
    assert xml_safe(text) == text
