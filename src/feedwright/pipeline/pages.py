"""Browser view and discovery: what a person (not a feed reader) finds in ``output/``.

Three files beside the feeds, built from the site and its feeds alone, never from the clock: two builds of the same
feeds give the same bytes, so publishing rewrites them only when the feeds (their list, titles or post counts) change.

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
import xml.etree.ElementTree as ET
from urllib.parse import quote

from ..config import Site
from .plan import Feed

STYLESHEET = "feed.xsl"
INDEX = "index.html"
OPML = "feeds.opml"
PAGES = (STYLESHEET, INDEX, OPML)

MIME = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
LABEL = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
SECTIONS = {"site": "The whole site", "category": "Categories", "tag": "Tags"}
# OPML lists each feed once: a reader importing it subscribes to every outline, and three outlines per feed would
# be three subscriptions to the same posts. RSS first because it is what every reader reads.
OPML_PREFERENCE = ("rss", "atom", "json")


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
        STYLESHEET: FEED_XSL.encode("utf-8"),
        INDEX: index_html(site, feeds).encode("utf-8"),
        OPML: opml(site, feeds),
    }


def _name(feed: Feed) -> str:
    return feed.title if feed.kind == "site" else feed.name


def _link_title(feed: Feed, fmt: str) -> str:
    # Readers list these titles side by side: a category and a tag of the same name must not look alike.
    kind = "" if feed.kind == "site" else f"{feed.kind}, "
    return f"{feed.title} ({kind}{LABEL[fmt]})"


def discovery_links(site: Site, feeds: list[Feed]) -> list[str]:
    """One ``<link rel="alternate">`` per feed file, absolute, ready to paste into any page's ``<head>``."""
    return [
        f'<link rel="alternate" type="{MIME[fmt]}" title="{html.escape(_link_title(feed, fmt))}"'
        f' href="{html.escape(feed.url(site, fmt))}">'
        for feed in feeds
        for fmt in site.formats
    ]


def index_html(site: Site, feeds: list[Feed]) -> str:
    """The page that lists every feed; its head carries the autodiscovery links."""
    e = html.escape
    # The page's own words are English; names and titles are in the site's language, marked so that browsers
    # pick the right fonts (and screen readers the right voice) for them.
    lang = f' lang="{e(site.language)}"' if site.language else ""
    links = discovery_links(site, feeds)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feeds of {e(site.title)}</title>",
        *links,
        f"<style>{INDEX_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1{lang}>{e(site.title)}</h1>",
    ]
    if site.description:
        out.append(f'<p class="description"{lang}>{e(site.description)}</p>')
    out += [
        '<section class="about">',
        "<h2>Follow this site in a feed reader</h2>",
        "<p>A web feed lists a site's newest posts in a form that feed readers (also called news or RSS readers) "
        "understand. Copy the address of a feed below into your feed reader and it will show you every new post, "
        "with no account on this site and no algorithm deciding what you see.</p>",
        "<p>RSS and Atom work in every feed reader; JSON Feed in most modern ones. They carry the same posts: "
        "pick one.</p>",
        "</section>",
    ]
    for kind, heading in SECTIONS.items():
        group = [feed for feed in feeds if feed.kind == kind]
        if not group:
            continue
        out += [f"<h2>{heading}</h2>", '<ul class="feeds">']
        for feed in group:
            formats = " ".join(
                f'<a class="format {fmt}" href="{e(quote(feed.path(fmt)))}" type="{MIME[fmt]}"'
                f' title="{e(feed.url(site, fmt))}">{LABEL[fmt]}</a>'
                for fmt in site.formats
            )
            count = len(feed.posts)
            posts = f"{count} post" if count == 1 else f"{count} posts"
            out.append(
                f'<li><span class="name"{lang}>{e(_name(feed))}</span> <span class="count">{posts}</span>'
                f' <span class="formats">{formats}</span></li>'
            )
        out.append("</ul>")
    snippet = "\n".join(links)
    out += [
        '<section class="more">',
        f'<p>Every feed at once, for importing into a feed reader: <a href="{OPML}" type="text/x-opml">{OPML}</a>'
        " (OPML).</p>",
        "<details>",
        "<summary>Let browsers and feed readers find these feeds from your own pages</summary>",
        "<p>Paste these lines into the <code>&lt;head&gt;</code> of your pages (keep the ones you want):</p>",
        f"<pre><code>{e(snippet)}</code></pre>",
        "</details>",
        "</section>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def opml(site: Site, feeds: list[Feed]) -> bytes:
    """OPML 2.0: one ``type="rss"`` outline per feed, in the format readers are surest to read (RSS, else Atom,
    else JSON Feed); category and tag feeds inside a "Categories" and a "Tags" outline.

    No dates: ``dateModified`` would have to change with every post (or be "now"), and OPML does not need it;
    without it the file changes only when a feed is added or removed.
    """
    fmt = next(f for f in OPML_PREFERENCE if f in site.formats)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"Feeds of {site.title}"
    if site.author:
        ET.SubElement(head, "ownerName").text = site.author
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        # Category and tag feeds in a folder each (readers import them as folders): a category and a tag of the
        # same name have the same feed title, and only the folder tells them apart.
        parent = body
        if feed.kind != "site":
            if feed.kind not in folders:
                heading = SECTIONS[feed.kind]
                folders[feed.kind] = ET.SubElement(body, "outline", text=heading, title=heading)
            parent = folders[feed.kind]
        outline = ET.SubElement(parent, "outline", type="rss", text=feed.title, title=feed.title)
        outline.set("xmlUrl", feed.url(site, fmt))
        outline.set("htmlUrl", site.url)
        if site.language:
            outline.set("language", site.language)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


INDEX_CSS = """
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5b6573; --line: #dfe3e8; --accent: #0b63c5;
  --box: #f3f6f9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ee; --muted: #9aa5b4; --line: #333b46;
  --accent: #6cb0ff; --box: #1b2129; } }
body { margin: 0; color: var(--fg); background: Canvas; line-height: 1.55;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK KR",
  "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.description { color: var(--muted); margin: 0 0 1.5rem; }
.about { background: var(--box); border: 1px solid var(--line); border-radius: .5rem; padding: .25rem 1.25rem; }
.about h2 { font-size: 1.05rem; margin: .9rem 0 .25rem; }
a { color: var(--accent); }
:lang(ko) { word-break: keep-all; }
.feeds { list-style: none; padding: 0; margin: 0; }
.feeds li { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem; padding: .6rem 0;
  border-bottom: 1px solid var(--line); }
.name { font-weight: 600; }
.count { color: var(--muted); font-size: .875rem; }
.formats { margin-left: auto; display: flex; gap: .4rem; }
.format { font-size: .8rem; text-decoration: none; border: 1px solid var(--line); border-radius: 1rem;
  padding: .1rem .6rem; }
.format:hover { border-color: var(--accent); }
.more { margin-top: 2rem; color: var(--muted); }
pre { overflow-x: auto; background: var(--box); border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem; font-size: .8rem; }
"""

# XSLT 1.0 only: it is the only version browsers implement. Item text is copied with value-of (escaped), never with
# disable-output-escaping: this is a readable list of posts, not a renderer of the feed's HTML.
FEED_XSL = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows a feedwright RSS 2.0 or Atom 1.0 feed as a readable page when it is opened in a web browser.
     Feed readers ignore it. Written by feedwright; rewritten on every build. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom media content dc">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="channel" select="/rss/channel | /atom:feed"/>
  <xsl:variable name="title" select="normalize-space(/rss/channel/title | /atom:feed/atom:title)"/>
  <xsl:variable name="description" select="normalize-space(/rss/channel/description | /atom:feed/atom:subtitle)"/>
  <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="self"
      select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="lang" select="/rss/channel/language | /atom:feed/@xml:lang"/>
  <xsl:variable name="format">
    <xsl:choose>
      <xsl:when test="/atom:feed">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <!-- The feed's own instruction says where this stylesheet is ("../../feed.xsl"); index.html lies beside it. -->
  <xsl:variable name="pi" select="/processing-instruction('xml-stylesheet')[contains(., 'feed.xsl')][1]"/>
  <xsl:variable name="root" select="substring-before(substring-after($pi, 'href=&quot;'), 'feed.xsl')"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>@@CSS@@</style>
      </head>
      <body>
        <main>
          <header>
            <p class="kicker"><xsl:value-of select="$format"/> feed</p>
            <h1><xsl:call-template name="lang"/><xsl:value-of select="$title"/></h1>
            <xsl:if test="$description and $description != $title">
              <p class="description"><xsl:call-template name="lang"/><xsl:value-of select="$description"/></p>
            </xsl:if>
          </header>
          <section class="about">
            <h2>This is a web feed</h2>
            <p>Feed readers (also called news or RSS readers) use this address to show you new posts from this
              site as soon as they are published, with no account on the site and no algorithm deciding what you
              see. To subscribe, copy this address into your feed reader:</p>
            <p class="address"><code><xsl:value-of select="$self"/></code></p>
            <p class="links">
              <xsl:if test="starts-with($home, 'http://') or starts-with($home, 'https://')">
                <a href="{$home}">Visit the website</a>
              </xsl:if>
              <xsl:if test="$pi">
                <a href="{$root}index.html">All feeds of this site</a>
              </xsl:if>
            </p>
          </section>
          <h2>Recent posts</h2>
          <xsl:choose>
            <xsl:when test="$channel/item | $channel/atom:entry">
              <ol class="items">
                <xsl:call-template name="lang"/>
                <xsl:apply-templates select="$channel/item | $channel/atom:entry"/>
              </ol>
            </xsl:when>
            <xsl:otherwise>
              <p class="empty">No posts yet.</p>
            </xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="lang">
    <xsl:if test="$lang">
      <xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute>
    </xsl:if>
  </xsl:template>

  <xsl:template match="item">
    <xsl:call-template name="item">
      <xsl:with-param name="title" select="title"/>
      <xsl:with-param name="link" select="link"/>
      <xsl:with-param name="date">
        <xsl:call-template name="rfc822-date">
          <xsl:with-param name="value" select="normalize-space(pubDate)"/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="author" select="dc:creator"/>
      <xsl:with-param name="excerpt">
        <!-- RSS <description> is HTML: ours is the plain-text summary escaped once; show that text. -->
        <xsl:call-template name="unescape"><xsl:with-param name="text" select="description"/></xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="image"
          select="(enclosure[starts-with(@type, 'image/')]/@url | media:thumbnail/@url
                   | media:content[@medium = 'image']/@url)[1]"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&amp;')">
        <xsl:variable name="rest" select="substring-after($text, '&amp;')"/>
        <xsl:variable name="skip"
            select="3 * (starts-with($rest, 'lt;') or starts-with($rest, 'gt;')) + 4 * starts-with($rest, 'amp;')"/>
        <xsl:value-of select="substring-before($text, '&amp;')"/>
        <xsl:choose>
          <xsl:when test="starts-with($rest, 'lt;')">&lt;</xsl:when>
          <xsl:when test="starts-with($rest, 'gt;')">&gt;</xsl:when>
          <xsl:otherwise>&amp;</xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="unescape">
          <xsl:with-param name="text" select="substring($rest, 1 + $skip)"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:call-template name="item">
      <xsl:with-param name="title" select="atom:title"/>
      <xsl:with-param name="link" select="atom:link[@rel = 'alternate' or not(@rel)][1]/@href"/>
      <xsl:with-param name="date"
          select="substring(normalize-space(atom:published | atom:updated[not(../atom:published)]), 1, 10)"/>
      <xsl:with-param name="author" select="atom:author/atom:name"/>
      <xsl:with-param name="excerpt" select="atom:summary"/>
      <xsl:with-param name="image"
          select="(atom:link[@rel = 'enclosure'][starts-with(@type, 'image/')]/@href | media:thumbnail/@url)[1]"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="item">
    <xsl:param name="title"/>
    <xsl:param name="link"/>
    <xsl:param name="date"/>
    <xsl:param name="author"/>
    <xsl:param name="excerpt"/>
    <xsl:param name="image"/>
    <!-- Only web links become links and images: a feed is data, and this page must not run anything. -->
    <xsl:variable name="safe-link" select="starts-with($link, 'http://') or starts-with($link, 'https://')"/>
    <li class="item">
      <xsl:if test="starts-with($image, 'http://') or starts-with($image, 'https://')">
        <img class="thumb" src="{$image}" alt="" loading="lazy" referrerpolicy="no-referrer"/>
      </xsl:if>
      <div class="text">
        <h3>
          <xsl:choose>
            <xsl:when test="$safe-link"><a href="{$link}"><xsl:value-of select="$title"/></a></xsl:when>
            <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
          </xsl:choose>
        </h3>
        <p class="meta">
          <xsl:if test="string($date)"><time datetime="{$date}"><xsl:value-of select="$date"/></time></xsl:if>
          <xsl:if test="string($date) and string($author)"> · </xsl:if>
          <xsl:value-of select="$author"/>
        </p>
        <xsl:if test="normalize-space($excerpt)">
          <p class="excerpt"><xsl:value-of select="normalize-space($excerpt)"/></p>
        </xsl:if>
      </div>
    </li>
  </xsl:template>

  <!-- "Tue, 25 Nov 2025 01:00:00 +0900" -> "2025-11-25" (the date as the feed states it, in its own offset);
       anything else is shown as it is. -->
  <xsl:template name="rfc822-date">
    <xsl:param name="value"/>
    <xsl:variable name="rest" select="normalize-space(substring-after($value, ','))"/>
    <xsl:variable name="day" select="substring-before($rest, ' ')"/>
    <xsl:variable name="month-year" select="substring-after($rest, ' ')"/>
    <xsl:variable name="month" select="substring-before($month-year, ' ')"/>
    <xsl:variable name="year" select="substring(substring-after($month-year, ' '), 1, 4)"/>
    <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>
    <xsl:choose>
      <xsl:when test="string-length($month) = 3 and contains($months, $month) and number($day) = number($day)
                      and string-length($year) = 4">
        <xsl:value-of select="concat($year, '-',
            format-number(string-length(substring-before($months, $month)) div 3 + 1, '00'), '-',
            format-number($day, '00'))"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
"""

FEED_CSS = """
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5b6573; --line: #dfe3e8; --accent: #0b63c5;
  --box: #f3f6f9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ee; --muted: #9aa5b4; --line: #333b46;
  --accent: #6cb0ff; --box: #1b2129; } }
body { margin: 0; color: var(--fg); background: Canvas;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK KR",
  "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
.kicker { margin: 0; color: var(--muted); font-size: .8rem; font-weight: 600; letter-spacing: .08em;
  text-transform: uppercase; }
h1 { font-size: 2rem; line-height: 1.2; margin: .25rem 0; }
.description { color: var(--muted); margin: 0; }
.about { background: var(--box); border: 1px solid var(--line); border-radius: .5rem; padding: .25rem 1.25rem;
  margin: 1.5rem 0 2rem; }
.about h2 { font-size: 1.05rem; margin: .9rem 0 .25rem; }
.address code { display: block; overflow-wrap: anywhere; background: Canvas; border: 1px solid var(--line);
  border-radius: .375rem; padding: .5rem .75rem; font-size: .9rem; user-select: all; }
.links a { margin-right: 1.25rem; }
a { color: var(--accent); }
:lang(ko) { word-break: keep-all; }
h2 { font-size: 1.15rem; }
.items { list-style: none; padding: 0; margin: 0; }
.item { display: flex; gap: 1rem; padding: 1rem 0; border-top: 1px solid var(--line); }
.thumb { flex: none; width: 7.5rem; height: 5rem; object-fit: cover; border-radius: .375rem;
  background: var(--box); position: relative; }
/* Drawn only when the image fails to load (offline, moved): a quiet tile instead of a broken-image icon. */
.thumb::after { content: ""; position: absolute; inset: 0; border-radius: inherit; background: var(--box);
  border: 1px solid var(--line); }
.text { min-width: 0; }
.item h3 { font-size: 1.1rem; line-height: 1.35; margin: 0 0 .2rem; }
.item h3 a { text-decoration: none; }
.item h3 a:hover { text-decoration: underline; }
.meta { color: var(--muted); font-size: .85rem; margin: 0 0 .35rem; }
.excerpt { margin: 0; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 4; overflow: hidden; }
@media (max-width: 30rem) { .item { flex-direction: column; } .thumb { width: 100%; height: 10rem; } }
"""

FEED_XSL = FEED_XSL.replace("@@CSS@@", FEED_CSS)
