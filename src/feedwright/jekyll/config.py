"""``_config.yml`` -> the same key table as ``feedwright.toml`` (plus :class:`JekyllSettings`), read once.

A ``feedwright.toml`` beside ``_config.yml`` overrides it key by key. Only what feeds need is read; the whole
mapping is kept as ``Site.variables`` (Liquid's ``site.*``).
"""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import CONFIG_NAME, Site, parse_config
from ..errors import ConfigError
from .permalink import style_to_permalink
from .settings import DEFAULT_EXCLUDES, DEFAULT_MARKDOWN_EXT, Default, JekyllSettings

JEKYLL_CONFIG = "_config.yml"
_DEPRECATED_TYPES = {"post": "posts", "page": "pages", "draft": "drafts"}


def read_yaml(path: Path) -> dict[str, Any]:
    """``_config.yml`` with PyYAML's safe loader; an empty file is an empty mapping."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid YAML: {reason}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys to values")
    return data


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip() or None


def _author(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value).strip() or None if isinstance(value, str | int | float) else None


def _list(path: Path, config: dict[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):  # Configuration#check_include_exclude
        raise ConfigError(f"{path}: {key} must be a list, got {value!r}")
    return tuple(str(v) for v in value if v is not None)


def _defaults(path: Path, value: Any) -> tuple[Default, ...]:
    if not isinstance(value, list):
        return ()
    sets = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            continue  # Jekyll warns and skips an invalid set
        scope: dict[str, Any] = entry["scope"] if isinstance(entry.get("scope"), dict) else {}
        scope_path = scope.get("path")
        scope_path = scope_path.lstrip("/") if isinstance(scope_path, str) else ""
        kind = scope.get("type")
        kind = _DEPRECATED_TYPES.get(str(kind), str(kind)) if kind is not None else None
        sets.append(Default(scope_path, kind, dict(entry["values"])))
    return tuple(sets)


def _permalink(config: dict[str, Any]) -> str:
    collections = config.get("collections")
    posts = collections.get("posts") if isinstance(collections, dict) else None
    if isinstance(posts, dict) and isinstance(posts.get("permalink"), str):
        return posts["permalink"]
    value = config.get("permalink", "date")
    return style_to_permalink(str(value)) if value is not None else style_to_permalink("date")


def _site_url(config: dict[str, Any]) -> str | None:
    url, baseurl = _text(config, "url"), (_text(config, "baseurl") or "").strip("/")
    if not url and not baseurl:
        return None  # feedwright's default
    url = url or Site.url  # many sites leave url empty while developing; the base path still counts
    return url.rstrip("/") + "/" + baseurl if baseurl else url


def _feed_path(path: Path, feed: dict[str, Any]) -> str:
    value = feed.get("path")
    if not isinstance(value, str) or not value.strip("/ "):
        return "feed.xml"
    clean = posixpath.normpath(value.strip().lstrip("/"))
    if clean.startswith("..") or clean.endswith("/") or clean == ".":
        raise ConfigError(f"{path}: feed.path must be a file path inside the site, got {value!r}")
    return clean


def _feed_tags(feed: dict[str, Any]) -> tuple[tuple[str, ...] | None, tuple[str, ...], str] | None:
    tags = feed.get("tags")
    if not tags:
        return None
    tags = tags if isinstance(tags, dict) else {}
    only, exclude = tags.get("only"), tags.get("except")
    folder: str = tags["path"] if isinstance(tags.get("path"), str) else "/feed/by_tag/"
    return (
        tuple(map(str, only)) if isinstance(only, list) else None,
        tuple(map(str, exclude)) if isinstance(exclude, list) else (),
        folder.strip("/"),
    )


def translate(path: Path, config: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], JekyllSettings]:
    """``_config.yml`` as a ``feedwright.toml`` document, and the Jekyll settings beside it."""
    feed: dict[str, Any] = config["feed"] if isinstance(config.get("feed"), dict) else {}
    site: dict[str, Any] = {}
    for key, name in (("title", "title"), ("description", "description"), ("lang", "language"),
                      ("timezone", "timezone")):
        if _text(config, key):
            site[name] = _text(config, key)
    if _author(config.get("author")):
        site["author"] = _author(config.get("author"))
    url = _site_url(config)
    if url:
        site["url"] = url
    build: dict[str, Any] = {"content": "."}
    limit = feed.get("posts_limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        build["limit"] = limit
    if feed.get("excerpt_only") is True:
        build["full_content"] = False
    if feed.get("tags"):
        build["tag_feeds"] = True
    # Jekyll's default converter is kramdown; other converters (jekyll-commonmark, ...) are closer to
    # Python-Markdown's own dialect than to kramdown's.
    build["markdown"] = "kramdown" if str(config.get("markdown") or "kramdown").lower() == "kramdown" else "markdown"
    permalink = _permalink(config)
    categories = feed.get("categories")
    markdown_ext = str(config.get("markdown_ext") or ",".join(DEFAULT_MARKDOWN_EXT))
    separator = config.get("excerpt_separator", "\n\n")
    settings = JekyllSettings(
        permalink=permalink,
        baseurl=_text(config, "baseurl") or "",
        future=config.get("future") is True,
        show_drafts=bool(config.get("show_drafts")),
        unpublished=config.get("unpublished") is True,
        excerpt_separator=str(separator) if separator is not None else "",
        markdown_ext=tuple(e.strip().lower() for e in markdown_ext.split(",") if e.strip()),
        exclude=tuple(dict.fromkeys(_list(path, config, "exclude") + DEFAULT_EXCLUDES)),
        include=_list(path, config, "include") if "include" in config else (".htaccess",),
        defaults=_defaults(path, config.get("defaults")),
        feed_path=_feed_path(path, feed),
        feed_categories=tuple(str(c) for c in categories) if isinstance(categories, list) else None,
        feed_tags=_feed_tags(feed),
    )
    return {"site": site, "build": build}, settings


def _merge_toml(data: dict[str, dict[str, Any]], path: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {k: dict(v) for k, v in data.items()}
    if not path.exists():
        return merged
    try:
        toml = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, table in toml.items():
        if isinstance(table, dict) and isinstance(merged.get(section), dict):
            merged[section].update(table)  # key by key: a site may set only [build] limit
        else:
            merged[section] = table
    return merged


def load_jekyll_site(root: Path) -> Site:
    """The :class:`Site` of a Jekyll site root: ``_config.yml``, overridden key by key by ``feedwright.toml``."""
    path = root / JEKYLL_CONFIG
    config = read_yaml(path)
    data, settings = translate(path, config)
    merged = _merge_toml(data, root / CONFIG_NAME)
    site = parse_config(merged, root, str(root / CONFIG_NAME) if (root / CONFIG_NAME).exists() else str(path),
                        jekyll=True)
    describe = (
        f"site: Jekyll {JEKYLL_CONFIG}, url {site.url}, permalink {settings.permalink}"
        + (f", overridden by {CONFIG_NAME}" if (root / CONFIG_NAME).exists() else "")
    )
    return replace(site, jekyll=replace(settings, describe=describe), variables=config)
