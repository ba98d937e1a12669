"""``[[feeds]]`` in ``feedwright.toml``: custom feeds, each a filter over the live posts, validated once.

Each table becomes a frozen :class:`CustomFeed`; :func:`parse_feeds` (called by :func:`feedwright.config.parse_config`)
returns them with every problem found, one line each, for the config's single error list. Which posts a custom
feed carries is decided by :mod:`feedwright.pipeline.custom`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import _formats, _nonempty_str, _positive_int, did_you_mean
from .errors import ConfigError
from .formats import FORMATS

SECTION = "feeds"
# First path segments that hold feedwright's own per-name feeds: a custom feed there could take their folder.
RESERVED = {"categories": "the category feeds", "tags": "the tag feeds", "authors": "the author feeds"}
# A BCP 47 language tag, loosely: "ko", "en-GB", "zh-Hant-TW".
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class CustomFeed:
    """One ``[[feeds]]`` table. An empty filter tuple means "not filtered by that key"; every filter given must
    match (a post matches one filter when it has any of its values)."""

    name: str  # the title's suffix
    folder: str  # output-relative, no slash at either end
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # lower case; "en" also matches "en-gb" (RFC 4647 basic filtering)
    limit: int | None = None  # None: build.limit
    formats: tuple[str, ...] | None = None  # None: build.formats


def _names(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f'{key} must be a non-empty list of names, such as ["News"] (leave the key out to not '
                          "filter by it)")
    # Sorted, no repeats: the order they were typed in changes nothing (and repr(Site) keys the cache).
    return tuple(sorted({_nonempty_str(key, item) for item in value}))


def _languages(key: str, value: Any) -> tuple[str, ...]:
    names = _names(key, value)
    bad = [name for name in names if not _LANGUAGE.fullmatch(name)]
    if bad:
        raise ConfigError(f"{key}: {bad[0]!r} is not a language tag such as 'ko' or 'en-GB'")
    return tuple(sorted({name.lower() for name in names}))  # language tags are case-insensitive (BCP 47)


def _folder(key: str, value: Any) -> str:
    text = _nonempty_str(key, value)
    if text.startswith("/") or re.match(r"[A-Za-z]:", text):
        raise ConfigError(f"{key} must be a folder relative to build.output, got {text!r}")
    folder = text.rstrip("/")
    parts = folder.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in folder or any(ord(c) < 32 for c in folder):
        raise ConfigError(f"{key} must be a plain relative folder such as 'ko/news' (no '..', '.', '//' or "
                          f"backslash), got {text!r}")
    return folder


# key -> (CustomFeed field, validator); name and path are read first, by _one.
_KEYS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "name": ("name", _nonempty_str),
    "path": ("folder", _folder),
    "categories": ("categories", _names),
    "tags": ("tags", _names),
    "authors": ("authors", _names),
    "languages": ("languages", _languages),
    "limit": ("limit", _positive_int),
    "formats": ("formats", _formats),
}
KEYS = tuple(_KEYS)


def _one(where: str, table: dict[str, Any], errors: list[str]) -> CustomFeed | None:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            errors.append(f"unknown key {where}.{key}{did_you_mean(key, KEYS)}")
            continue
        attr, check = _KEYS[key]
        try:
            values[attr] = check(f"{where}.{key}", value)
        except ConfigError as exc:
            errors.append(str(exc))
    if "name" not in values:
        if "name" not in table:
            errors.append(f"{where}.name is missing: every custom feed needs a name (its title)")
        return None
    if "folder" not in values:
        if "path" in table:
            return None  # its error is already listed
        from .pipeline.text import slugify  # nh3 comes with it: imported only by sites with custom feeds

        values["folder"] = slugify(values["name"])
    return CustomFeed(**values)


def _clash(key: str, where: str, feed: CustomFeed, taken: dict[str, str], by_name: dict[str, str]) -> str | None:
    """Why ``feed`` cannot be written beside the feeds before it (``key``: the key its folder comes from)."""
    from .pipeline.pages import PAGES
    from .pipeline.plan import ARCHIVE_FOLDER

    files = {fmt.file_name for fmt in FORMATS} | set(PAGES)
    parts = feed.folder.split("/")
    if parts[0] in RESERVED:
        return f"{key}: {parts[0]}/ holds {RESERVED[parts[0]]}; choose another folder (got {feed.folder!r})"
    if ARCHIVE_FOLDER in parts:  # the archives of the feed in the folder above (even with archives off today)
        return f"{key}: a folder named {ARCHIVE_FOLDER!r} holds the archive documents of the feed above it " \
               f"(got {feed.folder!r})"
    if clashing := next((part for part in parts if part in files), None):
        return f"{key}: a folder named {clashing!r} would clash with the file of that name (got {feed.folder!r})"
    if feed.folder in taken:
        return f"{key}: {feed.folder!r} is already the folder of {taken[feed.folder]}"
    if feed.name in by_name:
        return f"{where}.name: {feed.name!r} is already the name of {by_name[feed.name]} (a feed reader shows " \
               "only the title)"
    return None


def parse_feeds(value: Any, source_errors: list[str]) -> tuple[CustomFeed, ...]:
    """The ``[[feeds]]`` array of tables as :class:`CustomFeed` values; each problem is appended to
    ``source_errors`` (and the table it is in left out)."""
    if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
        source_errors.append(f"{SECTION} must be an array of tables: write each custom feed under [[{SECTION}]]")
        return ()
    feeds: list[CustomFeed] = []
    taken: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for number, table in enumerate(value, 1):
        where = f"{SECTION}[{number}]"
        feed = _one(where, table, source_errors)
        if feed is None:
            continue
        # Without a path, the folder is the name's slug: the name is what to change.
        key = f"{where}.path" if "path" in table else f"{where}.name (its folder is the name's slug)"
        problem = _clash(key, where, feed, taken, by_name)
        if problem:
            source_errors.append(problem)
            continue
        taken[feed.folder] = by_name[feed.name] = f"{where} ({feed.name!r})"
        feeds.append(feed)
    return tuple(feeds)
