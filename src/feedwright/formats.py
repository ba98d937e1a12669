"""The feed formats feedwright writes: one row per format, read by every part that names a format.

A row says what the format is called in ``feedwright.toml`` (``name``), the file each feed is written to, the media
type it is served and announced with, the label people read, whether a browser can show it through ``feed.xsl``,
and the function that turns a feed into its bytes. Adding a format is adding a row (and its serialiser).

The order of the table is the order of preference: ``formats`` in the config is put in this order, and the OPML
list names each feed in the first configured format (RSS: every reader reads it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .config import Site
    from .pipeline.plan import Feed
    from .pipeline.render import Entry

    Serialiser = Callable[[Site, Feed, list[Entry]], bytes]


@dataclass(frozen=True)
class Format:
    """One output format."""

    name: str  # as written in [site] formats
    file_name: str  # each feed's file in its folder
    media_type: str  # Content-Type and <link type>, without parameters
    label: str  # what index.html and discovery titles call it
    styled: bool  # XML a browser shows through feed.xsl (the <?xml-stylesheet?> instruction)
    # "module:function", imported on first use: feedgen and lxml load only when a feed is serialised, not for
    # `feedwright status` or a warm build that serialises nothing.
    serialiser: str

    def serialise(self, site: Site, feed: Feed, entries: list[Entry]) -> bytes:
        """``feed`` with its rendered ``entries``, as this format's bytes."""
        return _load(self.serialiser)(site, feed, entries)


@cache
def _load(reference: str) -> Serialiser:
    module, _, function = reference.partition(":")
    return cast("Serialiser", getattr(importlib.import_module(module), function))


FORMATS: tuple[Format, ...] = (
    Format("rss", "rss.xml", "application/rss+xml", "RSS", True, "feedwright.pipeline.serialise:rss"),
    Format("atom", "atom.xml", "application/atom+xml", "Atom", True, "feedwright.pipeline.serialise:atom"),
    Format("json", "feed.json", "application/feed+json", "JSON Feed", False, "feedwright.pipeline.serialise:json_feed"),
)
BY_NAME: dict[str, Format] = {fmt.name: fmt for fmt in FORMATS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
