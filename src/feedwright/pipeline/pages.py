"""Browser view and discovery: what a person (not a feed reader) finds in ``output/``.

Three files beside the feeds, rendered by Jinja2 from ``templates/`` (package data, one stylesheet ``pages.css``
set inline in both pages), from the site and its feeds alone, never from the clock: two builds of the same feeds give
the same bytes, so publishing rewrites them only when the feeds (their list, titles or post counts) change.

``feed.xsl``
    An XSLT 1.0 stylesheet that shows an RSS 2.0 or Atom 1.0 feed as a readable page: what a feed is, how to
    subscribe, and each item's title, date, excerpt and image. Every RSS and Atom feed points to it with an
    ``<?xml-stylesheet?>`` processing instruction (:func:`with_stylesheet`).
``index.html``
    Every feed in every format, with autodiscovery ``<link rel="alternate">`` tags in its head.
``feeds.opml``
    Every feed as an OPML 2.0 subscription list, for importing into a feed reader.
"""

from __future__ import annotations

import html
from functools import cache
from typing import TYPE_CHECKING

from ..config import Site
from ..formats import BY_NAME, Format
from .plan import Feed

if TYPE_CHECKING:
    import jinja2

STYLESHEET = "feed.xsl"
INDEX = "index.html"
OPML = "feeds.opml"
PAGES = (STYLESHEET, INDEX, OPML)

SECTIONS = {"site": "The whole site", "custom": "Selected feeds", "category": "Categories", "tag": "Tags",
            "author": "Authors"}
# Feeds that the site names itself (not after a category, tag or author): top level in the OPML list, and their
# discovery titles say no kind.
OWN = ("site", "custom")


def stylesheet_href(folder: str) -> str:
    """The path from a feed in ``folder`` (output-relative, "" for the root) to ``feed.xsl``.

    Relative, not absolute: it works on the real site, on a site under a sub-path and on a local preview server
    alike, and the stylesheet is always same-origin with the feed (browsers refuse cross-origin XSLT).
    """
    depth = len([part for part in folder.split("/") if part])
    return "../" * depth + STYLESHEET


def with_stylesheet(data: bytes, folder: str) -> bytes:
    """``data`` (an XML feed) with the ``<?xml-stylesheet?>`` instruction for ``feed.xsl`` after its declaration."""
    pi = f'<?xml-stylesheet type="text/xsl" href="{stylesheet_href(folder)}"?>\n'.encode()
    if data.startswith(b"<?xml"):
        declaration, _, rest = data.partition(b"\n")
        return declaration + b"\n" + pi + rest
    return pi + data


def pages(site: Site, feeds: list[Feed]) -> dict[str, bytes]:
    """``feed.xsl``, ``index.html`` and ``feeds.opml``, as output-relative path -> bytes."""
    return {
        STYLESHEET: _render(STYLESHEET, page="feed"),
        INDEX: index_html(site, feeds).encode("utf-8"),
        OPML: opml(site, feeds),
    }


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # loaded by the first build that writes the pages, not by `status` or `serve`
    import markupsafe

    # Autoescaping everywhere: every value is the site's or its posts' text, and each template is HTML or XML.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("feedwright.pipeline", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    # HTML shown as text: markup escaped once more, quotes as &quot; (readable when the page's source is read).
    environment.filters["source"] = lambda markup: markupsafe.Markup(html.escape(str(markup)))
    return environment


def _render(name: str, **context: object) -> bytes:
    return _environment().get_template(name).render(context).encode("utf-8")


def _formats(feed: Feed) -> list[Format]:
    return [BY_NAME[name] for name in feed.formats]


def index_html(site: Site, feeds: list[Feed]) -> str:
    """The page that lists every feed in each of its formats; its head carries the autodiscovery links."""
    sections = [(heading, [(feed, _formats(feed)) for feed in group])
                for kind, heading in SECTIONS.items() if (group := _of_kind(feeds, kind))]
    return _environment().get_template(INDEX).render(
        site=site,
        alternates=[(feed, fmt) for feed in feeds for fmt in _formats(feed)],
        own=OWN,
        sections=sections,
        opml=OPML,
        page="index",
    )


def _of_kind(feeds: list[Feed], kind: str) -> list[Feed]:
    return [feed for feed in feeds if feed.kind == kind]


def opml(site: Site, feeds: list[Feed]) -> bytes:
    """OPML 2.0: one ``type="rss"`` outline per feed, in the format readers are surest to read (the feed's first
    format in the table's order: RSS, else Atom, else JSON Feed); category, tag and author feeds inside a
    "Categories", a "Tags" and an "Authors" outline, custom feeds beside the site's.

    No dates: ``dateModified`` would have to change with every post (or be "now"), and OPML does not need it;
    without it the file changes only when a feed is added or removed.
    """
    # One outline per feed, not per format: a reader importing the list subscribes to every outline, and three
    # outlines per feed would be three subscriptions to the same posts.
    outlines = [(None if kind in OWN else heading, group) for kind, heading in SECTIONS.items()
                if (group := _of_kind(feeds, kind))]
    return _render(OPML, site=site, outlines=outlines)
