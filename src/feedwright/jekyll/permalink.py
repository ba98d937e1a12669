"""Jekyll's URL language: permalink styles, placeholders, escaping and sanitising, as in Jekyll 4.3.

Sources: ``lib/jekyll/configuration.rb`` (styles), ``drops/url_drop.rb`` (placeholders), ``url.rb``
(``generate_url_from_drop``, ``escape_path``, ``sanitize_url``) and ``filters/url_filters.rb`` with Addressable's
``normalize`` (``absolute_url``). A post's link is ``absolute_url(url)``, exactly what jekyll-feed writes.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote_to_bytes, urlsplit, urlunsplit

from .slugify import slugify

STYLES = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PLAIN_PATH = re.compile(r"^[a-zA-Z0-9./-]+$")
# Addressable's character classes: PATH = PCHAR + "/", PCHAR = unreserved + sub-delims + ":" + "@".
_PCHAR_SAFE = "-._~!$&'()*+,;=:@"
_PATH_SAFE = _PCHAR_SAFE + "/"


class PermalinkError(ValueError):
    """A permalink names a placeholder Jekyll does not know (Jekyll itself stops the build)."""


def style_to_permalink(style: str) -> str:
    """``Configuration#style_to_permalink``: a style name's template, anything else as written."""
    return STYLES.get(style, style)


def escape_path(path: str) -> str:
    """``Jekyll::URL.escape_path``: percent-encode what a URL path may not hold (UTF-8, upper-case hex)."""
    if not path or _PLAIN_PATH.match(path):
        return path
    # Addressable::URI.encode (Jekyll 4.3) reads a "?" as the start of a query and leaves it.
    return quote(path, safe=_PATH_SAFE + "?")


def sanitize_url(url: str) -> str:
    """``Jekyll::URL#sanitize_url``: a leading slash, every ``..`` made ``/``, ``./`` removed, slashes squeezed."""
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub("/{2,}", "/", url)


def generate(template: str, placeholders: Mapping[str, Callable[[], str]]) -> str:
    """``URL#generate_url_from_drop`` then ``sanitize_url``: every ``:name`` replaced by its escaped value."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        # ":month_:day" is :month then "_": a name ending in "_" falls back to the name without it.
        key = name if name in placeholders or not name.endswith("_") else name[:-1]
        if key not in placeholders:
            raise PermalinkError(f"permalink {template!r}: Jekyll has no :{name} placeholder")
        return escape_path(placeholders[key]()) + match.group(0)[len(key) + 1 :]

    return sanitize_url(_PLACEHOLDER.sub(replace, template))


@dataclass(frozen=True)
class Document:
    """What a post's URL placeholders read (``Drops::UrlDrop``): the post as Jekyll holds it."""

    date: datetime  # in the site's time zone (Jekyll's localtime)
    slug: str  # data["slug"]: front matter, else the file name's title part
    basename: str  # file name without extension
    categories: tuple[str, ...]
    path: str  # cleaned_relative_path: relative path without extension, "_posts" removed
    output_ext: str


def placeholders(doc: Document) -> dict[str, Callable[[], str]]:
    """``Drops::UrlDrop``: each placeholder's value, computed only if the template uses it."""
    d = doc.date
    return {
        "collection": lambda: "posts",
        "path": lambda: doc.path,
        "output_ext": lambda: doc.output_ext,
        "name": lambda: slugify(doc.basename) or "",
        "title": lambda: slugify(doc.slug, "pretty", cased=True) or slugify(doc.basename, "pretty", cased=True) or "",
        "slug": lambda: slugify(doc.slug) or slugify(doc.basename) or "",
        "categories": lambda: "/".join(dict.fromkeys(c.lower() for c in doc.categories)),
        "slugified_categories": lambda: "/".join(dict.fromkeys(slugify(c) or "" for c in doc.categories)),
        "year": lambda: f"{d.year:04d}",
        "month": lambda: f"{d.month:02d}",
        "day": lambda: f"{d.day:02d}",
        "hour": lambda: f"{d.hour:02d}",
        "minute": lambda: f"{d.minute:02d}",
        "second": lambda: f"{d.second:02d}",
        "i_day": lambda: str(d.day),
        "i_month": lambda: str(d.month),
        "short_month": lambda: _MONTHS[d.month - 1][:3],
        "long_month": lambda: _MONTHS[d.month - 1],
        "short_year": lambda: f"{d.year % 100:02d}",
        "w_year": lambda: f"{d.isocalendar()[0]:04d}",
        "week": lambda: f"{d.isocalendar()[1]:02d}",
        "w_day": lambda: str(d.isoweekday()),
        "short_day": lambda: _DAYS[d.weekday()][:3],
        "long_day": lambda: _DAYS[d.weekday()],
        "y_day": lambda: f"{d.timetuple().tm_yday:03d}",
    }


def url(template: str, doc: Document, permalink: str | None = None) -> str:
    """``Document#url``: the post's site-relative URL, from its own ``permalink`` when it has one."""
    return generate(permalink or template, placeholders(doc))


def _normalize_segment(segment: str, safe: str = _PCHAR_SAFE) -> str:
    # Addressable::URI.normalize_component: decode, NFKC, encode what the component's class lacks.
    raw = unquote_to_bytes(segment)
    try:
        text = unicodedata.normalize("NFKC", raw.decode("utf-8"))
    except UnicodeDecodeError:
        return quote(raw, safe=safe)
    return quote(text, safe=safe)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    clean = posixpath.normpath(path)
    if path.endswith(("/", "/.", "/..")) and clean != "/":
        clean += "/"
    return clean


def normalize(url_text: str) -> str:
    """``Addressable::URI.parse(url).normalize.to_s`` for the http(s) and site-relative URLs Jekyll makes."""
    parts = urlsplit(url_text)
    path = "/".join(_normalize_segment(s) for s in parts.path.split("/"))
    path = _remove_dot_segments(path)
    if not path and parts.scheme in ("http", "https"):
        path = "/"
    # A "?" that escape_path left (Jekyll 4.3 does) starts a query: its class is PCHAR plus "/" and "?".
    query = _normalize_segment(parts.query, _PATH_SAFE + "?") if parts.query else ""
    fragment = _normalize_segment(parts.fragment, _PATH_SAFE + "?") if parts.fragment else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def relative_url(baseurl: str, url_path: str) -> str:
    """The ``relative_url`` filter: ``baseurl`` (without its trailing slash) + the URL, normalised."""
    parts = [p if not p or p.startswith("/") else "/" + p for p in (baseurl.rstrip("/"), url_path)]
    return normalize("".join(parts))


def absolute_url(site_url: str, baseurl: str, url_path: str) -> str:
    """The ``absolute_url`` filter: ``url`` + ``relative_url``, normalised (what jekyll-feed links to)."""
    if not site_url:
        return relative_url(baseurl, url_path)
    return normalize(site_url + relative_url(baseurl, url_path))


def document_id(url_path: str, slug: str) -> str:
    """``Document#id``: ``File.join(File.dirname(url), slug)``; jekyll-feed's ``<id>`` is its absolute URL."""
    folder = url_path.rstrip("/").rsplit("/", 1)[0] if url_path.rstrip("/") else "/"
    folder = folder or "/"
    return folder.rstrip("/") + "/" + slug.lstrip("/") if slug else folder
