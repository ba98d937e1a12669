"""Nothing shrinks because of a read error: which published files a build must leave exactly as they were.

The publish manifest records, for each feed, the files it was published as and the content files (posts) it
was built from. When a folder or file under the content root cannot be read, every feed whose last sources lie
under it would lose posts for a reason that has nothing to do with the author: such a feed is held back, neither
rewritten nor removed, until its content can be read again. The rest of the site still updates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .pages import PAGES
from .plan import Feed

# One manifest entry per feed: its output-relative files (one per format) and the posts it carries.
Group = dict[str, list[str]]


@dataclass(frozen=True)
class Hold:
    """The files to keep as they were, and the groups (from the last manifest) that describe them."""

    files: frozenset[str] = frozenset()
    groups: tuple[Group, ...] = ()


NOTHING_HELD = Hold()


def groups(feeds: Iterable[Feed]) -> list[Group]:
    """The manifest entries for this build's feeds. A feed's archive documents (same folder) join its entry: a
    post that cannot be read would shift every later archive's posts, so the whole feed is held together."""
    by_folder: dict[str, tuple[list[str], set[str]]] = {}
    for feed in feeds:
        files, sources = by_folder.setdefault(feed.folder, ([], set()))
        files += (feed.path(fmt) for fmt in feed.formats)
        sources.update(post.source for post in feed.posts)
    return [{"files": files, "sources": sorted(sources)} for files, sources in by_folder.values()]


def _under(source: str, path: str) -> bool:
    # "" is the content root, "culture/" a folder, anything else one file.
    return source == path or (path == "" or path.endswith("/")) and source.startswith(path)


def hold(previous_files: list[str], previous: list[Group] | None, unreadable: Iterable[str]) -> Hold:
    """What to hold back given the last manifest (``previous`` is None when it predates source tracking) and the
    content-relative paths that could not be read."""
    paths = list(unreadable)
    if not paths:
        return NOTHING_HELD
    if previous is None:  # nothing says which feeds were built from what: keep them all
        return Hold(frozenset(previous_files))
    kept = [g for g in previous if any(_under(s, p) for s in g.get("sources", ()) for p in paths)]
    files = {rel for group in kept for rel in group.get("files", ())}
    if files:  # the browser view lists the feeds: it keeps listing the ones held
        files.update(rel for rel in previous_files if rel in PAGES)
    return Hold(frozenset(files), tuple(kept))
