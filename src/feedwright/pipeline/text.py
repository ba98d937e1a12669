"""Small text helpers shared by the pipeline: XML-safe strings, slugs, plain-text summaries."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

import nh3

# XML 1.0 allows only these code points; feedgen raises on the rest and readers choke on them.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The white space str.split() cuts at that XML forbids (every other character XML forbids is not printable).
_ILLEGAL_SPACE = re.compile("[\x0b\x0c\x1c-\x1f]")
# Line breaks and block boundaries separate words: "a<br>b" and "<p>a</p><p>b</p>" are "a b", not "ab".
_BREAK = re.compile(
    r"<(?=/?(?:br|p|div|li|dt|dd|h[1-6]|tr|td|th|caption|blockquote|pre|hr|table|ul|ol|dl|figure|figcaption"
    r"|section|article|header|footer|aside|nav|details|summary)\b)",
    re.I,
)

# Deeper nesting is an attack or a broken export, not an article: such HTML is shown as plain text (too_deep).
MAX_HTML_DEPTH = 512
_TAG_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")  # [^<>]: linear even on "<a<a<a..."
# Void elements, and elements whose end tag may be left out (the parser closes them itself).
_NO_DEPTH = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
    "caption", "rb", "rt", "rtc", "rp", "html", "head", "body",
}

SUMMARY_LENGTH = 300
# A cut may back up this far to land on a space; CJK text without spaces is cut at the limit instead.
_WORD_SLACK = 60
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_SLUG_MAX = 80
_SLUG_MAX_BYTES = 200


def xml_safe(text: str) -> str:
    """Drop every character XML 1.0 forbids (C0 controls, lone surrogates, U+FFFE/U+FFFF)."""
    if text.isprintable():  # none of them is printable: the common case, without a regular expression
        return text
    return _XML_ILLEGAL.sub("", text)


def squash(text: str) -> str:
    """Collapse runs of white space to single spaces and trim the ends; drop what XML forbids.

    Front matter is checked with :func:`xml_safe` as raw text, but YAML escapes (``"\\a"``, ``"\\x07"``) bring
    control characters back, and they would make feedgen raise.
    """
    if text.isprintable():  # no white space but U+0020, nothing XML forbids (xml_safe would give it back)
        return text.strip() if "  " not in text else " ".join(text.split())
    stripped = text.strip()  # white space at the ends goes either way, whatever it is (a block scalar's line feed)
    if stripped.isprintable():
        return stripped if "  " not in stripped else " ".join(stripped.split())
    squashed = " ".join(text.split())
    # Printable once the white space is folded (a folded YAML excerpt's line feeds), and none of that white space
    # is a character XML forbids: xml_safe would have given the text back as it is.
    if squashed.isprintable() and not _ILLEGAL_SPACE.search(text):
        return squashed
    # str.split() cuts at runs of what re's \s matches (both are Py_UNICODE_ISSPACE) and drops the ends: a third
    # of the time of re.sub(r"\s+", " ") and strip (tests/test_text.py compares them).
    return " ".join(xml_safe(text).split())


def too_deep(fragment: str, limit: int = MAX_HTML_DEPTH) -> bool:
    """Whether ``fragment`` may open more than ``limit`` elements inside one another.

    An upper bound counted in one linear pass (start tags minus end tags; void elements and those whose end tag
    is optional do not count), for guarding the HTML parser: html5ever, inside nh3, walks its stack of open
    elements on many tags, so its time grows with the square of the depth (40,000 nested ``<div>`` take seconds).
    """
    if fragment.count("<") <= limit:  # the common case, at the speed of a byte count
        return False
    depth = 0
    for m in _TAG_TOKEN.finditer(fragment):
        closing, name = m.group(1), m.group(2).lower()
        if name in _NO_DEPTH or m.group(0).endswith("/>"):
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > limit:
                return True
    return False


def strip_tags(fragment: str) -> str:
    """Plain text of HTML without parsing it (for input too deep to parse): tags cut out, entities decoded."""
    return squash(html.unescape(_TAG_TOKEN.sub(" ", fragment)))


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, white space collapsed."""
    if "<" not in fragment and "&" not in fragment:
        # No tag, no entity: the parser would give the text back as it is (tests/test_text.py compares).
        return squash(fragment)
    if too_deep(fragment):
        return strip_tags(fragment)
    # nh3 with no allowed tags is a real HTML parser (script/style content is dropped, not shown as text).
    return squash(html.unescape(nh3.clean(_BREAK.sub(" <", fragment), tags=set())))


def truncate(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """Shorten ``text`` to about ``limit`` characters, ending in an ellipsis.

    Cuts at the last space within reach (Korean and Western text), otherwise at the limit (Chinese and Japanese
    have no spaces), and never between a base character and its combining marks.
    """
    if len(text) <= limit:
        return text
    cut = limit
    space = text.rfind(" ", limit - _WORD_SLACK, limit + 1)
    if space > 0:
        cut = space
    else:
        # Any mark (Mn/Mc/Me), not only those with a combining class: Thai U+0E31 has class 0.
        while cut > 0 and unicodedata.category(text[cut])[0] == "M":
            cut -= 1
    return text[:cut].rstrip(" ,.;:、。，") + "…"


def _slug_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def slugify(name: str) -> str:
    """A path-safe, lower-case slug keeping Unicode letters and digits: ``디지털 성범죄`` -> ``디지털-성범죄``.

    Never empty, never ``.``/``..``, never a path separator or a Windows device name.
    """
    text = unicodedata.normalize("NFKC", name).lower()
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if _slug_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    slug = "-".join(words)[:_SLUG_MAX]
    # A file name holds at most 255 bytes (with room left for a suffix); some letters take four bytes each.
    slug = slug.encode("utf-8")[:_SLUG_MAX_BYTES].decode("utf-8", "ignore").strip("-")
    if not slug:
        # A name made only of punctuation still needs a folder; derive one that is stable for that name.
        slug = "x-" + hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if slug in _WINDOWS_DEVICES:
        slug += "-"
    return slug


def short_hash(text: str) -> str:
    """Six hex digits identifying ``text``; used to tell apart names that slug alike."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
