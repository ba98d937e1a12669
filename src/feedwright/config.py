"""Read ``feedwright.toml`` once, validate every key, and hand the rest of the pipeline a frozen :class:`Site`."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .formats import NAMES as FORMATS

if TYPE_CHECKING:
    from .feeds_config import CustomFeed
    from .jekyll.settings import JekyllSettings
    from .ops.schedule import Schedule

CONFIG_NAME = "feedwright.toml"
STATE_DIR = ".feedwright"
DEFAULT_PERMALINK = "/:path/"
PERMALINK_TOKENS = (":path", ":dir", ":slug", ":year", ":month", ":day", ":category")
MARKDOWN_DIALECTS = ("markdown", "kramdown")  # the rows of feedwright.pipeline.markdown.DIALECTS


@dataclass(frozen=True)
class Site:
    """Everything a build needs to know about one site; paths are absolute."""

    root: Path
    title: str = "Untitled site"
    url: str = "http://localhost:8000/"
    description: str = ""
    language: str | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    author: str | None = None
    content: Path = Path("content")
    output: Path = Path("output")
    limit: int = 50
    formats: tuple[str, ...] = FORMATS
    full_content: bool = True
    category_feeds: bool = True
    tag_feeds: bool = False
    author_feeds: bool = False
    feeds: tuple[CustomFeed, ...] = ()  # [[feeds]]: custom feeds (feeds_config.py)
    archives: bool = False  # RFC 5005 archive documents of every feed (pipeline/archive.py)
    archive_size: int = 100  # posts per archive document
    permalink: str = DEFAULT_PERMALINK
    # A post is text: 1 MiB is twenty times the longest article in the test corpora. Bigger files are rejected
    # from their size, unread, so that nothing large is parsed or held in memory by mistake (a log, a dump).
    max_file_size: int = 1024 * 1024
    render_timeout: float = 2.0  # seconds one post may take to render before it is rejected
    browser_view: bool = True  # feed.xsl + its <?xml-stylesheet?>, index.html, feeds.opml (pages.py)
    hubs: tuple[str, ...] = ()  # WebSub hubs, announced in every feed and pinged when a feed changes
    hub_timeout: float = 5.0  # seconds per ping attempt
    markdown: str = "markdown"  # Markdown dialect: "markdown" (Python-Markdown + extra) or "kramdown" (Jekyll's)
    known_keys: tuple[str, ...] = ()  # sorted; site-specific front-matter keys: never reported as typos
    # [enclosures]: ask remote images' servers for their size (pipeline/enclosures.py)
    enclosure_fetch: bool = False
    enclosure_timeout: float = 10.0  # seconds one look-up may take, redirects included
    enclosure_max_age: timedelta = timedelta(days=30)  # a size is asked again when this old
    enclosure_allow_private: bool = False  # private, loopback, link-local addresses may be asked (tests)
    enclosure_concurrency: int = 4  # look-ups at a time
    # False while url is the placeholder default: nothing may be published under it (require_url).
    url_configured: bool = False
    # The daemon's [schedule]; None: the section is absent (every 10 minutes). Not part of repr(): it keys caches.
    schedule: Schedule | None = field(default=None, repr=False)
    jekyll: JekyllSettings | None = None  # a Jekyll site root (_config.yml): see feedwright.jekyll
    variables: Mapping[str, Any] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {type(value).__name__}")
    return value


def _nonempty_str(key: str, value: Any) -> str:
    value = _str(key, value).strip()
    if not value:
        raise ConfigError(f"{key} must not be empty")
    return value


def _url(key: str, value: Any) -> str:
    value = _nonempty_str(key, value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{key} must be an absolute http(s) URL, got {value!r}")
    # Every link is joined onto this, so it must end in a slash or urljoin would drop its last segment.
    return value if value.endswith("/") else value + "/"


def _timezone(key: str, value: Any) -> ZoneInfo:
    name = _nonempty_str(key, value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "America"
        raise ConfigError(f"{key}: unknown IANA time zone {name!r}") from None


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, got {value!r}")
    return value


def _path(key: str, value: Any) -> Path:
    return Path(_nonempty_str(key, value))


def _formats(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{key} must be a non-empty list drawn from {list(FORMATS)}")
    bad = [v for v in value if v not in FORMATS]
    if bad:
        raise ConfigError(f"{key}: unknown format {bad[0]!r}; choose from {list(FORMATS)}")
    # Canonical order, no repeats: the set of feeds written must not depend on how the list was typed.
    return tuple(f for f in FORMATS if f in value)


def _hubs(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list of hub URLs")
    hubs = []
    for item in value:
        parts = urlsplit(_nonempty_str(key, item))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{key} entries must be absolute http(s) URLs, got {item!r}")
        hubs.append(item.strip())
    return tuple(dict.fromkeys(hubs))


def _keys(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f'{key} must be a list of front-matter key names, such as ["subtitle", "hero"]')
    return tuple(sorted(set(value)))  # sorted: repr(Site) keys the cache


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
        raise ConfigError(f"{key} must be a number of seconds between 0 and 60, got {value!r}")
    return float(value)


def _duration(key: str, value: Any) -> timedelta:
    from .ops.schedule import parse_every  # the same "30s", "15m", "1d" as [schedule] every

    return parse_every(value, key)


def _threads(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32:
        raise ConfigError(f"{key} must be a whole number between 1 and 32, got {value!r}")
    return value


def _dialect(key: str, value: Any) -> str:
    if value not in MARKDOWN_DIALECTS:
        raise ConfigError(f"{key} must be one of {list(MARKDOWN_DIALECTS)}, got {value!r}")
    return value


def _permalink(key: str, value: Any) -> str:
    value = _nonempty_str(key, value)
    if not value.startswith("/"):
        raise ConfigError(f"{key} must start with '/', got {value!r}")
    if not any(token in value for token in (":path", ":slug", ":title")):
        raise ConfigError(f"{key} must contain :path, :slug or :title so that every post gets its own URL")
    return value


# (section, key) -> (Site field, validator). One row per documented key; anything else is a typo.
_KEYS: dict[tuple[str, str], tuple[str, Callable[[str, Any], Any]]] = {
    ("site", "title"): ("title", _nonempty_str),
    ("site", "url"): ("url", _url),
    ("site", "description"): ("description", _str),
    ("site", "language"): ("language", _nonempty_str),
    ("site", "timezone"): ("timezone", _timezone),
    ("site", "author"): ("author", _nonempty_str),
    ("build", "content"): ("content", _path),
    ("build", "output"): ("output", _path),
    ("build", "limit"): ("limit", _positive_int),
    ("build", "formats"): ("formats", _formats),
    ("build", "full_content"): ("full_content", _bool),
    ("build", "category_feeds"): ("category_feeds", _bool),
    ("build", "tag_feeds"): ("tag_feeds", _bool),
    ("build", "author_feeds"): ("author_feeds", _bool),
    ("build", "archives"): ("archives", _bool),
    ("build", "archive_size"): ("archive_size", _positive_int),
    ("build", "permalink"): ("permalink", _permalink),
    ("build", "max_file_size"): ("max_file_size", _positive_int),
    ("build", "browser_view"): ("browser_view", _bool),
    ("build", "markdown"): ("markdown", _dialect),
    ("build", "known_keys"): ("known_keys", _keys),
    ("build", "render_timeout"): ("render_timeout", _seconds),
    ("websub", "hubs"): ("hubs", _hubs),
    ("websub", "timeout"): ("hub_timeout", _seconds),
    ("enclosures", "fetch"): ("enclosure_fetch", _bool),
    ("enclosures", "timeout"): ("enclosure_timeout", _seconds),
    ("enclosures", "max_age"): ("enclosure_max_age", _duration),
    ("enclosures", "allow_private"): ("enclosure_allow_private", _bool),
    ("enclosures", "concurrency"): ("enclosure_concurrency", _threads),
}

_SECTIONS = ("site", "build", "websub", "enclosures", "schedule", "feeds")
_NAMES = [f"{section}.{key}" for section, key in _KEYS] + ["schedule.every", "schedule.cron"]


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """``; did you mean 'x'?`` for the closest of ``choices``, or nothing."""
    match = get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _schedule(table: Any, tz: ZoneInfo) -> Schedule:
    # The cron parser (APScheduler) is imported only by sites that have a [schedule] section.
    from .ops.schedule import parse_schedule

    return parse_schedule(table, tz)


def _check_section(section: str, table: dict[str, Any], values: dict[str, Any], errors: list[str]) -> None:
    for key, value in table.items():
        name = f"{section}.{key}"
        if (section, key) not in _KEYS:
            # A right key in the wrong section ([site] limit) is the likelier mistake than a typo.
            elsewhere = [other for other in _NAMES if other.partition(".")[2] == key]
            errors.append(f"unknown key {name}{did_you_mean(elsewhere[0] if elsewhere else name, _NAMES)}")
            continue
        attr, check = _KEYS[(section, key)]
        try:
            values[attr] = check(name, value)
        except ConfigError as exc:
            errors.append(str(exc))


def parse_config(data: dict[str, Any], root: Path, source: str = CONFIG_NAME, *, jekyll: bool = False) -> Site:
    """Validate a parsed TOML document and return the :class:`Site` it describes.

    Every problem is found before any is reported: the :class:`ConfigError` lists each on its own line.

    ``jekyll``: the content folder is a Jekyll site root, which holds ``output/`` (never read as content).
    """
    values: dict[str, Any] = {}
    errors: list[str] = []
    for section, table in data.items():
        if section not in _SECTIONS:
            errors.append(f"unknown section [{section}]{did_you_mean(section, _SECTIONS)}")
        elif section == "feeds":  # [[feeds]]: an array of tables, one per custom feed
            from .feeds_config import parse_feeds

            values["feeds"] = parse_feeds(table, errors)
        elif not isinstance(table, dict):
            errors.append(f"{section} must be a table")
        elif section != "schedule":
            _check_section(section, table, values, errors)
    if "schedule" in data and isinstance(data["schedule"], dict):
        try:
            values["schedule"] = _schedule(data["schedule"], values.get("timezone", ZoneInfo("UTC")))
        except ConfigError as exc:
            errors.append(str(exc))
    values["url_configured"] = "url" in values
    site = Site(root=root, **values)
    content, output = root / site.content, root / site.output
    # A Jekyll site root holds output/ itself; the collector never reads it as content.
    if not jekyll and (output.resolve() == content.resolve() or content.resolve() in output.resolve().parents):
        errors.append("build.output must not be inside build.content")
    if errors:
        raise ConfigError("\n".join(f"{source}: {error}" for error in errors))
    return site


def with_base_url(site: Site, url: str, key: str = "--base-url") -> Site:
    """``site`` published under ``url`` (validated like ``site.url``) instead of its configured one."""
    return replace(site, url=_url(key, url), url_configured=True)


def require_url(site: Site) -> None:
    """Refuse to publish under the placeholder url: ids that feed readers stored can never be taken back."""
    if not site.url_configured and site.jekyll is not None:
        raise ConfigError(f"{site.root / '_config.yml'}: no url, so every link and id would point at {site.url}; "
                          'add url: "https://your.site" to it, or pass --base-url URL')
    if not site.url_configured:
        raise ConfigError(
            f"{site.root / CONFIG_NAME}: no [site] url, so every link and id would point at {site.url}; "
            'add url = "https://your.site/" under [site], or pass --base-url URL'
        )


def load_site(root: Path | str = ".") -> Site:
    """Load ``feedwright.toml`` from ``root`` (every key is optional) and validate it; a Jekyll site root (it
    has ``_config.yml``) is read as Jekyll reads it, ``feedwright.toml`` overriding key by key."""
    root = Path(root).absolute()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: is a file, not a folder; --site takes the site folder (the one that holds "
                          f"{CONFIG_NAME} and content/)")
    if not root.is_dir():
        raise ConfigError(f"{root}: site folder does not exist")
    if (root / "_config.yml").is_file():
        from .jekyll.config import load_jekyll_site

        return load_jekyll_site(root)
    path = root / CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    site = parse_config(data, root, str(path))
    if not (root / site.content).is_dir():
        raise ConfigError(f"{root / site.content}: content folder does not exist")
    return site
