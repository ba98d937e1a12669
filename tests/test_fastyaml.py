"""The fast path for common front matter (``pipeline/fastyaml.py``) against the full loader it stands in for.

For every front matter of both corpora, the seed post, the test fixtures, the benchmark generator's posts and
hypothesis-generated ones (inside the shape it reads and near its edges), the fast path gives exactly what the
full loader gives (same types, values and key order) or declines (None); it never accepts what the loader
rejects.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import REPO
from feedwright.pipeline import fastyaml, frontmatter

CORPORA = Path("/work/shared/corpora")
SEED = Path("/work/shared/seed")


def _fast() -> fastyaml.Reader:
    return fastyaml.Reader(frontmatter.loader())


# One reader for every example, as in a build: what it remembers of lines seen before is under test too.
SHARED = _fast()


def _typed(value: Any) -> Any:
    """A value with every type spelled out, so that ``1 == 1.0 == True`` and naive/aware datetimes differ."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    if isinstance(value, date):
        return ("date", value.isoformat())
    return (type(value).__name__, value)


def _full(fm: str) -> Any:
    """What the loader gives, or the exception it raises."""
    try:
        return yaml.load(fm, Loader=frontmatter.loader())  # noqa: S506 - the safe loader
    except Exception as exc:  # noqa: BLE001 - any failure is a verdict the fast path must not contradict
        return exc


def _agrees(fm: str, reader: fastyaml.Reader | None = None) -> bool:
    """True when the fast path read ``fm`` (and gave the loader's result); False when it declined."""
    fast = (reader or SHARED).load(fm)
    if fast is None:
        return False
    full = _full(fm)
    assert not isinstance(full, Exception), f"fast path accepted what the loader rejects ({full}): {fm!r}"
    assert _typed(fast) == _typed(full), fm
    return True


def _front_matters(paths: list[Path]) -> list[tuple[str, str]]:
    handler = frontmatter._handlers()[0][0]
    found = []
    for path in paths:
        try:
            text = frontmatter.decode(path.read_bytes())
        except Exception:  # noqa: BLE001 - not UTF-8 (hostile fixtures): not front matter to compare
            continue
        if handler.detect(text):
            try:
                found.append((str(path), handler.split(text)[0]))
            except ValueError:
                continue
    return found


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".md", ".markdown", ".html", ".htm"))


@pytest.mark.skipif(not CORPORA.is_dir(), reason="the shared corpora (/work/shared/corpora) are not on this machine")
def test_every_corpus_front_matter_is_read_as_the_loader_reads_it_or_declined() -> None:
    found = _front_matters(_files(CORPORA))
    assert len(found) > 1000
    reader = _fast()
    taken = sum(_agrees(fm, reader) for _, fm in found)
    assert taken > 100  # the shape is common in real posts too (made-mistakes' image: mappings are declined)


def test_fixtures_and_seed_front_matter_is_read_as_the_loader_reads_it_or_declined() -> None:
    paths = _files(REPO / "tests") + (_files(SEED) if SEED.is_dir() else [])
    found = _front_matters(paths)
    assert len(found) > 50
    reader = _fast()
    taken = sum(_agrees(fm, reader) for _, fm in found)
    assert taken > len(found) // 3


def test_the_generated_posts_take_the_fast_path() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    handler = frontmatter._handlers()[0][0]
    reader = _fast()
    for n in range(400):
        fm = handler.split(generate.post(n, 10_000)[1])[0]
        assert _agrees(fm, reader), fm


# --- generated front matter, inside the shape and near its edges --------------------------------------------

KEYS = st.one_of(
    st.sampled_from([
        "title", "date", "tags", "categories", "excerpt", "author", "image", "draft", "k", "_k", "key-1", "a_b",
        "y", "n", "yes", "No", "on", "OFF", "true", "null", "Null", "~", "1", "1.5", "<<", "=", "? k", "-k", "k:",
        "a b", "키", "clé", "x" * 30, "&a k", "*a", "!k", "'k'", '"k"', "k#", "#k", "[k]", "{k}", "%k", "@k",
    ]),
    st.text(st.sampled_from("abyN1_-. :#'\""), min_size=1, max_size=6),
)
WORDS = st.sampled_from([
    "yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "NULL", "", "0", "-1", "+1", "1_000",
    "0o17", "017", "0x1F", "0b101", "1:30", "190:20:30", "1e3", "1.5", "-.5", "1.5e+3", ".inf", "-.Inf", ".NaN",
    "1,000", "2024-01-02", "2024-1-2", "2024-13-45", "2024-02-30", "2024-06-26 11:30:00 +0900",
    "2024-06-26T11:30:00Z", "2024-06-26 11:30:00.5 -05:30", "2024-06-26t11:30:00", "2024-06-26 11:30",
    "9999-12-31 23:59:59 -12:00", "=", "<<", "a", "Jane Doe", "C#", "a #b", "a: b", "a:b", "http://x.org/a?b=1#c",
    "/images/a.jpg", "100%", "-", "- a", "?", "? a", ":", ": a", "a:", "[a]", "{a: 1}", "&x a", "*x", "!!str 1",
    "!!int 1", "|", ">", ">-", "|+", "@a", "`a", "%a", "'a'", '"a"', "'", '"', "a'b", 'a"b', "a\\nb", "\\",
    "a  b", "a\tb", "\ta", "a ", " a", "한국어 제목", "émoji 🎉", "\u2028", "\x85", "\ufeff", "\x7f", "\xa0a\xa0",
    "a,b", "a]", "a}", "a{b}", "a[b]", "#", "a#", "...", "---", "a ...",
])
TEXT = st.text(st.sampled_from("ab 1-:#,'\"[]{}&*!|>%@`?\\.~\t\xa0한"), max_size=8)
SCALAR_TEXT = st.one_of(WORDS, TEXT)


@st.composite
def _scalars(draw: st.DrawFn) -> str:
    text = draw(SCALAR_TEXT)
    quote = draw(st.sampled_from(["", "", '"', "'"]))
    if quote == "'":
        text = text.replace("'", draw(st.sampled_from(["''", "'"])))
    return f"{quote}{text}{quote}{draw(st.sampled_from(['', '', ' ', '  ', ' # c']))}"


@st.composite
def _entries(draw: st.DrawFn) -> str:
    key = draw(KEYS)
    colon = draw(st.sampled_from([": ", ": ", ":", ":  ", " : ", ":\t"]))
    shape = draw(st.sampled_from(["scalar", "scalar", "block", "flow", "text", "null", "nested"]))
    if shape == "scalar":
        return f"{key}{colon}{draw(_scalars())}"
    if shape == "null":
        return f"{key}:{draw(st.sampled_from(['', ' ', ' ~', ' # c']))}"
    if shape == "flow":
        items = draw(st.lists(_scalars(), max_size=4))
        inner = draw(st.sampled_from([",", ", ", " , ", ",,"])).join(items)
        close = draw(st.sampled_from(["]", "]", ",]", " ]", "] ", "]x"]))
        return f"{key}{colon}[{inner}{close}"
    if shape == "block":
        indent = draw(st.sampled_from(["", "  ", "  ", "    ", " "]))
        items = draw(st.lists(_scalars(), min_size=1, max_size=4))
        lines = [f"{indent}{draw(st.sampled_from(['- ', '- ', '-  ', '-', ' - ']))}{item}" for item in items]
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "# c", "  more"])))
        return f"{key}:\n" + "\n".join(lines)
    if shape == "text":
        header = draw(st.sampled_from([">", "|", ">-", "|-", "|+", ">2", "> # c", ">  "]))
        indent = draw(st.sampled_from(["  ", "  ", " ", "    "]))
        lines = [draw(st.sampled_from(["", "", " ", "  "])) + draw(SCALAR_TEXT) for _ in range(draw(st.integers(1, 3)))]
        body = [f"{indent}{line}" if line or draw(st.booleans()) else "" for line in lines]
        if draw(st.booleans()):
            body.append(draw(st.sampled_from(["", "", "   ", " x"])))
        return f"{key}{colon}{header}\n" + "\n".join(body)
    return f"{key}:\n  {draw(KEYS)}: {draw(_scalars())}"


# Inside the shape, with now and then one thing at its edge (an indentation, a blank line, a typed word).
CLEAN_WORDS = st.one_of(
    st.sampled_from([
        "News", "Jane Doe", "한국어 제목", "a/b.jpg", "/images/photo-1.jpg", "http://x.org/a?b=1", "C#", "a:b",
        "2024-01-02", "2024-06-26 11:30:00 +0900", "2024-06-26 11:30:00 +09:00", "2024-06-26T11:30:00Z",
        "yes", "No", "~", "null", "1", "1.5", "0x1F", "1:30", "tag001", "x-y", "a. b", "a ... b", "a - b",
    ]),
    st.text(st.sampled_from("ab Z1.-/한"), min_size=1, max_size=10).map(str.strip).filter(bool),
)
EDGE = st.sampled_from(["", "", "", "", "", "", "", "", " ", "  "])


@st.composite
def _clean_scalars(draw: st.DrawFn) -> str:
    text = draw(CLEAN_WORDS)
    quote = draw(st.sampled_from(["", "", '"', "'"]))
    if quote:
        text += draw(st.sampled_from(["", "", " # not a comment", ": x", ", y", "[z]", "'s"]))
        text = text.replace("'", "''") if quote == "'" else text
    return f"{quote}{text}{quote}{draw(EDGE)}"


@st.composite
def _clean_entries(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(["title", "date", "tags", "categories", "excerpt", "author", "k", "x_y", "a-b", "키"]))
    shape = draw(st.sampled_from(["scalar", "scalar", "block", "flow", "text", "null"]))
    if shape == "scalar":
        return f"{key}:{draw(st.sampled_from([' ', ' ', '  ']))}{draw(_clean_scalars())}"
    if shape == "null":
        return f"{key}:{draw(EDGE)}"
    if shape == "flow":
        items = draw(st.lists(_clean_scalars(), max_size=4))
        return f"{key}: [{draw(st.sampled_from([', ', ',', ' , ']))}".join(items) + "]" if items else f"{key}: []"
    if shape == "block":
        indent = draw(st.sampled_from(["", "  ", "    "]))
        lines = [f"{indent}{draw(EDGE)}- {item}" for item in draw(st.lists(_clean_scalars(), min_size=1, max_size=4))]
        if draw(st.integers(0, 4)) == 0:
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", indent + "  more"])))
        return f"{key}:\n" + "\n".join(lines)
    indent = draw(st.sampled_from(["  ", "    "]))
    lines = [f"{indent}{draw(EDGE)}{draw(CLEAN_WORDS)}{draw(EDGE)}" for _ in range(draw(st.integers(1, 3)))]
    if draw(st.integers(0, 4)) == 0:
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", indent])))
    return f"{key}: {draw(st.sampled_from(['>', '|', '>-', '|-']))}\n" + "\n".join(lines)


CLEAN_FRONT_MATTER = st.builds(
    lambda entries, tail: "\n" + "\n".join(entries) + tail,
    st.lists(_clean_entries(), min_size=1, max_size=8),
    st.sampled_from(["\n", "\n", "\n\n"]),
)

FRONT_MATTER = st.builds(
    lambda head, entries, tail: head + "\n".join(entries) + tail,
    st.sampled_from(["\n", "\n", "", "\n\n", " \n"]),
    st.lists(_entries(), max_size=6),
    st.sampled_from(["\n", "\n", "", "\n\n", "\n# c\n", "\n  \n"]),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRONT_MATTER)
@example("\ntitle: A\ntags: [a, b]\ncategories:\n  - News\nexcerpt: >\n  One line.\n  Two.\n\ndate: 2024-01-02\n")
@example("\nk: |-\n  a\n  b\nj: 1\n")
@example("\nyes: 1\n")
@example("\ntitle: >\n  yes")
@example("\nk: 1:30\nj: 0o17\nm: .nan\n")
def test_generated_front_matter_is_read_as_the_loader_reads_it_or_declined(fm: str) -> None:
    _agrees(fm)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CLEAN_FRONT_MATTER)
@example("\nk:\n  - a\n   - b\n")
@example("\nk:\n  - a\n - b\n")
def test_front_matter_of_the_common_shape_is_read_as_the_loader_reads_it(fm: str) -> None:
    _agrees(fm)


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("ab1 :-#,'\"[]{}&*!|>%@`?\\.~\n\t"), max_size=40))
def test_arbitrary_text_is_read_as_the_loader_reads_it_or_declined(fm: str) -> None:
    _agrees(fm)


# Items of a flow sequence without quotes, brackets, braces, '#' or ':' (read without a regular expression per item),
# empty ones and indicators among them.
PLAIN_ITEMS = st.one_of(WORDS, st.text(st.sampled_from("ab 1-.~?!|>%@`&*=<\xa0한"), max_size=6)).filter(
    lambda text: not set(text) & set("[]{}#:'\"\n\t,")
)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(PLAIN_ITEMS, max_size=5),
    st.sampled_from([",", ", ", " ,", " , ", ",  ", ",,"]),
    st.sampled_from(["", " "]),
)
@example(["tag131", "tag090", "tag142"], ", ", "")
def test_flow_sequences_of_plain_items_are_read_as_the_loader_reads_them_or_declined(
    items: list[str], comma: str, pad: str
) -> None:
    _agrees(f"\nk: [{pad}{comma.join(items)}{pad}]\n")


@pytest.mark.parametrize("fm", [
    "\ntitle: A\n",
    "\ntitle: \"A # b\"\ndate: 2024-01-02 10:00:00 +0900\n",
    "\ntags: [a, 'b c', \"d\"]\n",
    "\ntags: [tag131, tag090 ,  a b , yes, 1.5, ~]\n",
    "\ncategories:\n- a\n- b\nnext: 1\n",
    "\nexcerpt: >\n  one\n  two\n",
    "\ndraft: yes\nweight: 0x1F\nempty:\n",
    "\nimage: \n  path: &image /assets/a.jpg \n  width: 1280\n  feature: *image\ncategories: [a]\n",
    "\nheader:\n  teaser: x.jpg\n\n  overlay_filter: 0.5\nnext: 1\n",
])
def test_the_common_shapes_are_taken(fm: str) -> None:
    assert _agrees(fm)


@pytest.mark.parametrize("fm", [
    "\nimage:\n  path:\n    deeper: a\n",  # a mapping two levels down
    "\nimage:\n  path: &i /a.jpg\n  feature: *j\n",  # an alias of no anchor
    "\nimage:\n  path: &i /a.jpg\n  feature: &i /b.jpg\n",  # the same anchor twice
    "\ntitle: &t A\n",  # an anchor outside a nested mapping
    "\nimage:\n  path: a\n    more: b\n",  # indented otherwise
    "\ntitle: A # comment\n",
    "\ntitle: a\n  continued\n",
    "\ntitle: \"a\\tb\"\n",
    "\ntitle: a\ntitle: b\n",
    "\n<<: {a: 1}\n",
    "\ntitle: !!str 1\n",
    "\nexcerpt: >\n  one\n\n  two\n",
    "\ntitle:\ta\n",
])
def test_what_is_not_the_common_shape_is_declined(fm: str) -> None:
    assert SHARED.load(fm) is None


def test_every_character_the_checks_look_for_is_unprintable() -> None:
    # fastyaml.load and frontmatter.front_matter skip their regular expressions when str.isprintable() vouches for
    # the text (line feeds aside): that is exact only if no printable character is one they look for.
    printable_but_odd = [
        hex(code) for code in range(0x110000)
        if chr(code) != "\n" and chr(code).isprintable()
        and (fastyaml._ODD.match(chr(code)) or frontmatter._UNCLEAN.match(chr(code)))
    ]
    assert printable_but_odd == []


# --- mappings one level down, with anchors and aliases (themes' image: and header:) ---------------------------


@st.composite
def _nested_entries(draw: st.DrawFn) -> str:
    """A mapping one level down of the shape the fast path reads, or with one line at its edge in one way."""
    anchors: list[str] = []
    lines = []
    indent = draw(st.sampled_from(["  ", "  ", "    ", " "]))
    count = draw(st.integers(1, 5))
    edge_at = draw(st.integers(0, 2 * count))  # one line at the edge, or none
    for n in range(count):
        edge = draw(st.sampled_from(["key", "anchor", "alias", "value", "indent", "line"])) if n == edge_at else ""
        key = draw(st.sampled_from(["path", "feature", "width", "teaser", "image", "k-1", "x"]))
        if edge == "key":
            key = draw(st.sampled_from(["y", "1", "a b", "path", "<<", "-k"]))
        kind = draw(st.sampled_from(["scalar", "anchor", "alias"]))
        if kind == "anchor" or edge == "anchor":
            name = draw(st.sampled_from(["image", "i", "a-1", "x_2"]))
            if edge == "anchor":
                name = draw(st.sampled_from(["x y", "", "é", "i]", "image"]))
            value = f"&{name}{draw(st.sampled_from([' ', ' ', '  ']))}{draw(_clean_scalars())}"
            anchors.append(name)
        elif kind == "alias" or edge == "alias":
            tail = draw(st.sampled_from(["", " ", " x", ","])) if edge == "alias" else ""
            value = f"*{draw(st.sampled_from(anchors or ['image']))}{tail}"
        else:
            value = draw(_clean_scalars())
        if edge == "value":
            value = draw(st.sampled_from(["", "[a, b]", ">", "|-", "{a: 1}", "- a", "&", "*", "a # c", "!!str a"]))
        at = draw(st.sampled_from(["", " ", "   ", "      "])) if edge == "indent" else indent
        lines.append(f"{at}{key}:{draw(st.sampled_from([' ', ' ', '  ']))}{value}")
        if edge == "line":
            lines.append(draw(st.sampled_from(["", "  ", indent + "- a", indent + "more", indent + "  more: b"])))
    return f"{draw(st.sampled_from(['image', 'header', 'k']))}:{draw(st.sampled_from(['', ' ']))}\n" + "\n".join(lines)


NESTED_FRONT_MATTER = st.builds(
    lambda entries, tail: "\n" + "\n".join(entries) + tail,
    st.lists(st.one_of(_nested_entries(), _clean_entries()), min_size=1, max_size=5),
    st.sampled_from(["\n", "\n", "\n\n"]),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NESTED_FRONT_MATTER)
@example("\nimage:\n  path: &image /a.jpg\n  feature: *image\n  thumbnail: /b.jpg\n")
def test_nested_mappings_with_anchors_are_read_as_the_loader_reads_them_or_declined(fm: str) -> None:
    _agrees(fm)


# --- the full loader remembers what each plain scalar resolves to (frontmatter.loader) ------------------------


class _Unremembering(frontmatter.loader()):  # type: ignore[misc]
    """The loader with PyYAML's own resolve (the implicit resolvers tried for every scalar)."""

    resolve = yaml.resolver.BaseResolver.resolve


def _loaded(fm: str, loader: type) -> Any:
    try:
        return _typed(yaml.load(fm, Loader=loader))  # noqa: S506 - the safe loader
    except Exception as exc:  # noqa: BLE001 - the same failure, in the same words
        return type(exc).__name__, str(exc)


@pytest.mark.skipif(not CORPORA.is_dir(), reason="the shared corpora (/work/shared/corpora) are not on this machine")
def test_the_loader_resolves_every_corpus_front_matter_as_pyyaml_does() -> None:
    found = _front_matters(_files(CORPORA))
    for _, fm in found + found:  # the second time from what it remembers
        assert _loaded(fm, frontmatter.loader()) == _loaded(fm, _Unremembering), fm


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRONT_MATTER)
def test_the_loader_resolves_generated_front_matter_as_pyyaml_does(fm: str) -> None:
    for _ in range(2):
        assert _loaded(fm, frontmatter.loader()) == _loaded(fm, _Unremembering), fm


# --- the short ways inside the fast path, each against the long way it stands for ----------------------------

_DOUBLE = re.compile(r'"([^"\\]*)"')
_SINGLE = re.compile(r"'((?:[^']|'')*)'")


def _scalar_verdict(reader: fastyaml.Reader, text: str) -> Any:
    try:
        return reader._scalar(text)
    except fastyaml._Declined:
        return "declined"


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from("\"'"), st.text(st.sampled_from("ab '\"\\한"), max_size=8), st.sampled_from(["", "\"", "'"]))
def test_quoted_scalars_are_read_as_the_regular_expressions_read_them(quote: str, inner: str, end: str) -> None:
    text = (quote + inner + end).rstrip(" ")
    if not text:
        return
    m = (_DOUBLE if quote == '"' else _SINGLE).fullmatch(text)
    expected = "declined" if m is None else m.group(1) if quote == '"' else m.group(1).replace("''", "'")
    assert _scalar_verdict(SHARED, text) == expected


def test_only_the_spaced_resolvers_can_match_a_space() -> None:
    for rows in frontmatter.loader().yaml_implicit_resolvers.values():
        for tag, regexp in rows:
            assert regexp.flags & re.VERBOSE or " " not in regexp.pattern
            if tag not in fastyaml._SPACED_TAGS:  # verbose: a space matches only inside a character class
                assert not re.search(r"\[[^\]]*( |\\s|\\t)", regexp.pattern), tag


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("0123456789 -:.+Tt\tZe_x~"), min_size=1, max_size=30).map(lambda t: t.lstrip(" ")))
@example("2024-06-26 11:30:00 +0900")
@example("2024-06-26 11:30:00 +09:00")
@example("2024-06-26 11:30:00 +0000")
@example("2024-06-26 11:30:00 -0000")
@example("2024-06-26 11:30:00.5 +0900")
@example("2024-06-26 11:30 +0900")
@example("2024-06-26 1:30:00 +09")
@example("2024-6-26 11:30:00 +0:00")
@example("a +१२३४")
def test_a_plain_scalar_is_resolved_as_the_loader_resolves_it(text: str) -> None:
    expected = yaml.resolver.BaseResolver.resolve(frontmatter.loader(), yaml.ScalarNode, text, (True, False))
    assert _fast()._resolve(text) == expected


def test_a_remembered_flow_sequence_is_a_new_list_each_time() -> None:
    reader = _fast()
    fm = "\ntags: [a, b]\ncategories:\n  - News\n"
    first = reader.load(fm)
    assert first is not None
    first["tags"].append("x")
    first["categories"].append("y")
    assert reader.load(fm) == {"tags": ["a", "b"], "categories": ["News"]}
