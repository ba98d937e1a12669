"""The whole pipeline in one call: config -> collect -> render -> feeds -> serialise -> publish.

:func:`build` is what the CLI, cron and the daemon run. It returns a :class:`BuildReport` and prints nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .collect import Collection, Post, collect
from .config import Site
from .errors import ConfigError, PostError, PublishError
from .feeds import Feed, plan
from .publish import MANIFEST, PublishResult, atomic_write, publish
from .render import Entry, render
from .serialise import SERIALISERS
from .state import State

STATE_FILE = "state.json"


def current_time() -> datetime:
    """Now, as an aware datetime; ``SOURCE_DATE_EPOCH`` pins it (reproducible builds, golden tests)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError:
            raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds, got {epoch!r}") from None
    return datetime.now(UTC)


@dataclass
class BuildReport:
    """What one build saw and did."""

    now: datetime
    collection: Collection
    feeds: list[Feed]
    files: dict[str, bytes]
    published: int
    drafts: int
    scheduled: int
    next_publish: datetime | None
    result: PublishResult | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[PostError]:
        return self.collection.rejected


def render_members(site: Site, feeds: list[Feed]) -> dict[str, Entry]:
    """Render each post that some feed carries, once, keyed by post id."""
    entries: dict[str, Entry] = {}
    for feed in feeds:
        for post in feed.posts:
            if post.id not in entries:
                entries[post.id] = render(post, site)
    return entries


def serialise_all(site: Site, feeds: list[Feed], entries: dict[str, Entry]) -> dict[str, bytes]:
    """Every feed in every configured format, as output-relative path -> bytes."""
    files: dict[str, bytes] = {}
    for feed in feeds:
        items = [entries[p.id] for p in feed.posts]
        for fmt in site.formats:
            files[feed.path(fmt)] = SERIALISERS[fmt](site, feed, items)
    return files


def _future(posts: list[Post], now: datetime) -> list[Post]:
    return [p for p in posts if not p.draft and p.published > now]


def build(site: Site, *, now: datetime | None = None, strict: bool = False, write: bool = True) -> BuildReport:
    """Build every feed of ``site``; publish them unless ``write`` is false.

    Bad posts are rejected (see ``report.rejected``), never fatal. With ``strict``, any rejection leaves
    ``output/`` and the state untouched. Raises :class:`PublishError` if the output cannot be written.
    """
    now = now or current_time()
    state = State.load(site.state_dir / STATE_FILE)
    collection = collect(site, now, state)
    feeds = plan(site, collection.posts, now)
    files = serialise_all(site, feeds, render_members(site, feeds))
    future = _future(collection.posts, now)
    report = BuildReport(
        now=now,
        collection=collection,
        feeds=feeds,
        files=files,
        published=sum(p.is_live(now) for p in collection.posts),
        drafts=sum(p.draft for p in collection.posts),
        scheduled=len(future),
        next_publish=min((p.published for p in future), default=None),
        warnings=list(collection.warnings),
    )
    if not write or (strict and collection.rejected):
        return report
    if state.dirty:
        try:
            atomic_write(state.path, state.to_bytes())
        except OSError as exc:
            raise PublishError(f"{state.path}: cannot write state ({exc.strerror or exc})") from None
    report.result = publish(files, site.root / site.output, site.state_dir / MANIFEST)
    return report
