"""``feedwright init``: a commented ``feedwright.toml`` and an example post, never over an existing file.

The file is generated from the key table of :mod:`feedwright.config` (and ``[schedule]``'s keys), each key shown
commented out with the default :class:`~feedwright.config.Site` holds, so it cannot drift from what a build does:
a key added to the table appears here with its default. In a Jekyll site root (it has ``_config.yml``) the keys
``_config.yml`` already sets are named in the header, not repeated, and no post is written (a post under
``_posts/`` would be published on the site itself).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .. import __version__
from ..config import _KEYS, CONFIG_NAME, Site, with_base_url
from ..errors import ConfigError, PublishError

EXAMPLE_POST = "hello-feedwright.md"

# One line of meaning per key (the README's Configuration table says more); None defaults get an example value.
MEANING: dict[str, str] = {
    "site.title": "feed title",
    "site.url": "absolute http(s) URL, the base of every link and id; required by `feedwright build`",
    "site.description": "feed description (the title is used where a format requires one)",
    "site.language": "e.g. ko, en-GB",
    "site.timezone": "IANA name; naive dates in front matter are in this zone",
    "site.author": "fallback author of every post",
    "build.content": "posts folder, relative to this file's folder (or absolute)",
    "build.output": "where feeds are written",
    "build.limit": "items per feed",
    "build.formats": "any of rss, atom, json",
    "build.full_content": "the whole post in the feed, not only the summary",
    "build.category_feeds": "a feed per category under categories/<slug>/",
    "build.tag_feeds": "a feed per tag under tags/<slug>/",
    "build.author_feeds": "a feed per author under authors/<slug>/",
    "build.archives": "RFC 5005 archive documents beside every feed, so a reader can walk back to the first post",
    "build.archive_size": "items per archive document",
    "build.permalink": "URL of a post, relative to the site url (:path, :slug, :title, :year, ...)",
    "build.max_file_size": "bytes; larger files are rejected without being read",
    "build.render_timeout": "seconds one post may take to render (at most 60)",
    "build.markdown": '"markdown" (Python-Markdown with extra) or "kramdown" (as Jekyll renders it)',
    "build.known_keys": "site-specific front-matter keys never reported as near misses",
    "build.browser_view": "write feed.xsl, index.html and feeds.opml beside the feeds",
    "websub.hubs": "WebSub hub URLs, announced in every feed and pinged when a feed changes",
    "websub.timeout": "seconds the whole ping round may take (at most 60)",
    "enclosures.fetch": "ask each remote image's server for its size and type",
    "enclosures.timeout": "seconds one look-up may take (at most 60)",
    "enclosures.max_age": "a remembered size is asked again when this old",
    "enclosures.allow_private": "also ask private, loopback and link-local addresses",
    "enclosures.concurrency": "look-ups at a time (1 to 32)",
    "schedule.every": "how often `feedwright daemon` builds",
    "schedule.cron": "instead of every: a 5-field crontab expression, in site.timezone",
    "feeds.name": "required: the feed's title suffix, and its folder's slug unless path is given",
    "feeds.path": "its folder under the output folder",
    "feeds.categories": "posts in any of these categories (each filter given must match)",
    "feeds.tags": "posts with any of these tags",
    "feeds.authors": "posts by any of these authors",
    "feeds.languages": "posts in any of these languages (en takes en-GB)",
    "feeds.limit": "items in this feed (else build.limit)",
    "feeds.formats": "else build.formats",
}
EXAMPLE: dict[str, str] = {  # keys without a default: a value to uncomment
    "site.url": '"https://your.site/"',
    "site.language": '"en"',
    "site.author": '"Jane Doe"',
    "schedule.cron": '"*/10 * * * *"',
}


# [[feeds]] has no defaults: one example custom feed, commented out, from feeds_config's keys.
FEED_EXAMPLE: dict[str, str] = {"name": '"Korean news"', "path": '"ko/news"', "categories": '["News"]',
                                "tags": '["Seoul"]', "authors": '["Jane Doe"]', "languages": '["ko"]', "limit": "20",
                                "formats": '["rss", "atom"]'}


def _toml(value: Any) -> str | None:
    """``value`` as a TOML literal; None when it has none (no default)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str | Path | ZoneInfo):
        return json.dumps(value.key if isinstance(value, ZoneInfo) else str(value), ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) or '""' for item in value) + "]"
    if isinstance(value, timedelta):
        from .schedule import format_duration

        return json.dumps(format_duration(value))
    return None


def _defaults() -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(Site)}
    out: dict[str, Any] = {}
    for (section, key), (attr, _check) in _KEYS.items():
        f = fields[attr]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out[f"{section}.{key}"] = None if (section, key) == ("site", "url") else default
    return out


def _keys() -> list[tuple[str, str, Any]]:
    """(section, key, default) for every key a feedwright.toml may hold, in the key table's order."""
    from .schedule import DEFAULT_EVERY, KEYS

    defaults = {**_defaults(), "schedule.every": DEFAULT_EVERY, "schedule.cron": None}
    keys = [*(f"{section}.{key}" for section, key in _KEYS), *(f"schedule.{key}" for key in KEYS)]
    return [(*name.split(".", 1), defaults.get(name)) for name in keys]  # type: ignore[misc]


def config_text(url: str | None = None, inherited: dict[str, dict[str, Any]] | None = None) -> str:
    """The commented ``feedwright.toml``: every key with its default, commented out; ``url`` set when given.

    ``inherited``: what a Jekyll site's ``_config.yml`` sets (as TOML sections); those keys are named in the
    header and left out below.
    """
    lines = [f"# feedwright.toml, written by `feedwright init` (feedwright {__version__}).",
             "# Every key is optional; each is shown commented out with its default: uncomment a line to change it.",
             "# The README's Configuration section says more about each."]
    if inherited is not None:
        lines += ["#", "# This folder is a Jekyll site: feedwright reads _config.yml first, and this file overrides it",
                  "# key by key, so it holds only what differs. Read from _config.yml (permalink only from there,",
                  "# as Jekyll publishes each post under it):"]
        lines += [f"#   [{section}] {key} = {_toml(value)}" for section, table in inherited.items()
                  for key, value in table.items()]
    section_now = ""
    for section, key, default in _keys():
        name = f"{section}.{key}"
        if inherited is not None and key in inherited.get(section, {}):
            continue
        if section != section_now:
            section_now = section
            # [schedule] stays commented: its mere presence loads the scheduler on every build.
            lines += ["", f"# [{section}]" if section == "schedule" else f"[{section}]"]
        meaning = MEANING.get(name)
        if meaning:
            lines.append(f"# {meaning}")
        if name == "site.url" and url:
            lines.append(f"url = {json.dumps(url)}")
            continue
        literal = _toml(default)
        lines.append(f"# {key} = {literal if literal is not None else EXAMPLE.get(name, '(no default)')}")
    return "\n".join([*lines, *_custom_feeds()]) + "\n"


def _custom_feeds() -> list[str]:
    from ..feeds_config import KEYS

    lines = ["", "# Custom feeds: any number of [[feeds]] tables, e.g. (the README's Feeds section says more):",
             "# [[feeds]]"]
    for key in KEYS:
        meaning = MEANING.get(f"feeds.{key}")
        lines += [f"# {meaning}"] if meaning else []
        lines.append(f"# {key} = {FEED_EXAMPLE.get(key, '(no default)')}")
    return lines


def example_post(now: datetime) -> str:
    """A post that shows the front matter feedwright reads."""
    return (
        "---\n"
        "title: Hello, feedwright\n"
        f"date: {now.isoformat(sep=' ', timespec='seconds')}\n"
        "categories: [News]\n"
        "tags: [feedwright]\n"
        "summary: The example post `feedwright init` wrote; edit it or delete it.\n"
        "---\n\n"
        "Every file with front matter under this folder is a post. Its **Markdown** becomes the feed item's\n"
        "content; `draft: true` keeps a post out of the feeds, and a future `date` holds it back until then.\n"
    )


def init(root: Path, now: datetime, url: str | None = None) -> list[Path]:
    """Write ``feedwright.toml`` (and, outside a Jekyll site, an example post) in ``root``; the files written.

    Raises :class:`ConfigError` when one of them exists already (nothing is written then) or ``url`` is not an
    absolute http(s) URL, :class:`PublishError` when a file cannot be written.
    """
    root = Path(root).absolute()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: is a file, not a folder")
    if url is not None:
        url = with_base_url(Site(root), url, "--url").url
    jekyll = (root / "_config.yml").is_file()
    inherited = None
    if jekyll:
        from ..jekyll.config import read_yaml, translate

        inherited, settings = translate(root / "_config.yml", read_yaml(root / "_config.yml"))
        # Posts' URLs follow _config.yml's permalink only (Jekyll publishes them there): never repeated below.
        inherited["build"]["permalink"] = settings.permalink
    files = {root / CONFIG_NAME: config_text(url, inherited)}
    content = root / Site.content
    if not jekyll and not (content.is_dir() and any(content.iterdir())):  # never add a post to a real site
        files[content / EXAMPLE_POST] = example_post(now)
    for path in files:
        if path.exists() or path.is_symlink():
            raise ConfigError(f"{path}: already exists; feedwright init never overwrites a file")
    written = []
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as fh:  # "x": a file that appeared meanwhile is not overwritten
                fh.write(text)
        except FileExistsError:
            raise ConfigError(f"{path}: already exists; feedwright init never overwrites a file") from None
        except OSError as exc:
            raise PublishError(f"{path}: cannot write: {exc.strerror}") from None
        written.append(path)
    return written
