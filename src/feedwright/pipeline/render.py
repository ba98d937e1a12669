"""Post body -> safe, self-contained HTML for feed readers, plus the summary and image derived from it.

Rendering is the costly step, so the feed builder calls :func:`render` only for posts that reach a feed.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nh3

from ..config import Site
from .collect import Post, read_body
from .markdown import SAFE_ATTRIBUTES, keep_attribute
from .normalise import Reject, uri_encoded
from .text import html_to_text, strip_tags, too_deep, truncate, xml_safe

_RAW = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.S)
_TAG = re.compile(r"{%.*?%}", re.S)
_VAR = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
_URL_FILTER = re.compile(r"""^["']([^"']*)["']\s*\|\s*(relative_url|absolute_url)$""")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
_FIRST_IMG = re.compile(r'<img\b[^>]*?\ssrc="([^"]+)"')

_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES.setdefault("a", set()).update({"title"})
_ATTRIBUTES.setdefault("img", set()).update({"title"})
_ATTRIBUTES.setdefault("abbr", set()).update({"title"})
for _tag, _names in SAFE_ATTRIBUTES.items():  # heading and footnote ids, code languages
    _ATTRIBUTES.setdefault(_tag, set()).update(_names)


@dataclass(frozen=True)
class Image:
    """An enclosure: absolute URL, MIME type, and size in bytes (0 when unknown)."""

    url: str
    type: str
    length: int


@dataclass(frozen=True)
class Entry:
    """A post ready for a feed: sanitised HTML with absolute links, a plain-text summary, an image."""

    post: Post
    html: str
    summary: str
    image: Image | None


def strip_liquid(text: str, site: Site) -> str:
    """Remove Jekyll Liquid so none of it leaks into a feed; ``{% raw %}`` blocks are kept verbatim.

    ``{{ site.url }}``, ``{{ site.baseurl }}`` and ``{{ "/x" | relative_url }}`` become real URLs; any other
    ``{{ ... }}`` and every ``{% ... %}`` tag is removed (the text between block tags stays).
    """
    parts = urlsplit(site.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    baseurl = parts.path.rstrip("/")

    def variable(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr == "site.url":
            return origin
        if expr == "site.baseurl":
            return baseurl
        f = _URL_FILTER.match(expr)
        if f:
            path = baseurl + "/" + f.group(1).lstrip("/")
            return origin + path if f.group(2) == "absolute_url" else path
        return ""

    def outside_raw(chunk: str) -> str:
        return _VAR.sub(variable, _TAG.sub("", _COMMENT.sub("", chunk)))

    out: list[str] = []
    last = 0
    for m in _RAW.finditer(text):
        out += [outside_raw(text[last : m.start()]), m.group(1)]
        last = m.end()
    out.append(outside_raw(text[last:]))
    return "".join(out)


def _markdown(dialect: str = "markdown") -> Callable[[str], str]:
    from .markdown import converter  # ~20 ms: only builds that render something pay for it

    return converter(dialect)


def to_html(body: str, markup: str, dialect: str = "markdown") -> str:
    """Markdown in ``dialect`` (see :mod:`feedwright.pipeline.markdown`; raw HTML passes through) or HTML as it is."""
    if markup == "html":
        return body
    try:
        return _markdown(dialect)(body)
    except RecursionError:
        # Pathologically nested input; fall back to the text itself, which the sanitiser makes safe.
        return body


def sanitise(fragment: str, base: str) -> str:
    """Allow-list HTML (nh3): no scripts, frames, styles, event handlers or unsafe URL schemes.

    Relative ``href``/``src`` are resolved against ``base`` (the post's own URL), so links work in a reader.
    HTML nested deeper than :data:`~feedwright.text.MAX_HTML_DEPTH` is shown as its plain text instead, as
    parsing it would take time growing with the square of its depth.
    """
    if too_deep(fragment):
        return f"<p>{escape(strip_tags(fragment), quote=False)}</p>"
    return nh3.clean(
        fragment,
        attributes=_ATTRIBUTES,
        url_relative=("rewrite_with_base", base),
        link_rel=None,
        attribute_filter=keep_attribute,
    ).strip()


def _body_image(src: str) -> str | None:
    # The sanitiser keeps an absolute src as written ("https://e.org/a<b>.png"): a feed needs a real URI.
    try:
        url = uri_encoded(src)
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def summarise(html: str) -> str:
    """Plain text of the first paragraph that has any, trimmed near 300 characters."""
    for m in _PARAGRAPH.finditer(html):
        text = html_to_text(m.group(1))
        if text:
            return truncate(text)
    return truncate(html_to_text(html))


def site_file(site: Site, url: str) -> Path | None:
    """The file inside the content folder that an absolute site URL names, if there is one."""
    if not url.startswith(site.url):
        return None
    content = (site.root / site.content).resolve()
    path = (content / unquote(urlsplit(url).path.removeprefix(urlsplit(site.url).path))).resolve()
    try:
        return path if content in path.parents and path.is_file() else None
    except OSError:  # a name too long for the file system (found by fuzzing), a folder we may not read, ...
        return None


def image(site: Site, url: str) -> Image:
    """Enclosure facts for an image URL: MIME type from its extension, size if it is a file of the site."""
    mime = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
    local = site_file(site, url)
    try:
        size = local.stat().st_size if local else 0
    except OSError:  # gone since site_file looked: not a file of the site after all
        size = 0
    return Image(url, mime, size)


def render(post: Post, site: Site) -> Entry:
    """Render a post's body and fill in the summary and image its front matter left open."""
    html, summary, url = render_parts(post, site, post_body(post, site)[0])
    return Entry(post, html, summary, image(site, url) if url else None)


def post_body(post: Post, site: Site) -> tuple[str, str]:
    """The post's body (read back from its file if :func:`~feedwright.pipeline.collect.collect` left it out) and the
    fingerprint of the bytes it came from."""
    if post.body is not None:
        return post.body, post.fingerprint
    try:
        return read_body(site, post)
    except (Reject, OSError):  # the file changed or vanished since it was collected: a later build catches up
        return "", ""


def render_parts(post: Post, site: Site, body: str) -> tuple[str, str, str | None]:
    """HTML, summary and image URL of ``post`` with ``body``: :func:`render` before the image file is looked up."""
    # xml_safe: a character reference such as &#7; in the body comes out of the sanitiser as a raw control char.
    html = xml_safe(sanitise(to_html(strip_liquid(body, site), post.markup, site.markdown), post.url))
    summary = post.summary or summarise(html) or post.title
    url = post.image
    if url is None:
        m = _FIRST_IMG.search(html)
        url = _body_image(unescape(m.group(1))) if m else None
    return html, summary, url
