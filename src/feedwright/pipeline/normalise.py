"""Front matter -> typed post fields: one small normaliser per field, applied in the order of ``NORMALISERS``.

Each normaliser reads the front-matter keys it owns (``title``; ``date`` then the file name then the state; ...)
and the fields normalised before it, and returns its field's value or raises :class:`Reject` with a reason.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import PurePosixPath
from sys import intern
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ..config import Site
from ..errors import Reject
from .history import State
from .keys import JEKYLL_KEYS, near_misses
from .text import html_to_text, slugify, squash, truncate, xml_safe

MAX_LIST_ITEMS = 200
# Longer is a paste gone wrong (a body in the title); readers show titles on one line.
MAX_TITLE_LENGTH = 1000
_FILE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
# What _DATE matches and datetime.fromisoformat reads alike (ASCII digits, hours 00-23, one space at most before
# the offset): tests/test_normalise.py compares the two ways.
_USUAL_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}(?: ?[+-][0-9]{2}:?[0-9]{2})?"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_PERMALINK_TOKEN = re.compile(r":(path|dir|slug|title|year|month|day|category)\b")
# Characters left alone when a path is percent-encoded: RFC 3986 unreserved, sub-delims, ':', '@', '/', '%'.
_URL_SAFE = "/:@!$&'()*+,;=-._~%"
_PATH_SAFE = _URL_SAFE.replace("%", "")
# What quote(..., safe=_PATH_SAFE) leaves as it is: ASCII letters and digits, "_.-~" and _PATH_SAFE.
_NOTHING_TO_QUOTE = re.compile("[A-Za-z0-9_.~" + re.escape(_PATH_SAFE) + "-]*")
_BARE_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, init=False)
class Source:
    """What a normaliser may know about the file besides its front matter.

    ``rel`` is the file's path under the content folder: the collector gives it as the ``str`` it scanned (no
    ``pathlib`` object per file on large sites; the parts of it the normalisers need are worked out once each).
    """

    rel: PurePosixPath | str
    site: Site
    now: datetime
    state: State
    fingerprint: str
    path: str = field(init=False)  # ``rel`` as text (POSIX separators)
    suffix: str = field(init=False)  # the file name's extension with its dot (``PurePosixPath.suffix``), or ""
    stem: str = field(init=False)  # the file name without its extension (``PurePosixPath.stem``)

    def __init__(self, rel: PurePosixPath | str, site: Site, now: datetime, state: State, fingerprint: str) -> None:
        # Written out, not the dataclass's: a frozen dataclass sets each field by object.__setattr__, and one is
        # made per file read (1.0 µs of 2.6); the fields go into its __dict__, in their order.
        path = rel if type(rel) is str else str(rel)
        name = path.rpartition("/")[2]
        dot = name.rfind(".")
        suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
        fields = self.__dict__
        fields["rel"], fields["site"], fields["now"], fields["state"] = rel, site, now, state
        fields["fingerprint"], fields["path"], fields["suffix"] = fingerprint, path, suffix
        fields["stem"] = name[: len(name) - len(suffix)]


Fields = dict[str, Any]
Normaliser = Callable[[Mapping[str, Any], Source, Fields], Any]


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false", type(None): "empty"}.get(
        type(value), type(value).__name__
    )


def _shown(value: Any) -> str:
    """A value for a message: short scalars as written, containers by kind (an alias bomb has no printable form)."""
    if isinstance(value, str | int | float | date) and not isinstance(value, bool):
        return repr(value)[:40]
    return _kind(value)


def _text(meta: Mapping[str, Any], key: str) -> str | None:
    """A scalar front-matter value as text; None when absent or empty; Reject for lists, mappings, booleans."""
    value = meta.get(key)
    if value is None:
        return None
    if type(value) is str:
        return squash(value) or None
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise Reject(f"{key} must be text, got {_kind(value)}")
    return squash(str(value)) or None


def parse_date(value: Any, site: Site, key: str = "date") -> datetime:
    """A front-matter date as an aware datetime; naive values are in the site's time zone."""
    return _in_range(_to_datetime(value, site.timezone, key), site.timezone, key)


def file_date(day: str, site: Site) -> datetime:
    """The date of a file name (``2024-06-26-title.md``: its first three parts), in the site's time zone."""
    return _file_date(day, site.timezone)


@functools.lru_cache(maxsize=4096)
def _file_date(day: str, timezone: tzinfo) -> datetime:
    # Days are few (a site's posts share them) and a datetime is immutable: worked out once per day and zone.
    key = "file name date"
    return _in_range(_to_datetime(day, timezone, key), timezone, key)


def _in_range(moment: datetime, timezone: tzinfo, key: str) -> datetime:
    if 1 < moment.year < 9999:  # an offset is less than a day: only the first and last years can leave the range
        return moment
    try:
        # Feeds show dates in UTC and URLs in the site's zone: both must exist (9999-12-31 -12:00 does not).
        moment.astimezone(UTC), moment.astimezone(timezone)
    except OverflowError:
        raise Reject(f"{key} {moment.isoformat()} is out of range once converted to UTC") from None
    return moment


def _to_datetime(value: Any, timezone: tzinfo, key: str) -> datetime:
    if type(value) is not str:  # text, the usual case, goes straight on
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone)
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=timezone)
        if not isinstance(value, str) or isinstance(value, bool):
            raise Reject(f"{key} must be a date such as 2024-06-26 11:30:00 +0900, got {_kind(value)}")
    if _USUAL_DATE.fullmatch(value):
        # The usual spelling: datetime.fromisoformat (C) reads it, its offset as _offset does, in a third of the
        # time; what it cannot read (an impossible day or offset) goes the long way, which says why.
        try:  # not a suppress() context manager: entering and leaving one costs more than reading the date
            moment = datetime.fromisoformat(value[:19] + value[20:] if value[19:20] == " " else value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone)
    return _parsed_date(value, timezone, key)


def _parsed_date(value: str, timezone: tzinfo, key: str) -> datetime:
    m = _DATE.match(value.strip())
    if not m:
        raise Reject(f"{key} {value.strip()[:40]!r} is not a date such as 2024-06-26 11:30:00 +0900")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        zone_info: tzinfo | None = timezone
        if zone:
            if zone in ("Z", "UTC", "GMT"):
                zone = "+00:00"
            elif ":" not in zone:
                zone = zone[:3] + ":" + (zone[3:] or "00")
            zone_info = _offset(zone)
        moment = datetime(  # an impossible date raises here first, as it always did
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")), zone_info,
        )
        if zone_info is None:  # an offset fromisoformat cannot read: it says why
            return datetime.fromisoformat(moment.isoformat() + zone)
        return moment
    except ValueError as exc:
        raise Reject(f"{key} {value.strip()[:40]!r} is impossible ({exc})") from None


@functools.lru_cache(maxsize=256)
def _offset(zone: str) -> tzinfo | None:
    """The time zone ``datetime.fromisoformat`` reads from an offset such as ``+09:00`` (it reads the date and the
    offset apart), or None if it cannot; a site's posts use a few offsets."""
    try:
        return datetime.fromisoformat("2000-01-01T00:00:00" + zone).tzinfo
    except ValueError:
        return None


def _flatten(value: Any, key: str) -> Iterator[Any]:
    # Iterative with a budget: a YAML alias bomb nests shared lists exponentially deep.
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_LIST_ITEMS:
            raise Reject(f"{key} has more than {MAX_LIST_ITEMS} entries")
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            yield item


def plain_names(items: list[Any], names: list[str]) -> bool:
    """The usual list of names (text only, not too long: nothing to flatten, nothing to check but the text): each
    added to ``names``, squashed and interned (names are shared by every post, in memory and in the cache), once,
    in order; False at the first item that is not text (what was added stays:
    the general way then goes over the list again, and adds each name once, in the same order)."""
    if len(items) >= MAX_LIST_ITEMS:
        return False
    for item in items:
        if type(item) is not str:
            return False
        name = squash(item)
        if name and name not in names:
            names.append(intern(name))
    return True


def _names(meta: Mapping[str, Any], plural: str, singular: str) -> tuple[str, ...]:
    """Categories or tags from ``plural`` (Jekyll: a string is split on spaces) and ``singular`` (one name)."""
    names: list[str] = []
    for key in (plural, singular):
        value = meta.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.split() if key == plural else [value]
        if type(value) is list and plain_names(value, names):
            continue
        for item in _flatten(value, key):
            if item is None or item == "":
                continue
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise Reject(f"{key} entries must be text, got {_kind(item)}")
            name = squash(str(item))
            if name and name not in names:
                names.append(intern(name))
    return tuple(names)


# --- the normalisers, one per Post field --------------------------------------------------------------------


def _title(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    title = _text(meta, "title")
    if title and "&" in title:  # as the site shows it: "&amp;" in front matter is "&" on the page
        title = html.unescape(title).strip()
    if not title:
        raise Reject("title is missing")
    if len(title) > MAX_TITLE_LENGTH:
        raise Reject(f"title is {len(title):,} characters long; at most {MAX_TITLE_LENGTH:,} are allowed")
    return title


def _draft(meta: Mapping[str, Any], src: Source, f: Fields) -> bool:
    if "draft" in meta or "published" in meta:  # most posts have neither
        for key in ("draft", "published"):
            if key in meta and not isinstance(meta[key], bool):
                raise Reject(f"{key} must be true or false, got {_shown(meta[key])}")
        if meta.get("draft") is True or meta.get("published") is False:
            return True
    return "_drafts" in src.path and "_drafts" in src.path.split("/")


def _published(meta: Mapping[str, Any], src: Source, f: Fields) -> datetime:
    value = meta.get("date")
    if value is not None:
        return parse_date(value, src.site)
    m = _FILE_DATE.match(src.stem)
    if m:
        return file_date("-".join(m.groups()[:3]), src.site)
    return src.state.first_seen(src.path, src.now).astimezone(src.site.timezone)


def _updated(meta: Mapping[str, Any], src: Source, f: Fields) -> datetime:
    changed = src.state.content_changed(src.path, src.fingerprint, src.now)
    if "last_modified_at" in meta or "updated" in meta:  # most posts have neither
        for key in ("last_modified_at", "updated"):
            if meta.get(key) is not None:
                return parse_date(meta[key], src.site, key)
    return changed.astimezone(src.site.timezone) if changed else f["published"]


def _categories(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    return _names(meta, "categories", "category")


def _tags(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    return _names(meta, "tags", "tag")


def _summary(meta: Mapping[str, Any], src: Source, f: Fields) -> str | None:
    # None lets the renderer derive one from the body, and only for posts that reach a feed.
    for key in ("excerpt", "description", "feature_text"):
        if key not in meta:
            continue
        value = _text(meta, key)
        # _text squashed it: without a tag or an entity, html_to_text would only squash it again, to the same.
        text = (value if "<" not in value and "&" not in value else html_to_text(value)) if value else ""
        if text:
            return truncate(text)
    return None


def site_url(site: Site, value: str, key: str = "url") -> str:
    """An absolute http(s) URL for a front-matter path or URL; site paths are relative to the site url."""
    return _site_url(site.url, value, key)


@functools.lru_cache(maxsize=4096)
def _site_url(base: str, value: str, key: str) -> str:
    # Posts share images (a site's logo, a series' header): each is worked out once.
    value = xml_safe(value).strip()
    if value.startswith("//"):
        value = urlsplit(base).scheme + ":" + value
    if not _URI.match(value):
        value = base + quote(value.lstrip("/"), safe=_URL_SAFE)
    try:
        value = uri_encoded(value)
    except ValueError:  # urlsplit: "http://[::1" and other broken hosts
        raise Reject(f"{key} is not a valid URL: {value[:60]!r}") from None
    if urlsplit(value).scheme not in ("http", "https"):
        raise Reject(f"{key} must be an http(s) URL or a site path, got {value[:60]!r}")
    return value


def uri_encoded(url: str) -> str:
    """``url`` with what a URI may not hold percent-encoded (``<``, ``"``, ``|``, a stray ``%``, non-ASCII...).

    Feed readers and the JSON Feed schema want real URIs; a URL pasted from a CMS is often not one. Raises
    ``ValueError`` for a URL that cannot be split (an unclosed ``[`` in the host).
    """
    parts = urlsplit(url)
    return _BARE_PERCENT.sub("%25", urlunsplit((
        parts.scheme,
        quote(parts.netloc, safe=_URL_SAFE + "[]"),
        quote(parts.path, safe=_URL_SAFE),
        quote(parts.query, safe=_URL_SAFE + "?"),
        quote(parts.fragment, safe=_URL_SAFE + "?"),
    )))


def _image(meta: Mapping[str, Any], src: Source, f: Fields) -> str | None:
    image = meta.get("image")
    if type(image) is str and image:  # the usual case: the first candidate, a URL or path
        return site_url(src.site, image, "image")
    candidates: list[tuple[str, Any]] = [("image", image)]
    header = meta.get("header")
    if isinstance(header, dict):
        candidates += [("header.teaser", header.get("teaser")), ("header.image", header.get("image"))]
    for key, value in candidates:
        if isinstance(value, dict):
            value = next((value[k] for k in ("path", "url", "feature", "thumbnail") if value.get(k)), None)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise Reject(f"{key} must be a URL or a mapping with path/url/feature/thumbnail, got {_kind(value)}")
        return site_url(src.site, value, key)
    return None


def _authors(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    # An empty author: key must not hide a filled authors: key.
    value = meta.get("author")
    if value is None:
        value = meta.get("authors")
    if type(value) is str:  # one name, as most posts have it
        name = squash(value)
        if name:
            return (intern(name),)
    names: list[str] = []
    for item in _flatten(value, "author"):
        if isinstance(item, dict):
            item = item.get("name")
        if item is None:
            continue
        if not isinstance(item, str):
            raise Reject(f"author must be a name or a mapping with a name, got {_kind(item)}")
        if squash(item):
            names.append(intern(squash(item)))
    return tuple(names) or ((intern(src.site.author),) if src.site.author else ())


def _slug(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    given = _text(meta, "slug") if "slug" in meta else None
    if given:
        return slugify(given)
    m = _FILE_DATE.match(src.stem)
    return m.group(4) if m else src.stem


def _path_stem(src: Source, f: Fields) -> str:
    return src.path[: len(src.path) - len(src.suffix)]


def _local(src: Source, f: Fields) -> datetime:
    return f["published"].astimezone(src.site.timezone)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1024)
def _category_slug(name: str) -> str:
    return slugify(name)  # categories are few and shared by many posts


# Each permalink token's value; only the tokens a pattern uses are worked out.
_TOKENS: dict[str, Callable[[Source, Fields], str]] = {
    "path": _path_stem,
    "dir": lambda src, f: _path_stem(src, f).rpartition("/")[0],
    "slug": lambda src, f: f["slug"],  # type: ignore[no-any-return]
    "title": lambda src, f: f["slug"],  # type: ignore[no-any-return]
    "category": lambda src, f: _category_slug(f["categories"][0]) if f["categories"] else "",
    "year": lambda src, f: f"{_local(src, f).year:04d}",
    "month": lambda src, f: f"{_local(src, f).month:02d}",
    "day": lambda src, f: f"{_local(src, f).day:02d}",
}


@functools.lru_cache(maxsize=64)
def _permalink_parts(pattern: str) -> tuple[str, ...]:
    """A permalink pattern as text and tokens in turn: (text, token, text, ..., text)."""
    return tuple(_PERMALINK_TOKEN.split(pattern))


def _url(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    parts = _permalink_parts((_text(meta, "permalink") if "permalink" in meta else None) or src.site.permalink)
    if len(parts) == 3:  # one token, as the default "/:path/"
        path = parts[0] + _TOKENS[parts[1]](src, f) + parts[2]
    else:
        filled = [parts[0]]
        for i in range(1, len(parts), 2):
            filled += (_TOKENS[parts[i]](src, f), parts[i + 1])
        path = "".join(filled)
    # Decode first so that '%2e%2e' is seen as the '..' a browser would make of it; normpath then folds every
    # '..', so a permalink can never climb above the site url.
    if "%" in path:  # unquote gives any other text back as it is
        path = unquote(path)
    # Leading slashes are all cut below: one is enough (a pattern's own "/" would be a "//" for normpath to fold).
    rooted = "/" + path.lstrip("/")
    # Without a '.' segment or a '//', normpath would only drop a trailing slash.
    clean = posixpath.normpath(rooted) if "/." in rooted or "//" in rooted else rooted.rstrip("/") or "/"
    if path.endswith("/") and clean != "/":
        clean += "/"
    return src.site.url + quoted_path(clean.lstrip("/"))


def quoted_path(path: str) -> str:
    """``quote(path, safe=_PATH_SAFE)``; a path holding nothing it would encode (most) is given back at once."""
    if _NOTHING_TO_QUOTE.fullmatch(path):
        return path
    # quote encodes each character by itself: the first folder (a section, often in Hangul) once per name.
    cut = path.find("/") + 1
    rest = path[cut:]
    try:
        return _quoted_folder(path[:cut]) + (
            rest if _NOTHING_TO_QUOTE.fullmatch(rest) else quote(rest, safe=_PATH_SAFE)
        )
    except UnicodeEncodeError:  # a lone surrogate: raised as quote raises it for the whole path
        return quote(path, safe=_PATH_SAFE)


@functools.lru_cache(maxsize=1024)
def _quoted_folder(folder: str) -> str:
    return quote(folder, safe=_PATH_SAFE)


# The schemes feed readers accept as an item id (and that a reader following it as a link cannot abuse).
_ID_SCHEMES = frozenset({"http", "https", "tag", "urn"})


def _id(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    given = _text(meta, "id") if "id" in meta else None
    if not given:
        return f["url"]
    if _URI.match(given):
        scheme = given.split(":", 1)[0].lower()
        if scheme not in _ID_SCHEMES:  # javascript:, data:, file:... would be published as the item's id
            raise Reject(f"id must be an http, https, tag or urn URI (or plain text), got a {scheme}: URI")
        return given
    # Atom ids must be IRIs: make a tag: URI (RFC 4151) from the site's host and the post's year.
    return f"tag:{src.site.host},{f['published'].year:04d}:{quote(given, safe=_URL_SAFE)}"


def _key_typos(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[tuple[str, str], ...]:
    if meta.keys() <= _KNOWN_KEYS:  # every key one feedwright reads or a common one: none is a typo
        return ()
    return near_misses(meta, FEEDWRIGHT_KEYS, src.site.known_keys)


def _language(meta: Mapping[str, Any], src: Source, f: Fields) -> str | None:
    return (_text(meta, "lang") if "lang" in meta else None) or src.site.language


NORMALISERS: dict[str, Normaliser] = {
    "title": _title,
    "draft": _draft,
    "published": _published,
    "updated": _updated,
    "categories": _categories,
    "tags": _tags,
    "summary": _summary,
    "image": _image,
    "authors": _authors,
    "slug": _slug,
    "url": _url,
    "id": _id,
    "key_typos": _key_typos,
    "language": _language,
}

# The front-matter keys each normaliser reads: a key close to one of these and unknown is a likely typo.
READS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "draft": ("draft", "published"),
    "published": ("date",),
    "updated": ("last_modified_at", "updated"),
    "categories": ("categories", "category"),
    "tags": ("tags", "tag"),
    "summary": ("excerpt", "description", "feature_text"),
    "image": ("image", "header"),
    "authors": ("author", "authors"),
    "slug": ("slug",),
    "url": ("permalink",),
    "id": ("id",),
    "language": ("lang",),
}
FEEDWRIGHT_KEYS = frozenset(key for keys in READS.values() for key in keys)
_KNOWN_KEYS = FEEDWRIGHT_KEYS | JEKYLL_KEYS  # near_misses passes over each of these


def normalise(meta: Mapping[str, Any], src: Source) -> Fields:
    """Run every normaliser in order; returns the Post fields or raises :class:`Reject`."""
    fields: Fields = {}
    for name, normaliser in NORMALISERS.items():
        fields[name] = normaliser(meta, src, fields)
    return fields
