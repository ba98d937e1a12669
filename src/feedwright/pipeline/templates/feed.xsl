<?xml version="1.0" encoding="UTF-8"?>
{# XSLT 1.0 only: it is the only version browsers implement. Item text is copied with value-of (escaped), never
    with disable-output-escaping: this is a readable list of posts, not a renderer of the feed's HTML. #}
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
  <!-- RFC 5005: an archive document names its subscription document ("current"), the one to subscribe to. -->
  <xsl:variable name="links" select="/rss/channel/atom:link | /atom:feed/atom:link"/>
  <xsl:variable name="current" select="$links[@rel='current']/@href"/>
  <xsl:variable name="address" select="$current | $self[not($current)]"/>
  <xsl:variable name="older" select="$links[@rel='prev-archive']/@href"/>
  <xsl:variable name="newer" select="$links[@rel='next-archive']/@href | $current[not($links[@rel='next-archive'])]"/>
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
        <style>{% include "pages.css" %}</style>
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
            <p class="address"><code><xsl:value-of select="$address"/></code></p>
            <p class="links">
              <xsl:if test="starts-with($home, 'http://') or starts-with($home, 'https://')">
                <a href="{$home}">Visit the website</a>
              </xsl:if>
              <xsl:if test="$pi">
                <a href="{$root}index.html">All feeds of this site</a>
              </xsl:if>
              <xsl:if test="$newer">
                <a href="{$newer}">Newer posts</a>
              </xsl:if>
              <xsl:if test="$older">
                <a href="{$older}">Older posts</a>
              </xsl:if>
            </p>
          </section>
          <h2>
            <xsl:choose>
              <xsl:when test="$current">Archived posts</xsl:when>
              <xsl:otherwise>Recent posts</xsl:otherwise>
            </xsl:choose>
          </h2>
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
