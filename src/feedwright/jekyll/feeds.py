"""Where jekyll-feed wrote a site's Atom feeds, so that a site switching from it keeps its subscribers.

jekyll-feed (``lib/jekyll-feed/generator.rb``) writes the site feed at ``feed.path`` (default ``feed.xml``), one
feed per category listed in ``feed.categories`` at ``feed/<category>.xml``, and with ``feed.tags`` one per tag
(only names of letters, digits and ``_``; ``only``/``except``) at ``<tags.path>/<tag>.xml`` (default
``feed/by_tag/``). feedwright writes its own Atom feed at each of those paths too.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..pipeline.plan import Feed
from .settings import JekyllSettings

_TAG_NAME = re.compile(r"^[a-zA-Z0-9_]+$")


def _alias(folder: str, name: str) -> str | None:
    # A category is text from a post: it names one file in the folder, never a path ("../x", "a/b").
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        return None
    folder = posixpath.normpath(folder.strip("/")) if folder.strip("/") else ""
    if folder.startswith("..") or folder == ".":
        return None
    return f"{folder}/{name}.xml" if folder else f"{name}.xml"


def atom_aliases(settings: JekyllSettings, feeds: Iterable[Feed]) -> dict[str, str]:
    """jekyll-feed's path -> the output-relative path of feedwright's Atom feed with the same posts."""
    aliases = {settings.feed_path: "atom.xml"}
    for feed in feeds:
        if feed.kind == "category" and settings.feed_categories and feed.name in settings.feed_categories:
            alias = _alias("feed", feed.name)
        elif feed.kind == "tag" and settings.feed_tags is not None and _TAG_NAME.match(feed.name):
            only, exclude, folder = settings.feed_tags
            wanted = (only is None or feed.name in only) and feed.name not in exclude
            alias = _alias(folder, feed.name) if wanted else None
        else:
            continue
        if alias:
            aliases.setdefault(alias, feed.path("atom"))
    return aliases
