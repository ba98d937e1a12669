"""The Jekyll settings a build needs beyond :class:`~feedwright.config.Site`'s own keys (plain, picklable data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MARKDOWN_EXT = ("markdown", "mkdown", "mkdn", "mkd", "md")
DEFAULT_EXCLUDES = (".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
                    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/")


@dataclass(frozen=True)
class Default:
    """One ``defaults:`` set of ``_config.yml``: its scope and the front-matter values it supplies."""

    path: str  # scope.path, leading slash removed; "" applies everywhere
    type: str | None  # scope.type ("posts"), None when the scope names no type
    values: dict[str, Any]


@dataclass(frozen=True)
class JekyllSettings:
    """What ``_config.yml`` says about posts; ``describe`` is the build's first line."""

    permalink: str = "/:categories/:year/:month/:day/:title:output_ext"  # the posts' URL template
    baseurl: str = ""
    future: bool = False
    show_drafts: bool = False
    unpublished: bool = False
    excerpt_separator: str = "\n\n"
    markdown_ext: tuple[str, ...] = DEFAULT_MARKDOWN_EXT
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    include: tuple[str, ...] = (".htaccess",)
    defaults: tuple[Default, ...] = ()
    feed_path: str = "feed.xml"  # jekyll-feed's Atom feed, written there too
    feed_categories: tuple[str, ...] | None = None  # jekyll-feed's feed.categories; None: every category
    # jekyll-feed's feed.tags: (only, except, folder), None when it writes no tag feeds
    feed_tags: tuple[tuple[str, ...] | None, tuple[str, ...], str] | None = None
    describe: str = "site: Jekyll _config.yml"
