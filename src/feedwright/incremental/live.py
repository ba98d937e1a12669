"""What ``daemon --watch`` keeps in memory between builds, so that a saved post is republished without reloading
the cache, re-listing the content folder or re-stat-ing 100,000 files.

:class:`Live` holds the history (``state.json``), the cache, the list of content files with each file's outcome,
the last collection and plan, and what Liquid's links were made of. The watcher tells it which content files
changed (:meth:`Live.changed`) or that it must look at everything again (:meth:`Live.rescan`: a missed or
overflowed event queue, a scheduled run); :func:`feedwright.build` asks it, through ``live=``, for each stage:

- the first build, a rescan, a new or vanished file: the whole content folder is listed and stat-ed against the
  records held in memory (a warm build without loading anything);
- otherwise only the changed files are read; the collection is the last one with those posts swapped in, and the
  plan is the last one re-sorted where they moved (:mod:`.replan`), when that is enough to be exact; else the
  collection is assembled and the posts planned again, as any build does.

After publishing, ``state.json`` is written and the cache saved (so a cron build afterwards finds it valid), in
that order, after the feeds' rename rather than before: the latency a writer sees is the feeds'. A cache or
history another process wrote meanwhile (a ``feedwright build`` from cron) is noticed by its stat and reloaded;
so is anything after a build that did not finish. The output is the bytes a cache-less build gives
(``tests/test_watch.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ..config import Site
from ..pipeline.collect import Collection, Outcome, Post, assemble, find
from ..pipeline.history import State
from ..pipeline.plan import Plan
from ..pipeline.publish import atomic_write, write_error
from . import memo
from .cache import Cache
from .parallel import Workers
from .replan import replan
from .statefile import StateBytes
from .store import CACHE_DIR, MANIFEST

if TYPE_CHECKING:
    from ..pipeline.liquid import Links, PostRef

STATE_FILE = "state.json"
_Stamp = tuple[int, int, int] | None


def _stamp(path: os.PathLike[str]) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


class Live:
    """One site's memory between the daemon's builds (used by one build at a time: the site lock)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.state: State | None = None
        self.cache: Cache | None = None
        self._files: list[tuple[str, str]] = []
        self._where: dict[str, int] = {}  # content-relative path -> its place in _files
        self._outcomes: list[Outcome] = []
        self._found: tuple[list[str], list[tuple[str, str]], list[str]] = ([], [], [])  # what find() found
        self._collection: Collection | None = None
        self._positions: dict[str, int] = {}  # post source -> its place in the collection's posts
        self._plan: tuple[Plan, datetime] | None = None
        self._links: tuple[list[Post], Links, datetime | None] | None = None  # posts, their links, next due
        self._pending: set[str] = set()
        self._scan = True
        self._open = False  # a build began and has not published
        self._stamps: tuple[_Stamp, _Stamp] = (None, None)
        self.last_scan = False  # the last build listed and stat-ed the whole content folder (for the log)
        self.warnings: list[str] = []  # what saving the cache said
        self._state_bytes: StateBytes | None = None  # state.json's bytes, entry by entry
        self._read: list[str] | None = []  # the files this build read (None: all of them)
        self._swaps: list[tuple[Post, Post]] | None = None  # this build's edited posts; None: not that simple
        self._collection_posts: list[Post] | None = None  # the posts list this build's collect gave
        self._previous_posts: list[Post] | None = None  # the last build's posts (what _links was made of)

    # --- what the watcher says ----------------------------------------------------------------------------

    def changed(self, rels: Iterable[str]) -> None:
        """These content-relative paths were created, modified, moved or deleted."""
        self._pending.update(rels)

    def rescan(self) -> None:
        """The next build looks at every file (events may have been lost)."""
        self._scan = True

    def prepare(self, make: Callable[[Site, list[Post], datetime], Links], warm: Callable[[], object]) -> None:
        """While idle after a build: make what the first edit would otherwise pay for (Liquid's links to every
        post, ~1 s at 100,000 posts; ``warm`` loads the renderer), so that it costs what every other edit does."""
        if self._previous_posts is None or self._plan is None or (
                self._links is not None and self._links[0] is self._previous_posts):
            return  # nothing built yet, or the links of the last build's posts are made
        posts, now = self._previous_posts, self._plan[1]
        made = make(self.site, posts, now)
        assert made.digest  # computed now, not at the first edit
        due = min((p.published for p in posts if not p.draft and p.published > now), default=None)
        self._links = (posts, made, due)
        if self._state_bytes is None and self.state is not None:
            self._state_bytes = StateBytes(self.state)
        warm()

    # --- the build's stages -------------------------------------------------------------------------------

    def begin(self, site: Site) -> tuple[State, Cache]:
        """The history and the cache for this build: held in memory, or read from ``.feedwright/`` when this
        is the first build, the settings changed, the last build did not finish or another process wrote them."""
        if (self.state is None or self.cache is None or site != self.site or self._open
                or self._stamps != self._disk_stamps()):
            self.site = site
            self.state, self.cache, self._plan, self._collection = None, None, None, None
            self.state = State.load(site.state_dir / STATE_FILE)
            self.cache = Cache.load(site)
            self._state_bytes = None
            self._scan = True
        self._open = True
        return self.state, self.cache

    def collect(
        self, site: Site, now: datetime, state: State, cache: Cache, *,
        while_waiting: Callable[[], object] | None = None, pool: Workers | None = None,
    ) -> Collection:
        """:func:`memo.collect`, reading only the files the watcher named when it can."""
        pending, self._pending = self._pending, set()
        if self._scan or self._collection is None or any(self._gone(rel) for rel in pending):
            return self._full(site, now, state, cache, while_waiting, pool)
        self.last_scan = False
        places = sorted(self._where[rel] for rel in pending if rel in self._where)
        files = [self._files[i] for i in places]
        self._read = [rel for rel, _ in files]
        for rel, _ in files:
            cache.kept.pop(rel, None)  # read again below; an unreadable file keeps no record
        outcomes = memo.outcomes_of(site, now, state, cache, files, pool=pool)
        cache.same_posts = not files
        swaps: list[tuple[Outcome, Outcome]] = []
        for i, outcome in zip(places, outcomes, strict=True):
            swaps.append((self._outcomes[i], outcome))
            self._outcomes[i] = outcome
        collection = self._swapped(site, swaps)
        if collection is None:
            return self._assemble(site)
        return collection

    def plan(self, site: Site, collection: Collection, now: datetime, cache: Cache) -> Plan:
        """:func:`memo.plan`, or the last plan with the edited posts moved (:func:`replan`)."""
        last, made = (None, None) if self._plan is None else self._plan
        swaps = self._swaps
        if last is not None and made is not None and swaps is not None:
            moved = replan(site, last, made, now, swaps)
            if moved is not None:
                memo.remember_plan(site, collection, now, moved, cache)
                return moved
        return memo.plan(site, collection, now, cache)

    def links(self, make: Callable[[Site, list[Post], datetime], Links], site: Site, posts: list[Post],
              now: datetime) -> Links:
        """``make(site, posts, now)`` (the build's Links), or the last build's with the edited posts updated in
        place when none of them moved in the order (only titles, bodies or URLs changed)."""
        from ..pipeline.liquid import site_files_digest

        last, swaps = self._links, self._swaps
        if last is not None and swaps is not None and last[0] is self._previous_posts:
            changed = _relinked(last[1], last[2], swaps, now)
            if changed is not None:
                made = last[1].updated(now, site_files_digest(site.root), changed)
                self._links = (posts, made, last[2])
                return made
        made = make(site, posts, now)
        due = min((p.published for p in posts if not p.draft and p.published > now), default=None)
        self._links = (posts, made, due)
        return made

    def published(self, state: State, cache: Cache, collection: Collection, plan: Plan, now: datetime) -> None:
        """After publishing: write the history and save the cache, then keep both (and this build's collection
        and plan) for the next build. Raises :class:`PublishError` if the history cannot be written."""
        if state.dirty:
            if self._state_bytes is None or self._read is None:
                self._state_bytes = StateBytes(state)
            else:
                self._state_bytes.update(state, self._read)
            try:
                atomic_write(state.path, self._state_bytes.to_bytes())
            except OSError as exc:
                raise write_error(exc, state.path) from None
            state.dirty = False
        if state.warnings:  # a damaged history was rewritten: the next scan must not repeat its warning
            state.warnings.clear()
            self._scan = True
        cache.warnings.clear()
        cache.save()
        self.warnings = list(cache.warnings)
        self.cache = cache.carried()
        if collection.posts is not self._collection_posts:  # the build rejected a post after collecting
            self._collection = None
        else:
            self._collection = collection
        self._previous_posts = collection.posts
        self._plan = (plan, now)
        self._stamps = self._disk_stamps()
        self._open = False

    # --- inside -------------------------------------------------------------------------------------------

    def _disk_stamps(self) -> tuple[_Stamp, _Stamp]:
        state_dir = self.site.state_dir
        return _stamp(state_dir / STATE_FILE), _stamp(state_dir / CACHE_DIR / MANIFEST)

    def _gone(self, rel: str) -> bool:
        """A path the last scan did not list (a new file: it needs a scan to be placed), or one that is gone."""
        if rel not in self._where:
            return os.path.lexists(self.site.root / self.site.content / rel)
        return not os.path.isfile(self._files[self._where[rel]][1])

    def _full(self, site: Site, now: datetime, state: State, cache: Cache,
              while_waiting: Callable[[], object] | None, pool: Workers | None) -> Collection:
        self.last_scan, self._scan, self._swaps, self._read = True, False, None, None
        files, found = find(site, list(state.warnings))
        cache.kept.clear()  # what this scan finds (carried over from the last build: every file it knew)
        self._found = (list(found.warnings), list(found.unreadable), list(found.skipped))
        self._outcomes = memo.outcomes_of(site, now, state, cache, files, while_waiting=while_waiting, pool=pool)
        self._files, self._where = files, {rel: i for i, (rel, _) in enumerate(files)}
        self._plan = None  # memo.plan: the cache's own plan, if it still holds
        return self._assembled(assemble(site, files, self._outcomes, found))

    def _assemble(self, site: Site) -> Collection:
        warnings, unreadable, skipped = self._found
        found = Collection(warnings=list(warnings), unreadable=list(unreadable), skipped=list(skipped))
        self._swaps = None
        return self._assembled(assemble(site, self._files, self._outcomes, found))

    def _assembled(self, collection: Collection) -> Collection:
        self._positions = {post.source: i for i, post in enumerate(collection.posts)}
        self._collection = collection
        self._collection_posts = collection.posts
        return collection

    def _swapped(self, site: Site, swaps: list[tuple[Outcome, Outcome]]) -> Collection | None:
        """The last collection with each edited post swapped in, when nothing else can have changed: each file
        was and is a post, under the same id and URL (so no duplicate appears or goes), with the same notes."""
        last = self._collection
        assert last is not None
        posts = list(last.posts)
        done: list[tuple[Post, Post]] = []
        for old, new in swaps:
            if old is new:
                continue
            if not (isinstance(old, Post) and isinstance(new, Post)) or (old.id, old.url, old.notes) != (
                    new.id, new.url, new.notes):
                return None
            i = self._positions.get(old.source)
            if i is None or posts[i] is not old:  # rejected as a duplicate: assemble decides again
                return None
            posts[i] = new
            done.append((old, new))
        self._swaps = done
        collection = Collection(posts=posts, rejected=list(last.rejected), ignored=last.ignored,
                                warnings=list(last.warnings), unreadable=list(last.unreadable), skipped=last.skipped)
        self._collection = collection
        self._collection_posts = posts
        return collection


def _relinked(last: Links, due: datetime | None, swaps: list[tuple[Post, Post]], now: datetime
              ) -> dict[str, PostRef] | None:
    """The new references of the edited posts, when none moved in the order of ``last`` (same date, same draft
    state) and no post has come out since ``last`` was made (``due``); else None."""
    from ..pipeline.liquid import PostRef

    if last.now is None or now < last.now or (due is not None and now >= due):
        return None
    changed: dict[str, PostRef] = {}
    for old, new in swaps:
        if (old.draft, old.published) != (new.draft, new.published):
            return None
        if not new.draft and new.published <= last.now:
            changed[new.source] = PostRef(new.source, new.url, new.title, new.published, new.categories, new.tags)
    return changed
