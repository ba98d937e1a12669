"""Feed -> bytes, in RSS 2.0 and Atom 1.0 (through feedgen) and JSON Feed 1.1.

feedgen 1.0.0 has traps that this module steps around, each covered by a test:

* feed and entry ``updated``/``lastBuildDate`` default to *now*: always set, to the newest item's update;
* ``add_entry`` prepends: entries are added with ``order="append"``;
* the RSS channel ``<link>`` is whichever ``link()`` came last: the self link first, the alternate last;
* Atom entry links lose ``rel``/``type``/``length``, so ``enclosure()`` would become a second alternate link:
  enclosures are written by our own extension instead, in both formats;
* the media extension always wraps in ``<media:group>``: our extension writes bare media elements;
* naive datetimes and XML control characters raise: dates are aware and text went through ``xml_safe``;
* ``content(type="CDATA")`` is invalid in Atom: content is plain escaped ``html``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..config import Site
from ..formats import BY_NAME
from . import archive
from .archive import FH_ARCHIVE, FH_NS
from .pages import with_stylesheet
from .plan import Feed
from .render import Entry

MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# An empty feed still needs a date, and it must not be "now": the bytes would change on every build.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _FeedExtension(BaseExtension):
    """Feed-level additions: the WebSub hub links and RFC 5005's links feedgen drops from RSS, ``fh:archive``."""

    hubs: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()  # (rel, href): RFC 5005's links (archive.links)
    media_type: str = ""
    archive: bool = False  # an archive document: fh:archive

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS, "dc": DC_NS}

    def _mark(self, parent: etree._Element) -> None:
        if self.archive:  # declared on the element itself: feeds without archives keep their namespaces
            etree.SubElement(parent, FH_ARCHIVE, nsmap={"fh": FH_NS})

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        # feedgen writes only the rel="self" atom:link into RSS; WebSub subscribers look for rel="hub" beside it,
        # RFC 5005 readers for rel="prev-archive" and the others.
        channel = feed.find("channel")
        anchor = channel.find(f"{{{ATOM_NS}}}link") if channel is not None else None
        if channel is None or anchor is None:
            return feed
        for rel, href in reversed(self.history):
            anchor.addnext(etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel, type=self.media_type))
        for href in reversed(self.hubs):
            anchor.addnext(etree.Element(f"{{{ATOM_NS}}}link", href=href, rel="hub"))
        self._mark(channel)
        return feed

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        self._mark(feed)
        return feed


class _EntryExtension(BaseEntryExtension):
    """Writes what feedgen gets wrong: enclosures, bare Media RSS elements, ``dc:creator``."""

    entry: Entry
    site_language: str | None = None

    def _media(self, parent: etree._Element) -> None:
        image = self.entry.image
        if image is None:
            return
        etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=image.url)
        content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=image.url)
        if image.type:
            content.set("type", image.type)
        content.set("medium", "image")
        if image.length:
            content.set("fileSize", str(image.length))

    def extend_rss(self, item: etree._Element) -> etree._Element:
        for name in self.entry.post.authors:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = name
        image = self.entry.image
        if image is not None and image.type:  # RSS requires an enclosure's type: without one, Media RSS only
            etree.SubElement(item, "enclosure", url=image.url, length=str(image.length), type=image.type)
        self._media(item)
        return item

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        language = _item_language(self.site_language, self.entry)
        if language:
            entry.set(XML_LANG, language)
        image = self.entry.image
        if image is not None:
            # Unqualified like feedgen's own entry elements, so the feed's default (Atom) namespace applies
            # instead of a stray "ns0:" prefix.
            link = etree.SubElement(entry, "link", rel="enclosure", href=image.url)
            if image.type:
                link.set("type", image.type)
            link.set("length", str(image.length))
        self._media(entry)
        return entry


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _item_language(site_language: str | None, entry: Entry) -> str | None:
    """The post's language when it is not the feed's (RSS has no per-item language; Atom inherits xml:lang)."""
    language = entry.post.language
    return language if language and language != site_language else None


def _updated(entries: list[Entry]) -> datetime:
    return max((e.post.updated for e in entries), default=EPOCH)


def _generator(site: Site, feed: Feed, entries: list[Entry], fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("feedwright", _FeedExtension, _EntryExtension)
    fg.id(archive.subscription(feed).url(site, "atom"))  # an archive document is part of the same feed
    fg.title(feed.title)
    fg.description(site.description or feed.title)
    media_type = BY_NAME[fmt].media_type
    fg.link(href=feed.url(site, fmt), rel="self", type=media_type)
    hubs = () if archive.is_archive(feed) else site.hubs  # an archive never changes: nothing to subscribe to
    history = tuple(archive.links(site, feed, fmt))
    if fmt == "atom":
        for hub in hubs:
            fg.link(href=hub, rel="hub")
        for rel, href in history:
            fg.link(href=href, rel=rel, type=media_type)
    fg.feedwright.hubs = hubs
    fg.feedwright.history = history
    fg.feedwright.media_type = media_type
    fg.feedwright.archive = archive.is_archive(feed)
    fg.link(href=site.url, rel="alternate", type="text/html")  # last: it becomes the RSS channel <link>
    if site.language:
        fg.language(site.language)
    if site.author:
        fg.author({"name": site.author})
    fg.generator("feedwright")
    fg.updated(_updated(entries))
    fg.lastBuildDate(_updated(entries))
    for item in entries:
        post = item.post
        fe = fg.add_entry(order="append")
        fe.title(post.title)
        fe.link(href=post.url, rel="alternate")
        fe.guid(post.id, permalink=post.id == post.url)
        fe.published(post.published)
        fe.updated(post.updated)
        # Atom needs an author on every entry when the feed has none.
        for name in post.authors or (() if site.author else (site.title,)):
            fe.author({"name": name})
        for name in (*post.categories, *post.tags):
            fe.category(term=name)
        # RSS <description> is HTML (readers parse it as such): the plain-text summary is escaped once for it,
        # so "<iframe>" in a sentence is read as text. Atom's <summary> is declared text and stays as it is.
        fe.summary(escape(item.summary, quote=False) if fmt == "rss" else item.summary)
        if site.full_content and item.html:  # a body-less post gets no empty <content/>
            fe.content(item.html, type="html")
        fe.feedwright.entry = item
        fe.feedwright.site_language = site.language
    return fg


def _styled(site: Site, feed: Feed, fmt: str, data: bytes) -> bytes:
    # A browser opening the feed shows it through feed.xsl (pages.py); feed readers skip the instruction.
    # The file's own folder: an archive document is one level below its feed's.
    return with_stylesheet(data, feed.path(fmt).rpartition("/")[0]) if site.browser_view else data


def rss(site: Site, feed: Feed, entries: list[Entry]) -> bytes:
    """RSS 2.0 with ``content:encoded``, ``dc:creator``, ``enclosure`` and Media RSS."""
    return _styled(site, feed, "rss", _generator(site, feed, entries, "rss").rss_str(pretty=True))


def atom(site: Site, feed: Feed, entries: list[Entry]) -> bytes:
    """Atom 1.0 (RFC 4287) with ``link rel="enclosure"`` and Media RSS."""
    return _styled(site, feed, "atom", _generator(site, feed, entries, "atom").atom_str(pretty=True))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def json_feed(site: Site, feed: Feed, entries: list[Entry]) -> bytes:
    """JSON Feed 1.1."""
    items = []
    for item in entries:
        post = item.post
        data: dict[str, object] = {"id": post.id, "url": post.url, "title": post.title}
        if site.full_content and item.html:
            data["content_html"] = item.html
        else:
            data["content_text"] = item.summary
        data["summary"] = item.summary
        if item.image:
            data["image"] = item.image.url
        data["date_published"] = _iso(post.published)
        data["date_modified"] = _iso(post.updated)
        if post.authors:
            data["authors"] = [{"name": name} for name in post.authors]
        tags = list(dict.fromkeys((*post.categories, *post.tags)))
        if tags:
            data["tags"] = tags
        language = _item_language(site.language, item)
        if language:
            data["language"] = language
        items.append(data)
    doc: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": site.url,
        "feed_url": archive.subscription(feed).url(site, "json"),
    }
    # JSON Feed pages with next_url only, back in time: the newest archive, then each older one.
    older = [href for rel, href in archive.links(site, feed, "json") if rel == "prev-archive"]
    if older:
        doc["next_url"] = older[0]
    if site.description:
        doc["description"] = site.description
    if site.language:
        doc["language"] = site.language
    if site.author:
        doc["authors"] = [{"name": site.author}]
    if site.hubs and not archive.is_archive(feed):
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in site.hubs]
    doc["items"] = items
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

