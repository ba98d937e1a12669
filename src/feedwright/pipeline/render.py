"""Post body -> safe, self-contained HTML for feed readers, plus the summary and image derived from it.

Rendering is the costly step, so the build calls :func:`render` only for posts that reach a feed (and
:mod:`~feedwright.incremental.memo` only for those whose rendering is not cached).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nh3

from ..config import Site
from ..errors import Reject
from .collect import Post, read_body
from .liquid import Links, front_matter, has_liquid, render_liquid
from .markdown import SAFE_ATTRIBUTES, keep_attribute
from .normalise import uri_encoded
from .text import html_to_text, strip_tags, too_deep, truncate, xml_safe

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
    type: str | None  # None: the URL names no image type (then RSS gets no <enclosure>, which requires one)
    length: int


@dataclass(frozen=True)
class Entry:
    """A post ready for a feed: sanitised HTML with absolute links, a plain-text summary, an image."""

    post: Post
    html: str
    summary: str
    image: Image | None


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


# Image types mimetypes may not know on every system; anything not image/* is not an image's type.
_IMAGE_TYPES = {".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".jfif": "image/jpeg",
                ".heic": "image/heic", ".heif": "image/heif", ".jxl": "image/jxl"}


def image_type(url: str) -> str | None:
    """The MIME type an image URL's extension names; None when it names none (``/photo?id=3``)."""
    path = urlsplit(url).path
    ext = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    mime = _IMAGE_TYPES.get(ext) or (mimetypes.guess_type(path)[0] if ext else None)
    return mime if mime and mime.startswith("image/") else None


def image(site: Site, url: str) -> Image:
    """Enclosure facts for an image URL: MIME type from its extension, size if it is a file of the site."""
    local = site_file(site, url)
    try:
        size = local.stat().st_size if local else 0
    except OSError:  # gone since site_file looked: not a file of the site after all
        size = 0
    return Image(url, image_type(url), size)


# What rendering a post gives, before its image file is looked up: sanitised HTML, summary, image URL.
Parts = tuple[str, str, "str | None"]


@dataclass(frozen=True)
class Rendered:
    """One post rendered: what the cache keeps (HTML, summary, image URL), the warnings, and whether the body had
    Liquid (then the result depends on more than the post's own bytes: other posts' URLs, includes, data)."""

    parts: tuple[str, str, str | None]
    warnings: tuple[str, ...] = ()
    liquid: bool = False


def render(post: Post, site: Site, links: Links | None = None) -> Entry:
    """Render a post's body and fill in the summary and image its front matter left open."""
    html, summary, url = render_post(post, site, post_body(post, site)[0], links).parts
    return Entry(post, html, summary, image(site, url) if url else None)


def post_body(post: Post, site: Site) -> tuple[str, str]:
    """The post's body, read back from its file if it was left out, and the fingerprint of those bytes."""
    if post.body is not None:
        return post.body, post.fingerprint
    try:
        return read_body(site, post)
    except (Reject, OSError):  # the file changed or vanished since it was collected: a later build catches up
        return "", ""


def render_parts(post: Post, site: Site, body: str, links: Links | None = None) -> tuple[str, str, str | None]:
    """HTML, summary and image URL of ``post`` with ``body``: :func:`render` before the image file is looked up."""
    return render_post(post, site, body, links).parts


def _html(post: Post, site: Site, text: str) -> str:
    # xml_safe: a character reference such as &#7; in the body comes out of the sanitiser as a raw control char.
    return xml_safe(sanitise(to_html(text, post.markup, site.markdown), post.url))


def render_post(post: Post, site: Site, body: str, links: Links | None = None) -> Rendered:
    """Liquid, then Markdown, then the sanitiser; the summary from the excerpt when the front matter gave none."""
    links = links or Links()
    meta, offset = front_matter(site, post) if has_liquid(body) or post.summary is None else ({}, 0)
    liquid = render_liquid(site, post, body, links, meta, offset)
    html = _html(post, site, liquid.text)
    warnings = liquid.warnings
    summary = post.summary
    if summary is None:
        text, more = excerpt(post, site, body, links, meta, offset)
        summary = text or summarise(html) or post.title
        warnings += tuple(w for w in more if w not in warnings)
    url = post.image
    if url is None:
        m = _FIRST_IMG.search(html)
        url = _body_image(unescape(m.group(1))) if m else None
    return Rendered((html, summary, url), warnings, liquid.used)


def excerpt(
    post: Post, site: Site, body: str, links: Links, meta: Mapping[str, Any], offset: int
) -> tuple[str, tuple[str, ...]]:
    """Jekyll's excerpt as plain text: the body up to ``excerpt_separator`` (front matter, then ``_config.yml``,
    default the first blank line), with the link definitions of the rest, rendered (Liquid, Markdown)."""
    sep = meta.get("excerpt_separator") or site.variables.get("excerpt_separator") or "\n\n"
    if not isinstance(sep, str):
        sep = "\n\n"
    head, found, tail = body.lstrip("\n").partition(sep)
    if found:
        head = close_liquid_blocks(head)
        refs = _LINK_DEFINITION.findall(tail)
        if refs:  # reference-style links in the excerpt still resolve, as in Jekyll
            head += "\n\n" + "\n".join(refs)
    liquid = render_liquid(site, post, head, links, meta, offset)
    return truncate(html_to_text(_html(post, site, liquid.text))), liquid.warnings


_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:.+$", re.M)
_BLOCK_TAG = re.compile(r"{%-?\s*(end)?(if|unless|for|case|capture|highlight|raw|comment|tablerow)\b")


def close_liquid_blocks(head: str) -> str:
    """Close the Liquid blocks an excerpt cut leaves open, as Jekyll's ``Excerpt#extract_excerpt`` does."""
    if "{%" not in head:
        return head
    open_blocks: list[str] = []
    for m in _BLOCK_TAG.finditer(head):
        if not m.group(1):
            open_blocks.append(m.group(2))
        elif m.group(2) in open_blocks:
            del open_blocks[len(open_blocks) - 1 - open_blocks[::-1].index(m.group(2))]
    return head + "".join(f"\n{{% end{name} %}}" for name in reversed(open_blocks))


def entries(site: Site, members: dict[str, Post], parts: dict[str, Parts]) -> dict[str, Entry]:
    """The feed entries of ``members`` (by post id) from their rendered ``parts``; each image file is looked up
    once, however many posts show it (enclosure sizes are never cached)."""
    images: dict[str, Image] = {}
    out: dict[str, Entry] = {}
    for key, post in members.items():
        html, summary, url = parts[key]
        if url and url not in images:
            images[url] = image(site, url)
        out[key] = Entry(post, html, summary, images[url] if url else None)
    return out
