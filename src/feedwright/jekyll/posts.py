"""A post's front matter as Jekyll reads it (``Document#read``), then feedwright's normalisers over the result.

Jekyll builds a post's data in this order: categories from the folders above ``_posts``, the ``defaults:`` of
``_config.yml`` that apply to its path, then its own front matter (categories are merged, not replaced), then
the file name fills in what is missing (date, title, slug). Its URL comes from ``permalink.url`` and its id is
jekyll-feed's. Only the fields Jekyll treats differently have their own normaliser here; the others
(``updated``, ``summary``, ``image``, ``authors``) are feedwright's.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from ..pipeline import normalise as base
from ..pipeline.normalise import Fields, Reject, Source
from . import permalink
from .discover import DATE_FILENAME, DRAFTS, POSTS
from .settings import Default, JekyllSettings
from .slugify import titleize_slug

_GLOB = re.compile(r"\*\*/|\*|\?|[^*?]+")


def _settings(src: Source) -> JekyllSettings:
    assert src.site.jekyll is not None
    return src.site.jekyll


# --- data: folders, defaults, front matter ---------------------------------------------------------------


def _path_categories(rel: str) -> list[str]:
    """``Document#categories_from_path``: the folders above ``_posts`` (``ko/news/_posts/x.md`` -> ko, news)."""
    special = DRAFTS if POSTS not in rel else POSTS
    if rel.startswith(special):
        return []
    head = rel[: rel.index(special)] if special in rel else rel
    base = rel.rsplit("/", 1)[-1]
    return [c for c in head.split("/") if c and c != special and c != base]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for token in _GLOB.findall(pattern):
        parts.append({"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(token) or re.escape(token))
    return re.compile("".join(parts))


def _applies(scope: Default, rel: str) -> bool:
    if scope.type is not None and scope.type != "posts":
        return False
    if not scope.path:
        return True
    if "*" in scope.path:
        # Jekyll globs the scope on disk and tests each match as a prefix of the path.
        return _glob_regex(scope.path).match(rel) is not None
    return rel.startswith(scope.path)


def _precedes(old: Default | None, new: Default) -> bool:
    # FrontmatterDefaults#has_precedence?: a longer path wins; at equal length, a scope with a type.
    if old is None:
        return True
    if len(new.path) != len(old.path):
        return len(new.path) >= len(old.path)
    return new.type is not None or old.type is None


def deep_merge(target: dict[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """``Utils.deep_merge_hashes``: mappings merged recursively; a nil value keeps the old one."""
    merged = dict(target)
    for key, value in other.items():
        old = merged.get(key)
        if value is None and key in merged:
            continue
        merged[key] = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def _merge(data: dict[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """``Document#merge_data!``: categories are the union of both (a string is split on spaces)."""
    other = dict(other)
    cats = other.get("categories")
    if cats is not None:
        if isinstance(cats, str):
            cats = cats.split()
        if isinstance(data.get("categories"), list) and isinstance(cats, list):
            cats = data["categories"] + [c for c in cats if c not in data["categories"]]
        other["categories"] = cats
    return deep_merge(data, other)


def defaults_for(settings: JekyllSettings, rel: str) -> dict[str, Any]:
    """``FrontmatterDefaults#all(path, "posts")``: the values of every set that applies, by precedence."""
    merged: dict[str, Any] = {}
    old: Default | None = None
    for scope in settings.defaults:
        if not _applies(scope, rel):
            continue
        if _precedes(old, scope):
            merged, old = deep_merge(merged, scope.values), scope
        else:
            merged = deep_merge(scope.values, merged)
    return merged


def jekyll_data(meta: Mapping[str, Any], rel: str, settings: JekyllSettings) -> dict[str, Any]:
    """The post's data as Jekyll holds it before ``populate_title``: folder categories, defaults, front matter."""
    data: dict[str, Any] = {"categories": _path_categories(rel)}
    defaults = defaults_for(settings, rel)
    if defaults:
        data = _merge(data, defaults)
    return _merge(data, meta)


@functools.lru_cache(maxsize=64)  # asked four times for each post, by four normalisers
def _file_name(rel: str) -> tuple[str | None, str, str]:
    """(date, slug, extension) from the file name, as ``Document#populate_title`` takes them."""
    m = DATE_FILENAME.match(rel)
    if m:
        day, slug, ext = m.groups()
    else:
        name = rel.rsplit("/", 1)[-1]
        stem, dot, ext = name.rpartition(".")
        day, slug, ext = None, (stem if dot else name), (dot + ext if dot else "")
    return day, slug.rstrip("."), ext


# --- the normalisers Jekyll needs -------------------------------------------------------------------------


def _title(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    given = base._text(meta, "title")
    title = given or titleize_slug(_file_name(src.path)[1])
    if len(title) > base.MAX_TITLE_LENGTH:
        raise Reject(f"title is {len(title):,} characters long; at most {base.MAX_TITLE_LENGTH:,} are allowed")
    if not title:
        raise Reject("title is missing and the file name gives none")
    return title


def _draft(meta: Mapping[str, Any], src: Source, f: Fields) -> bool:
    # Publisher#can_be_published?: only published: false hides a post (a string "false" does not), unless the
    # site sets unpublished: true. Document#draft?: draft: true, or a posts document outside any _posts folder
    # (a substring test in Jekyll: "test_fixture_posts/_drafts/x.md" is not a draft). jekyll-feed leaves drafts out.
    hidden = meta.get("published", True) is False and not _settings(src).unpublished
    return hidden or meta.get("draft") is True or POSTS not in src.path


def _jekyll_moment(value: Any, src: Source, key: str) -> datetime:
    if isinstance(value, datetime):
        # Psych reads a timestamp without an offset as UTC (not local time, unlike a quoted string).
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=src.site.timezone)
    try:
        return base.parse_date(value if not isinstance(value, int) else str(value), src.site, key)
    except Reject:
        if not isinstance(value, str):
            raise
    return _lenient(value, src, key)


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ZONE = re.compile(r"(?:^|\s)(Z|UTC|GMT|[+-]\d{2}:?\d{2})\b")


def _lenient(value: str, src: Source, key: str) -> datetime:
    """Ruby's ``Time.parse`` finds a date, a time and a zone wherever they are in the text and ignores the rest
    (``2023-01-29 18:30:22 2023 -0800`` is a date to Jekyll); month names go to dateutil."""
    day, clock = _ISO_DAY.search(value), _CLOCK.search(value)
    if day:
        zone = _ZONE.search(value, clock.end() if clock else day.end())
        text = "-".join(f"{int(g):02d}" for g in day.groups())
        if clock:
            text += " " + ":".join(f"{int(g or 0):02d}" for g in clock.groups())
        return base.parse_date(text + (" " + zone.group(1) if zone else ""), src.site, key)
    from dateutil import parser

    try:
        moment = parser.parse(value, fuzzy=True)
    except (ValueError, OverflowError) as exc:
        raise Reject(f"{key} {value.strip()[:40]!r} is not a date") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=src.site.timezone)


def _published(meta: Mapping[str, Any], src: Source, f: Fields) -> datetime:
    day = _file_name(src.path)[0]
    if meta.get("date") is not None:
        try:
            return _jekyll_moment(meta["date"], src, "date").astimezone(src.site.timezone)
        except Reject as exc:
            if not day:
                raise
            f.setdefault("notes", []).append(f"{exc}; using the date of the file name, {day}")
    if day:
        return base.file_date(day, src.site)
    return src.state.first_seen(src.path, src.now).astimezone(src.site.timezone)


def _strings(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    return [value]


def _plural(meta: Mapping[str, Any], singular: str, plural: str) -> list[Any]:
    """``Utils.pluralized_array_from_hash``: the singular key if set, else the plural one (a string split)."""
    if meta.get(singular) is not None:
        return _strings(meta[singular])
    value = meta.get(plural)
    if isinstance(value, str):
        return value.split()
    return _strings(value) if isinstance(value, list) else []


def _names(items: list[Any], key: str) -> tuple[str, ...]:
    names: list[str] = []
    if base.plain_names(items, names):
        return tuple(names)
    for item in base._flatten(items, key):
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float | date):
            raise Reject(f"{key} entries must be text, got {base._kind(item)}")
        name = base.squash(str(item))
        if name and name not in names:
            names.append(sys.intern(name))
    return tuple(names)


def _categories(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    # Document#populate_categories: data["categories"] (folders, defaults, front matter) + category/categories.
    return _names(_strings(meta.get("categories")) + _plural(meta, "category", "categories"), "categories")


def _tags(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    return _names(_plural(meta, "tag", "tags"), "tags")


def _slug(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    given = meta.get("slug")
    if given is not None and not isinstance(given, dict | list):
        return str(given)
    return _file_name(src.path)[1]


def _output_ext(meta: Mapping[str, Any], src: Source, ext: str) -> str:
    # Renderer#output_ext: the extension of a permalink that ends in one, else the converter's.
    own = meta.get("permalink")
    if isinstance(own, str) and not own.endswith("/"):
        tail = own.rsplit("/", 1)[-1]
        if "." in tail.lstrip(".") and not tail.endswith("."):
            return "." + tail.rsplit(".", 1)[1]
    return ".html" if ext[1:].lower() in _settings(src).markdown_ext else ext


def _cleaned_path(rel: str, ext: str) -> str:
    # Document#cleaned_relative_path: extension off, the first "_posts" removed, trailing dots removed.
    stem = rel[: len(rel) - len(ext)] if ext else rel
    return stem.replace(POSTS, "", 1).rstrip(".")


def _url_path(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    rel = src.path
    ext = _file_name(rel)[2]
    own = meta.get("permalink")
    if own is not None and not isinstance(own, str):
        raise Reject(f"permalink must be text, got {base._kind(own)}")
    doc = permalink.Document(
        date=f["published"].astimezone(src.site.timezone),
        slug=f["slug"],
        basename=rel.rsplit("/", 1)[-1][: -len(ext) or None],
        categories=f["categories"],
        path=_cleaned_path(rel, ext),
        output_ext=_output_ext(meta, src, ext),
    )
    try:
        return permalink.url(_settings(src).permalink, doc, own or None)
    except permalink.PermalinkError as exc:
        raise Reject(str(exc)) from None


def _url(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    f["url_path"] = _url_path(meta, src, f)
    return permalink.normalize(src.site.url.rstrip("/") + f["url_path"])


def _id(meta: Mapping[str, Any], src: Source, f: Fields) -> str:
    if base._text(meta, "id"):
        return base._id(meta, src, f)  # feedwright's rule: an id: in the front matter pins it
    return permalink.normalize(src.site.url.rstrip("/") + permalink.document_id(f["url_path"], f["slug"]))


def _language(meta: Mapping[str, Any], src: Source, f: Fields) -> str | None:
    return base._text(meta, "lang") or src.site.language


def _notes(meta: Mapping[str, Any], src: Source, f: Fields) -> tuple[str, ...]:
    return tuple(f.get("notes", ()))


NORMALISERS: dict[str, base.Normaliser] = {
    **base.NORMALISERS,
    "title": _title,
    "draft": _draft,
    "published": _published,
    "categories": _categories,
    "tags": _tags,
    "slug": _slug,
    "url": _url,
    "id": _id,
    "language": _language,
    "notes": _notes,
}


def normalise(meta: Mapping[str, Any], src: Source) -> Fields:
    """The Post fields of a Jekyll post or draft at ``src.rel`` (site-relative) with front matter ``meta``."""
    data = jekyll_data(meta, src.path, _settings(src))
    fields: Fields = {}
    for name, normaliser in NORMALISERS.items():
        fields[name] = normaliser(data, src, fields)
    del fields["url_path"]
    return fields
