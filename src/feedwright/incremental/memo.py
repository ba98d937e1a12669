"""The pipeline's stages, each wrapped by what the cache knows: the only code that decides what to reuse.

Each function gives what its stage gives, byte for byte, with or without a cache (``tests/test_cache.py``
builds every case both ways):

- :func:`collect`: files whose stat key is the one recorded (and not "racy") are not read; the others are read by
  :func:`feedwright.pipeline.collect.read`, with the recorded outcome as a hint (a touched file whose bytes hash
  as before is not parsed);
- :func:`plan`: the last build's plan, when every file is as that build saw it, the settings are the same, the
  clock has not gone back and no post has become due since; posts are found again by their content-relative
  path;
- :func:`render`: rendered HTML of a post whose bytes and fields are unchanged;
- :func:`serialise`: the bytes in ``output/`` of a feed file whose inputs hash as before (checked by digest);
- :func:`archives`: an RFC 5005 archive document whose posts are the very ones the cache knows, rendered without
  Liquid, with the same images, and whose files are as written (by stat) is not made at all: not rendered,
  serialised, read back or compared (:func:`remember_archives` records them after publishing).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ..config import Site
from ..formats import BY_NAME
from ..pipeline import collect as collecting
from ..pipeline import plan as planning
from ..pipeline.collect import Collection, Outcome, Post, Task, assemble, find, loaded, read
from ..pipeline.history import State
from ..pipeline.pages import PAGES
from ..pipeline.pages import pages as render_pages
from ..pipeline.plan import Feed, Paging, Plan
from . import warm
from .cache import FINGERPRINT, OUTCOME, RACY, STAT, STATE, Cache, Record, digest_bytes, hash_parts
from .parallel import Stopped, Workers
from .replan import replan
from .shards import PRELOAD, Tally, read_cold

if TYPE_CHECKING:  # markdown, nh3, feedgen and lxml are imported only when something must be rendered
    from ..pipeline.liquid import Links
    from ..pipeline.render import Entry, Parts


@dataclass(frozen=True)
class Linking:
    """The build's Links as :func:`render` hands them to ``render_many``: ``get()`` makes them on its first call and
    gives the same ones after (called from one thread at a time); ``keyed``: their digest is wanted after rendering
    (the cache keys of posts with Liquid): ``render_many`` may make it while the posts render elsewhere."""

    get: Callable[[], Links]
    keyed: bool


# Renders posts in order, given the build's Links (see Linking): per post, (parts, fingerprint of the bytes read,
# Liquid's warnings, whether the body had Liquid), or Stopped (over its budget).
RenderMany = Callable[[Site, list[Post], Linking], "list[tuple[Parts, str, tuple[str, ...], bool] | Stopped]"]


def collect(
    site: Site,
    now: datetime,
    state: State,
    cache: Cache,
    *,
    while_waiting: Callable[[], object] | None = None,
    pool: Workers | None = None,
    lap: Callable[[str], object] | None = None,
) -> Collection:
    """Every post under the site's content folder, bad ones rejected; only files that changed are read.
    ``lap(stage)`` is called as each stage ends ("scan", "stat", "parse"): see ``BuildReport.timings``."""
    lap = lap or (lambda stage: None)
    if pool is not None and cache.sealing and not cache.knows_files():  # every file will be read: see shards.py
        pool.start(PRELOAD)
    quick = warm.ready(cache, state)  # then state.json is as a build wrote it: it has no warnings to give
    files, found = find(site, [] if quick else list(state.warnings))
    lap("scan")
    stats = None
    if quick:
        shortcut, stats = warm.collection(site, files, found, cache, partial(_recorded, site, now, state, cache, files))
        if shortcut is not None:
            lap("stat")
            lap("parse")
            return shortcut
    cache.load_records()
    tally = Tally(now)
    outcomes = outcomes_of(site, now, state, cache, files, while_waiting=while_waiting, pool=pool, lap=lap,
                           stats=stats, tally=tally)
    notes_from = len(found.warnings)
    # A cold build noted what assemble asks of every post as each shard came (an incomplete tally knows nothing).
    collection = assemble(site, files, outcomes, found, notes=tally.noted or not tally.complete, clash=tally.clash())
    summary = warm.summary(collection, notes_from, now, tally)
    collection.typos, collection.future, collection.described = summary["typos"], summary["future"], collection.posts
    cache.made = ([rel for rel, _ in files], summary, state)
    lap("parse")
    return collection


def _recorded(site: Site, now: datetime, state: State, cache: Cache, files: list[tuple[str, str]]) -> list[Outcome]:
    """The outcome of each of ``files`` when the warm shortcut was taken (every record holds): as recorded, or read
    again should the records have become unreadable since."""
    found = warm.outcomes(files, cache.load_records())
    if found is not None:
        return found
    return outcomes_of(site, now, state, cache, files)


def outcomes_of(
    site: Site,
    now: datetime,
    state: State,
    cache: Cache,
    files: list[tuple[str, str]],
    *,
    while_waiting: Callable[[], object] | None = None,
    pool: Workers | None = None,
    lap: Callable[[str], object] | None = None,
    stats: Sequence[int] | None = None,
    tally: Tally | None = None,
) -> list[Outcome]:
    """The outcome of each of ``files`` (content-relative path, path): recorded, or read if its stat changed.
    ``stats``: their stat keys if already taken (four integers per file). When every file is read into the cache
    as it goes (:func:`~.shards.read_cold`), ``tally`` is completed."""
    started_ns = time.time_ns()
    outcomes, todo = _unchanged(files, cache, state, stats)
    if lap is not None:
        lap("stat")
    records = cache.records
    if cache.sealing and not records and len(todo) >= collecting.PARALLEL_MIN_FILES:
        return read_cold(site, now, state, cache, files, started_ns, while_waiting, pool, tally)  # into the cache
    tasks: list[Task] = []
    for rel, path in (files[i] for i in todo):
        known = records.get(rel)
        # The recorded outcome holds for the same bytes only while the post's history is the one it was read with.
        hint = (known[FINGERPRINT], known[OUTCOME]) if known is not None and known[STATE] == state.entry(rel) else None
        tasks.append((rel, path, hint, state.entry(rel)))
    # The same files as the cache knows, each with the outcome it knows: the posts of the build that saved it.
    unchanged = len(files) == len(records)
    # ... or with a post in place of a post of the same id and URL: (old, new) each (None: anything else).
    swaps: list[tuple[Post, Post]] | None = [] if unchanged else None
    for i, task, (outcome, facts) in zip(todo, tasks, read(site, now, state, tasks, started_ns, while_waiting, pool),
                                         strict=True):
        outcomes[i] = outcome
        known = records.get(task[0])
        if facts is not None:
            cache.learn(task[0], (*facts, outcome))
        same = known is not None and known[OUTCOME] == outcome
        unchanged = unchanged and same
        if swaps is not None and not same:
            old = known[OUTCOME] if known is not None else None
            if type(old) is Post and type(outcome) is Post and (old.id, old.url) == (outcome.id, outcome.url):
                swaps.append((old, outcome))
            else:
                swaps = None
    cache.same_posts = unchanged
    cache.swaps = swaps
    return outcomes


def _unchanged(
    files: list[tuple[str, str]], cache: Cache, state: State, stats: Sequence[int] | None = None
) -> tuple[list[Outcome], list[int]]:
    """The recorded outcome of each file whose stat key is unchanged; the places of the others, to be read."""
    outcomes: list[Outcome] = [None] * len(files)
    if not cache.records:  # nothing recorded (a first build): every file is read
        return outcomes, list(range(len(files)))
    todo: list[int] = []
    # The warm path, once per file (100,000 times on a large site): kept lean on purpose.
    records, kept, entries, stat = cache.records, cache.kept, state.posts, os.stat
    keys = list(zip(*[iter(stats)] * 4, strict=True)) if stats is not None else None  # 4 integers per file
    for i, (rel, path) in enumerate(files):
        known = records.get(rel)
        if known is not None and not known[RACY] and known[STATE] == entries.get(rel):
            if keys is not None:
                now = keys[i]
            else:
                try:
                    st = stat(path)
                except OSError:
                    todo.append(i)
                    continue
                now = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            if now == known[STAT]:
                outcomes[i] = known[OUTCOME]
                kept[rel] = known
                # The record's entry, equal to the one state.json gave: the state's copy is let go of (26 MB at
                # 100,000). Neither is ever changed in place.
                if (entry := known[STATE]) is not None:
                    entries[rel] = entry
                continue
        todo.append(i)
    return outcomes, todo


def plan(site: Site, collection: Collection, now: datetime, cache: Cache) -> Plan:
    """:func:`feedwright.pipeline.plan.plan` of the collection; the last build's when it still holds (on a large
    site, sorting and grouping 100,000 posts again would cost more than everything else a warm build does)."""
    key = repr(site)
    last = _last_plan(cache, collection, now, key)
    cache.plan_reused = last is not None
    if last is not None:
        return last
    made = _replanned(site, collection, now, cache, key) or planning.plan(site, collection.posts, now)
    remember_plan(site, collection, now, made, cache)
    return made


def _replanned(site: Site, collection: Collection, now: datetime, cache: Cache, key: str) -> Plan | None:
    """The last build's plan with the posts edited since moved in place (:func:`~.replan.replan`), when every
    other file is as that build saw it and each edited file was and is a post of the collection under the same id
    and URL (so that no duplicate appears or goes): an edit at 100,000 posts then does not plan them all again."""
    last, swaps = cache.plans, cache.swaps
    if cache.made is None or not swaps:  # (not the daemon's builds: live.py replans them itself)
        return None
    try:
        if last.get("site") != key or last["posts"] != len(collection.posts):
            return None
        present = {id(post) for post in collection.posts}
        if not all(id(new) in present for _, new in swaps):
            return None  # rejected as a duplicate
        base = _shaped(last, last["members"])  # the last plan's own posts: the old versions of the edited ones
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return replan(site, base, last["now"], now, swaps)


def remember_plan(site: Site, collection: Collection, now: datetime, made: Plan, cache: Cache) -> None:
    """Keep ``made`` (the plan of ``collection`` at ``now``) in the cache, for the next build to reuse."""
    # Paging as a plain tuple: the cache unpickles only a few plain classes.
    shapes = [[(f.kind, f.name, f.title, f.folder, [p.source for p in f.posts], f.formats,
                f.paging and astuple(f.paging)) for f in feeds] for feeds in (made.feeds, made.archives)]
    counts = (made.live, made.drafts, made.scheduled, made.next_due)
    members = {p.source: p for feed in made.feeds for p in feed.posts}  # for a build that loads no other post
    cache.put_plan({"site": repr(site), "now": now, "posts": len(collection.posts), "counts": counts,
                    "feeds": shapes[0], "archives": shapes[1], "members": members})


def _last_plan(cache: Cache, collection: Collection, now: datetime, key: str) -> Plan | None:
    posts, last = collection.posts, cache.plans
    try:
        if not (
            cache.same_posts
            and last.get("site") == key
            and last["posts"] == len(posts)
            and last["now"] <= now  # a clock set back may make posts scheduled again
            and (last["counts"][3] is None or now < last["counts"][3])
        ):
            return None
        # Posts by a stable key, never a place in a list: the plan's own copies when the collection's posts are
        # not loaded (the warm shortcut), else the collection's (the very objects: the daemon swaps them by identity).
        return _shaped(last, last["members"] if not loaded(posts) else {post.source: post for post in posts})
    except (KeyError, IndexError, TypeError, ValueError):  # a damaged plan, or one naming other posts: make it again
        return None


def _shaped(last: dict[str, Any], by_source: dict[str, Post]) -> Plan:
    """The plan :func:`remember_plan` kept, its posts found in ``by_source``; raises ``KeyError`` and the like."""
    feeds, archives = (
        [Feed(kind, name, title, folder, tuple(by_source[s] for s in members), tuple(formats),
              paging and Paging(*paging))
         for kind, name, title, folder, members, formats, paging in last[part]]
        for part in ("feeds", "archives")
    )
    live, drafts, scheduled, due = last["counts"]
    return Plan(feeds, live, drafts, scheduled, due, archives)


def _render_key(site: Site, post: Post) -> tuple[Any, ...]:
    # Everything render() reads: the body (by its fingerprint) and these fields. A body with Liquid also
    # depends on the build's Links (other posts, includes, data): its entry is kept under this key plus theirs.
    return (post.fingerprint, post.source, post.markup, post.url, post.title, post.summary, post.image, site.url,
            site.markdown)


def render(
    site: Site,
    feeds: list[Feed],
    cache: Cache,
    render_many: RenderMany,
    unread: list[tuple[str, str]] | None = None,
    done: dict[str, Entry] | None = None,
    links: Callable[[], Links] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Entry | Stopped]:
    """The entry of each post that some feed carries, by post id: from ``done``, from the cache, or rendered by
    ``render_many``; a post whose rendering was stopped (over its budget) maps to its :class:`Stopped`.

    A post whose body could not be read back since it was collected is appended to ``unread`` as
    (content-relative path, reason): its feeds must not publish it empty. ``links`` makes the build's
    :class:`~feedwright.pipeline.liquid.Links`, called only when a post must be rendered, or a post with Liquid is
    looked up in the cache and the last build's plan does not hold (a warm build of a large site skips it);
    Liquid's warnings are added to ``warnings``."""
    from ..pipeline.liquid import Links, site_files_digest
    from ..pipeline.render import entries

    found: list[Links] = []
    made: list[Any] = []
    # The live posts as Liquid sees them, hashed by the last build: still theirs when its plan is (same files,
    # no post due since). A warm build then looks up posts with Liquid without making the Links of every post.
    last_posts = cache.plans.get(_LIQUID_POSTS) if cache.plan_reused else None
    keyed: list[str] = []

    def the_links() -> Links:
        if not found:
            found.append(links() if links else Links())
        return found[0]

    def context() -> tuple[Links, str]:
        if not made:
            posts = last_posts if isinstance(last_posts, str) else the_links().digest
            cache.note_plan(_LIQUID_POSTS, posts)
            made.extend((the_links(), _liquid_key(site, posts, the_links().files)))
        return made[0], made[1]

    def liquid_key() -> str:
        if made or not isinstance(last_posts, str):
            return context()[1]
        if not keyed:  # build_links' Links hold site_files_digest(site.root)
            keyed.append(_liquid_key(site, last_posts, site_files_digest(site.root) if links else ""))
        return keyed[0]

    done = done or {}
    members: dict[str, Post] = {}
    for post in (post for feed in feeds for post in feed.posts if post.id not in done):
        members.setdefault(post.id, post)  # the first feed to carry a post sets the order of rendering
    # A cache without entries holds none with Liquid either: a cold build does not digest the Links before rendering.
    parts, todo = _cached(site, members, cache, liquid_key) if cache.entries else ({}, list(members.values()))
    stopped: dict[str, Stopped] = {}
    seen: dict[str, None] = {}
    linking = Linking(the_links, not isinstance(last_posts, str))
    results = render_many(site, todo, linking) if todo else []
    liquid_keyed = context()[1] if todo else ""  # (and the Links' digest noted in the plan, as ever)
    for post, result in zip(todo, results, strict=True):
        if isinstance(result, Stopped):
            stopped[post.id] = result
            del members[post.id]
            continue
        rendered, fingerprint, said, liquid = result
        parts[post.id] = rendered
        seen.update(dict.fromkeys(said))
        if not fingerprint and post.body is None and unread is not None:
            unread.append((post.source, "cannot read it back to render it (unreadable, or changed since read)"))
        # Kept only when rendered from the bytes the post was read from, and without warnings (so they are
        # given again by the next build, until fixed).
        if fingerprint and fingerprint == post.fingerprint and not said:
            key = _render_key(site, post)
            cache.put_entry((*key, liquid_keyed) if liquid else key, rendered)
    if warnings is not None:
        warnings.extend(w for w in seen if w not in warnings)
    return {**done, **stopped, **entries(site, members, parts)}


_LIQUID_POSTS = "liquid posts"


def _liquid_key(site: Site, posts: str, files: str) -> str:
    # site.time is left out: a post showing the build time would otherwise never come from the cache.
    return hash_parts((posts, files, repr(site.variables)))


def _cached(
    site: Site, members: dict[str, Post], cache: Cache, liquid_key: Callable[[], str]
) -> tuple[dict[str, Parts], list[Post]]:
    """The rendered parts the cache holds for ``members``, and the posts it does not hold, to render."""
    parts: dict[str, Parts] = {}
    todo: list[Post] = []
    for post in members.values():
        key = _render_key(site, post)
        found = (cache.entry(key) or cache.entry((*key, liquid_key()))) if post.fingerprint else None
        if found is None:
            todo.append(post)
        else:
            parts[post.id] = found
    return parts, todo


def _serialiser(fmt: str) -> Callable[[Site, Feed, list[Entry]], bytes]:
    return BY_NAME[fmt].serialise  # feedgen and lxml: imported only when a feed must be serialised


def serialise(site: Site, feeds: list[Feed], entries: dict[str, Entry], cache: Cache) -> dict[str, bytes]:
    """Every feed in every configured format, as output-relative path -> bytes.

    A feed file whose inputs (site, feed, entries) hash as they did when the cache last saw it is not
    serialised again: its bytes are read back from ``output/``, and used only if they are still the same.
    """
    output = site.root / site.output
    files: dict[str, bytes] = {}
    known: dict[str, str] = {}  # post id -> hash of its entry, computed once however many feeds carry it
    site_key = repr(site)
    for feed in feeds:
        items = [entries[p.id] for p in feed.posts]
        for entry in items:
            if entry.post.id not in known:
                known[entry.post.id] = hash_parts((entry.post, entry.html, entry.summary, entry.image))
        identity = (site_key, feed.kind, feed.name, feed.title, feed.folder, feed.paging,
                    [known[p.id] for p in feed.posts])
        for fmt in feed.formats:
            path = feed.path(fmt)
            key = hash_parts((*identity, fmt))
            digest = cache.feed(path, key)
            data = _published(output / path, digest)
            if data is None:
                data, digest = _serialiser(fmt)(site, feed, items), None
            cache.put_feed(path, key, data, digest)
            files[path] = data
    return files


def pages(site: Site, feeds: list[Feed], cache: Cache) -> dict[str, bytes]:
    """:func:`~feedwright.pipeline.pages.pages`, or the bytes already in ``output/`` when what the pages show (the
    site and each feed's name, folder and post count) is what the last build showed: a warm build then does not
    load Jinja2 (~40 ms, a seventh of a warm 10,000-post build)."""
    output = site.root / site.output
    key = hash_parts((repr(site), [(f.kind, f.name, f.title, f.folder, len(f.posts), f.formats) for f in feeds]))
    kept = {name: _published(output / name, cache.feed(name, key)) for name in PAGES}
    files = {name: data for name, data in kept.items() if data is not None}
    if len(files) < len(PAGES):
        files = render_pages(site, feeds)
    for name, data in files.items():
        cache.put_feed(name, key, data)
    return files


def _published(path: os.PathLike[str], digest: str | None) -> bytes | None:
    if digest is None:
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data if digest_bytes(data) == digest else None


# An archive file's shortcut record in the cache's feed table: (key of what it shows, stat of the file written).
_ARCHIVE = "{}#archive"


def _archive_key(site_key: str, feed: Feed, images: list[Any]) -> str:
    """What an archive document shows (then keyed per format). The posts by path only: the shortcut also requires
    each post's record to be the one the cache holds."""
    return hash_parts((site_key, feed.kind, feed.name, feed.title, feed.folder, feed.paging,
                       [p.source for p in feed.posts], images))


def _stat(path: os.PathLike[str]) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _same_post(known: Record | None, found: Record | None) -> bool:
    """Whether this build found the post the cache knows (a file read again, being recent, gives an equal one)."""
    if known is None or found is None:
        return False
    if found is known:
        return True
    a, b = known[OUTCOME], found[OUTCOME]
    return isinstance(a, Post) and isinstance(b, Post) and replace(a, body=None) == replace(b, body=None)


def _plain_parts(site: Site, feeds: list[Feed], cache: Cache, use: bool) -> dict[str, Parts]:
    """The rendered parts of the posts of ``feeds`` held in the cache under their plain key (rendered without
    Liquid, whose output may follow other posts), by post id. ``use`` keeps them in the cache."""
    lookup = cache.entry if use else cache.rendered
    parts: dict[str, Parts] = {}
    for post in (post for feed in feeds for post in feed.posts):
        found = lookup(_render_key(site, post)) if post.fingerprint else None
        if found is not None:
            parts[post.id] = found
    return parts


def _images(site: Site, feeds: list[Feed], parts: dict[str, Parts]) -> dict[str, Any]:
    """Each post's image as its feed entry shows it (the enclosure's length: the file's size), by post id."""
    from ..pipeline.render import entries

    posts = {p.id: p for feed in feeds for p in feed.posts}
    return {key: entry.image for key, entry in entries(site, posts, parts).items()}


def archives(site: Site, docs: list[Feed], cache: Cache) -> tuple[list[Feed], dict[str, tuple[str, str]]]:
    """The archive documents to make, and the files of those that cannot have changed, with their shortcut
    records: neither rendered, serialised, read back nor compared (on a large site they hold every post: reading
    and hashing them all would cost seconds per build).

    An archive file is taken as it is when every post of its document has the record the cache holds (the same
    file, the same post), each post's rendering is cached under its plain key (no Liquid), and the file's key (the
    site's settings, the feed, its paging, its posts' paths and images) and stat are those recorded when it was
    written (:func:`remember_archives`)."""
    records, kept = cache.records, cache.kept
    candidates = [doc for doc in docs if all(_same_post(records.get(p.source), kept.get(p.source)) for p in doc.posts)]
    parts = _plain_parts(site, candidates, cache, use=True)
    candidates = [doc for doc in candidates if all(p.id in parts for p in doc.posts)]
    if not candidates:
        return docs, {}
    images = _images(site, candidates, parts)
    output, site_key = site.root / site.output, repr(site)
    same: dict[str, tuple[str, str]] = {}
    taken: set[int] = set()
    for doc in candidates:
        found: dict[str, tuple[str, str]] = {}
        shows = _archive_key(site_key, doc, [images[p.id] for p in doc.posts])
        for fmt in doc.formats:
            path = doc.path(fmt)
            key = f"{shows}:{fmt}"
            stat = cache.feed(_ARCHIVE.format(path), key)
            if stat is None or stat != _stat(output / path):
                break
            found[path] = (key, stat)
        else:
            same.update(found)
            taken.add(id(doc))
    return [doc for doc in docs if id(doc) not in taken], same


def remember_archives(site: Site, made: list[Feed], entries: dict[str, Entry], same: dict[str, tuple[str, str]],
                      held: frozenset[str], cache: Cache) -> None:
    """After publishing: the shortcut record of each archive file, for the next build's :func:`archives`. A file
    held back by a read error is as an older build wrote it: it gets none."""
    for path, (key, stat) in same.items():
        cache.put_feed(_ARCHIVE.format(path), key, b"", stat)
    parts = _plain_parts(site, made, cache, use=False)
    output, site_key = site.root / site.output, repr(site)
    for doc in made:
        if not all(p.id in parts for p in doc.posts):
            continue
        shows = _archive_key(site_key, doc, [entries[p.id].image for p in doc.posts])
        for fmt in doc.formats:
            path = doc.path(fmt)
            written = None if path in held else _stat(output / path)
            if written is not None:
                cache.put_feed(_ARCHIVE.format(path), f"{shows}:{fmt}", b"", written)
