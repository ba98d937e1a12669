"""The whole pipeline in one call: collect -> plan -> render -> serialise -> publish -> announce.

Each stage is a pure function of :mod:`feedwright.pipeline`, run through :mod:`feedwright.incremental.memo`,
which reuses what the cache (``.feedwright/cache/``) knows; the cache is saved after publishing.

:func:`build` is what the CLI, cron and the daemon run. It returns a :class:`BuildReport` and prints nothing.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from .config import Site
from .errors import ContentError, PostError
from .incremental import memo, parallel
from .incremental.background import begin
from .incremental.cache import Cache
from .incremental.memo import Linking
from .incremental.parallel import Stopped
from .pipeline import plan as planning
from .pipeline.collect import Collection, Post
from .pipeline.custom import unmatched
from .pipeline.history import State
from .pipeline.keep import Group, groups, hold
from .pipeline.keys import describe
from .pipeline.plan import Feed, Plan
from .pipeline.publish import MANIFEST, PublishResult, atomic_write, publish, read_manifest, write_error

if TYPE_CHECKING:  # markdown, nh3, feedgen and lxml are imported only when something must be rendered
    from .incremental.live import Live
    from .pipeline.announce import Ping
    from .pipeline.enclosures import Sizes
    from .pipeline.liquid import Links
    from .pipeline.render import Entry

STATE_FILE = "state.json"
# Rendering is spread over every core only when there is this much of it (a post takes ~2 ms; starting the
# workers ~0.2 s).
PARALLEL_MIN_RENDERS = 100
# More "[" and "<" than this in a Markdown body and it is rendered in a worker that its budget can stop.
RISKY_OPENERS = 256


@dataclass
class BuildReport:
    """What one build saw and did."""

    now: datetime
    collection: Collection
    feeds: list[Feed]
    files: dict[str, bytes]
    live: int  # posts published: neither drafts nor dated in the future
    drafts: int
    scheduled: int
    next_publish: datetime | None
    result: PublishResult | None = None
    warnings: list[str] = field(default_factory=list)
    pings: list[Ping] = field(default_factory=list)  # WebSub, one per hub and changed feed
    # Output files left exactly as they were because content they were built from could not be read.
    held: frozenset[str] = frozenset()
    # Each folder or file under the content folder that could not be read: an error, not a rejection.
    unreadable: list[PostError] = field(default_factory=list)
    near_misses: list[PostError] = field(default_factory=list)  # front-matter keys that look like typos
    duration: float = 0.0  # seconds
    # Wall-clock seconds per stage, in the order the stages ran (``feedwright build --timings``); they add up to
    # ``duration``. Worker processes' time shows in the stage that waited for them (parse, render).
    timings: dict[str, float] = field(default_factory=dict)
    source: str | None = None  # what the site's settings were read from (a Jekyll site's _config.yml)

    @property
    def rejected(self) -> list[PostError]:
        return self.collection.rejected

    def scheduled_posts(self) -> list[Post]:
        """The posts that are not drafts and come out later, soonest first."""
        return self.collection.scheduled(self.now)


# (html, summary, image url), fingerprint of the bytes read, Liquid's warnings, whether the body had Liquid
Rendered = tuple[tuple[str, str, str | None], str, tuple[str, ...], bool]


def _render_one(site: Site, post: Post, body: str, fingerprint: str, links: Links) -> Rendered:
    from .pipeline.render import render_post

    rendered = render_post(post, site, body, links)
    return rendered.parts, fingerprint, rendered.warnings, rendered.liquid


def _render_chunk(common: tuple[Site, LinksWanted], posts: list[Post]) -> Iterator[Rendered]:
    # The build's Links (every live post: ~2.5 MB pickled for 10,000) are not sent to a worker: it asks the parent
    # for them when a template first looks at site.posts (its ``site`` has them made on first use), and for the
    # post a post_url or link names. Set-up (the Markdown instance, Liquid's environment, the posts) is not
    # charged to the budget of the post that needs it first.
    from .pipeline.liquid import Links, has_liquid
    from .pipeline.render import _markdown, post_body

    site, wanted = common
    with parallel.untimed():
        _markdown(site.markdown)
    for post in posts:
        body, fingerprint = post_body(post, site)
        yield _render_one(site, post, body, fingerprint, _unpacked(site, wanted) if has_liquid(body) else Links())


@dataclass(frozen=True)
class LinksWanted:
    """What a render fan-out sends of its Links: what every post with Liquid needs of them (the build's time, the
    digest of the site's files); the live posts are asked of the parent (``parallel.request``). Run here (no
    worker could be started), it holds the Links themselves."""

    token: str  # this fan-out's: a worker keeps the Links of one at a time
    now: datetime | None
    files: str
    here: Links | None = field(default=None, compare=False)

    @classmethod
    def of(cls, links: Links) -> LinksWanted:
        import uuid

        return cls(uuid.uuid4().hex, links.now, links.files, links)

    def __reduce__(self) -> tuple[object, ...]:
        return (LinksWanted, (self.token, self.now, self.files))


_unpacked_links: dict[str, Links] = {}  # in a render worker: the Links of its current fan-out


def _unpacked(site: Site, wanted: LinksWanted) -> Links:
    if wanted.here is not None:
        return wanted.here
    links = _unpacked_links.get(wanted.token)
    if links is None:
        from .pipeline.liquid import DeferredLinks
        from .pipeline.liquid.environment import environment

        links = DeferredLinks(wanted.now, wanted.files, parallel.request, parallel.untimed)
        with parallel.untimed():  # Liquid's environment (site.data) and its ``site`` (posts made on first use)
            environment(site, links.files).site_drop(links)
        _unpacked_links.clear()
        _unpacked_links[wanted.token] = links
    return links


def _may_be_slow(post: Post, body: str) -> bool:
    # Python-Markdown scans to the end of the block for each unmatched "[" (and "<a "): quadratic. Below this many
    # such characters a post renders in well under its budget; above it, it goes to a worker that can be stopped.
    return post.markup == "markdown" and body.count("[") + body.count("<") > RISKY_OPENERS


def _render_all(
    site: Site, posts: list[Post], linking: Linking, pool: parallel.Workers | None = None,
    later: Callable[[], object] | None = None,
) -> list[Rendered | Stopped]:
    """Render ``posts`` in order; a post whose rendering overran ``site.render_timeout`` is :class:`Stopped`.

    Many posts are rendered in worker processes, each post against the budget, while this process makes the Links'
    digest (wanted after rendering: ``linking.keyed``), then does ``later``, in a thread. A few are rendered here (a
    worker costs ~0.2 s to start), except those that could be slow, which go to a worker that can be stopped.
    """
    from .pipeline.liquid.links import answer

    budget = site.render_timeout
    if len(posts) >= PARALLEL_MIN_RENDERS and parallel.workers() > 1:
        if pool is not None:  # (a build that parsed on them has them already) started while the Links are made
            pool.start()
        links = linking.get()
        meanwhile = begin(_meanwhile, links, linking.keyed, later)
        # Small chunks (~24 a worker): the last to finish ends at most a few posts after the others (a chunk costs
        # its worker one message; each post is timed, so sent back on its own, anyway).
        size = max(8, len(posts) // (parallel.workers() * 24) + 1)
        rendered = parallel.fan_out(
            _render_chunk, (site, LinksWanted.of(links)), posts, min_items=PARALLEL_MIN_RENDERS, chunk=size,
            budget=budget, pool=pool, on_request=partial(answer, links),
        )
        meanwhile.result()
        return rendered
    links = linking.get()
    from .pipeline.render import post_body

    out: list[Rendered | Stopped | None] = [None] * len(posts)
    risky: list[int] = []
    for i, post in enumerate(posts):
        body, fingerprint = post_body(post, site)
        if _may_be_slow(post, body):
            risky.append(i)
        else:
            out[i] = _render_one(site, post, body, fingerprint, links)
    if risky:
        slow = parallel.fan_out(
            _render_chunk, (site, LinksWanted.of(links)), [posts[i] for i in risky], min_items=1, chunk=1,
            budget=budget, processes=min(len(risky), parallel.workers()), pool=pool,
            on_request=partial(answer, links),
        )
        for i, result in zip(risky, slow, strict=True):
            out[i] = result
    return out  # type: ignore[return-value]  # every slot is filled


def _meanwhile(links: Links, keyed: bool, later: Callable[[], object] | None) -> None:
    """What this process does while its workers render: the Links' digest (made on first use) if it will be wanted,
    then ``later``."""
    if keyed:
        links.digest  # noqa: B018
    if later is not None:
        later()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# What Links hold of a post (the date first: the order), and whether it is a draft: one call of C code per post.
_LINKED = attrgetter("published", "source", "url", "title", "categories", "tags", "draft")


def _since_epoch(row: tuple[Any, ...]) -> timedelta:
    return row[0] - _EPOCH  # type: ignore[no-any-return]


def build_links(site: Site, posts: list[Post], now: datetime) -> Links:
    """What Liquid in any post may refer to: the live posts (``post_url``, ``link``, ``site.posts``), the
    build's time and the state of ``_includes/`` and ``_data/``."""
    from .pipeline.liquid import Columns, Links, site_files_digest

    # Published: neither a draft nor dated in the future. Newest first, then by path: sorted by path, then (a
    # stable sort) by the time since the epoch: the same order as by the dates themselves, but comparing aware
    # datetimes asks each for its UTC offset (twice as long at 100,000).
    rows = [row for row in map(_LINKED, posts) if not row[6] and row[0] <= now]
    rows.sort(key=itemgetter(1), reverse=True)
    rows.sort(key=_since_epoch, reverse=True)
    # Column by column (zip(*rows) takes five times as long: an iterator per row).
    dates, sources, urls, titles, categories, tags = (tuple(map(itemgetter(i), rows)) for i in range(6))
    return Links.of(Columns(sources, urls, titles, dates, categories, tags), now, site_files_digest(site.root))


def prepare_rendering(dialect: str = "markdown") -> None:
    """Import Markdown, feedgen and lxml and set up the Markdown instance (the daemon does it while idle)."""
    from .pipeline.render import _markdown

    _prepare_serialising()
    _markdown(dialect)


def _prepare_worker(site: Site) -> None:
    """A render worker's set-up (see :func:`_render_chunk`), done before its first chunk arrives: the Markdown
    instance, and Liquid's environment for the files the build's Links will name (:func:`build_links`)."""
    from .pipeline.liquid import site_files_digest
    from .pipeline.liquid.environment import environment
    from .pipeline.render import _markdown

    _markdown(site.markdown)
    environment(site, site_files_digest(site.root))


def _prepare_serialising() -> None:
    """Import feedgen and lxml while worker processes parse a large site: serialising then does not wait for them.
    (Not the Markdown instance: after a large parse, the workers render; on two cores, building one here too
    would only take CPU time from them.)"""
    from .pipeline import serialise  # noqa: F401  (feedgen, lxml)


class Laps:
    """Wall-clock time per stage: each :meth:`lap` charges the time since the previous one to the stage named."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = self.times.get(stage, 0.0) + now - self._last
        self._last = now


def _plan_and_render(
    site: Site, collection: Collection, now: datetime, cache: Cache, pool: parallel.Workers, warnings: list[str],
    shortcut: bool = True, live: Live | None = None, laps: Laps | None = None,
    later: Callable[[], object] | None = None,
) -> tuple[Plan, dict[str, Entry], list[Feed], dict[str, tuple[str, str]]]:
    """Plan the feeds and render their posts. A post whose rendering overran its budget is rejected like any bad
    post, and the feeds are planned again without it (another post takes its place, and is rendered in turn).
    Rendering's warnings (Liquid) are added to ``warnings``. Also returns the archive documents to serialise and
    the archive files that cannot have changed (``memo.archives``; none with ``shortcut`` false). ``later``: work
    for this process while workers render, if they do (see :func:`_render_all`)."""
    lap = laps.lap if laps is not None else (lambda stage: None)
    plan = (live.plan if live is not None else memo.plan)(site, collection, now, cache)
    lap("plan")
    done: dict[str, Entry] = {}
    make_links = partial(live.links, build_links) if live is not None else build_links

    def render_many(site: Site, posts: list[Post], linking: Linking) -> list[Rendered | Stopped]:
        return _render_all(site, posts, linking, pool, later)

    while True:
        archives, same = memo.archives(site, plan.archives, cache) if shortcut else (plan.archives, {})
        links = partial(make_links, site, collection.posts, now)
        rendered = memo.render(site, [*plan.feeds, *archives], cache, render_many, collection.unreadable, done, links,
                               warnings)
        lap("render")
        stopped = {key: value for key, value in rendered.items() if isinstance(value, Stopped)}
        done.update((key, value) for key, value in rendered.items() if not isinstance(value, Stopped))
        if not stopped:
            return plan, done, archives, same
        for post in collection.posts:
            if post.id in stopped:
                collection.rejected.append(PostError(site.content / post.source, _not_rendered(site, stopped[post.id])))
        collection.posts = [post for post in collection.posts if post.id not in stopped]
        plan = planning.plan(site, collection.posts, now)
        lap("plan")


def _not_rendered(site: Site, stopped: Stopped) -> str:
    if not stopped.overran:
        return f"not rendered: {stopped.reason}"
    return (
        f"not rendered: {stopped.reason} (build.render_timeout = {site.render_timeout:g}); Markdown is this slow "
        "on many unmatched '[' or '<': escape them (\\[) or put them in code"
    )


def build(
    site: Site, *, now: datetime | None = None, strict: bool = False, write: bool = True, allow_empty: bool = False,
    stop: threading.Event | None = None, live: Live | None = None,
) -> BuildReport:
    """Build every feed of ``site``; publish them unless ``write`` is false.

    Bad posts are rejected (see ``report.rejected``), never fatal. With ``strict``, any rejection (or near-miss
    front-matter key) leaves ``output/`` and the state untouched. Content that cannot be read is reported in
    ``report.unreadable`` and the feeds built from it are kept as they were (``report.held``). ``stop`` set (the
    daemon is stopping) ends the WebSub round at once; the feeds are published by then. ``live`` (``daemon --watch``)
    holds what the last build learnt in memory (:mod:`feedwright.incremental.live`). Raises
    :class:`ContentError` when the content folder holds no posts but the last build published some (unless
    ``allow_empty``), :class:`PublishError` if the output cannot be written.
    """
    clock, laps = time.monotonic(), Laps()
    report = _build(site, now=now, strict=strict, write=write, allow_empty=allow_empty, stop=stop, live=live,
                    laps=laps)
    report.duration = time.monotonic() - clock
    report.timings = laps.times
    return report


def _refuse_empty(site: Site, collection: Collection, state: State, previous: list[Group] | None) -> None:
    """An empty content folder where the last build had posts is an unmounted share, not a site emptied."""
    if collection.posts or collection.rejected or collection.unreadable:
        return
    had_posts = any(g["sources"] for g in previous) if previous is not None else bool(state.posts)
    if had_posts:
        raise ContentError(
            f"{site.root / site.content}: no posts found, but the last build published some (an unmounted or "
            "emptied folder?); the feeds were kept as they were. Run with --allow-empty if the site is meant to "
            "be empty"
        )


def _build(
    site: Site, *, now: datetime | None, strict: bool, write: bool, allow_empty: bool, stop: threading.Event | None,
    live: Live | None = None, laps: Laps | None = None,
) -> BuildReport:
    now = now or datetime.now(UTC)  # the CLI passes SOURCE_DATE_EPOCH in (environment.py)
    if live is not None:
        state, cache = live.begin(site)
    else:
        # The records of every file are read only if the warm shortcut cannot be taken (incremental/warm.py).
        state, cache = State.load(site.state_dir / STATE_FILE), Cache.load(site, records=False)
        cache.sealing = write  # a cold build may write the cache's records as it reads (incremental/shards.py)
    manifest = site.state_dir / MANIFEST
    laps = laps or Laps()
    laps.lap("load state and cache")
    with parallel.Workers() as pool:  # one set of worker processes parses, then renders; gone after rendering
        if live is not None:
            collection = live.collect(site, now, state, cache, while_waiting=_prepare_serialising, pool=pool)
        else:
            collection = memo.collect(site, now, state, cache, while_waiting=_prepare_serialising, pool=pool,
                                      lap=laps.lap)
        if cache.sealed is not None and len(collection.posts) >= PARALLEL_MIN_RENDERS:
            # Every file was read (a first build): every feed member is rendered, on the workers. Their set-up for it
            # (~0.3 s each: Markdown, Liquid and nh3 imported, a Markdown instance, Liquid's environment) happens
            # while this process plans.
            pool.prepare(partial(_prepare_worker, site))
        previous_files, previous = read_manifest(manifest)
        if not allow_empty:
            _refuse_empty(site, collection, state, previous)
        render_warnings: list[str] = []
        # The state does not change after collecting: its bytes are made while the workers render, if they do (in a
        # thread that has ended before they are asked for below: made once, never by two threads at a time).
        state_bytes = functools.cache(state.to_bytes)
        later = state_bytes if write and state.dirty and live is None else None
        plan, entries, archives, same = _plan_and_render(site, collection, now, cache, pool, render_warnings, write,
                                                         live, laps, later)
    laps.lap("render")  # the workers stopping (before serialising: the build's memory is at its largest then)
    feeds = plan.feeds
    files, sizes = _files(site, feeds, archives, entries, cache, now, stop, write, laps)
    keep = hold(previous_files, previous, [rel for rel, _ in collection.unreadable])
    report = _report(site, now, collection, plan, files, keep.files,
                     [*render_warnings, *cache.warnings, *(sizes.warnings if sizes else ())])
    if not write or (strict and (collection.rejected or report.near_misses)):
        return report
    if state.dirty and live is None:  # the daemon's live builds write it after publishing (live.published)
        try:
            atomic_write(state.path, state_bytes())
        except OSError as exc:
            raise write_error(exc, state.path) from None
        laps.lap("save state")
    report.result = publish(files, site.root / site.output, manifest, groups([*feeds, *plan.archives]), keep,
                            frozenset(same))
    memo.remember_archives(site, archives, entries, same, keep.files, cache)
    laps.lap("publish")
    if live is not None:
        live.published(state, cache, collection, plan, now)
        report.warnings += live.warnings
    else:
        report.warnings += _saved(cache)  # after publishing: the feed digests it records are those of output/
    if sizes is not None:  # after publishing, like the cache: what it records is what output/ now shows
        report.warnings += _saved(sizes)
    laps.lap("save cache")
    if site.hubs:
        report.pings = _announce(site, feeds, report.result, stop)
        report.warnings += [str(p) for p in report.pings if not p.ok]
        laps.lap("announce")
    return report


def _report(
    site: Site, now: datetime, collection: Collection, plan: Plan, files: dict[str, bytes], held: frozenset[str],
    warnings: list[str],
) -> BuildReport:
    """What the build saw and made, before publishing; ``warnings``: rendering's, the cache's, the look-ups'."""
    return BuildReport(
        now=now,
        collection=collection,
        feeds=plan.feeds,
        files=files,
        live=plan.live,
        drafts=plan.drafts,
        scheduled=plan.scheduled,
        next_publish=plan.next_due,
        warnings=[*collection.warnings, *unmatched(site, collection.posts, plan.feeds), *warnings],
        held=held,
        unreadable=[PostError(f"{site.content / rel}" + "/" * rel.endswith("/"), why)
                    for rel, why in collection.unreadable],
        near_misses=[PostError(site.content / source, describe(key, suggestion))
                     for source, key, suggestion in collection.near_misses()],
        source=site.jekyll.describe if site.jekyll is not None else None,
    )


def _files(
    site: Site, feeds: list[Feed], archives: list[Feed], entries: dict[str, Entry], cache: Cache, now: datetime,
    stop: threading.Event | None, write: bool, laps: Laps,
) -> tuple[dict[str, bytes], Sizes | None]:
    """Every output file's bytes (feeds, archives, jekyll-feed's aliases, the browser pages) and, when remote
    images were sized, the sizes to save after publishing."""
    sizes, shown = None, entries
    if site.enclosure_fetch and write:  # `check` asks no server
        from .pipeline.enclosures import enclose

        # Subscription documents only: an archive must never change once full, so it does not depend on what a
        # remote server says at some later time: its remote images keep length 0 and the extension's type.
        shown, sizes = enclose(site, {p.id: entries[p.id] for feed in feeds for p in feed.posts}, now, stop)
        laps.lap("enclosures")
    files = memo.serialise(site, feeds, shown, cache)
    files.update(memo.serialise(site, archives, entries, cache))
    laps.lap("serialise")
    if site.jekyll is not None and "atom" in site.formats:  # where jekyll-feed wrote: subscriptions keep working
        from .jekyll.feeds import atom_aliases

        for alias, path in atom_aliases(site.jekyll, feeds).items():
            files.setdefault(alias, files[path])
    if site.browser_view:  # feed.xsl, index.html, feeds.opml: published (and tracked) like the feeds
        files.update(memo.pages(site, feeds, cache))
        laps.lap("pages")
    return files, sizes


def _saved(store: Cache | Sizes) -> list[str]:
    """Save ``store`` (never a failed build: a failure is a warning) and return the warnings of the save."""
    store.warnings.clear()
    store.save()
    return store.warnings


def _announce(site: Site, feeds: list[Feed], result: PublishResult, stop: threading.Event | None) -> list[Ping]:
    """WebSub: tell the hubs about each feed file this build rewrote (never about unchanged ones)."""
    from .pipeline.announce import notify

    written = set(result.written)
    urls = [feed.url(site, fmt) for feed in feeds for fmt in feed.formats if feed.path(fmt) in written]
    return notify(site.hubs, urls, timeout=site.hub_timeout, stop=stop)
