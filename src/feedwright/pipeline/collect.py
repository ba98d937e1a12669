"""Find the posts under ``content/`` and read each into a :class:`Post` (its front matter normalised).

Pure stages over the file system: :func:`scan` lists the files, :func:`read` reads the files it is given, and
:func:`assemble` turns what was read into a :class:`Collection`. Bodies are kept as text and rendered later, and
only for posts that reach a feed. Which files need reading at all is decided by
:mod:`feedwright.incremental.memo`, the only code that knows the cache.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Site
from ..errors import PostError
from ..incremental import parallel
from .deferred import loaded
from .frontmatter import body_of, decode, front_matter, has_front_matter
from .history import Scratch, State, digest
from .normalise import Reject, Source, normalise

HTML_SUFFIXES = {".html", ".htm"}
# Parsing is spread over every core only when there is this much of it: starting workers costs ~0.2 s.
PARALLEL_MIN_FILES = 2000
# Files up to this size are read whole at once; a larger one (an image) is looked at first (has_front_matter).
WHOLE_READ = 65536
# A file modified this recently before it was read may change again without its size or mtime changing.
RACY_NS = 2_000_000_000
_ID, _URL, _NAME = operator.attrgetter("id"), operator.attrgetter("url"), operator.attrgetter("name")
_NOWHERE = Path()  # the path of a file's private State while it is read (never saved)

StatKey = tuple[int, int, int, int]


@dataclass(frozen=True)
class Post:
    """One post, its front matter normalised; ``body`` is still the raw Markdown or HTML.

    :func:`collect` leaves ``body`` as None so that large sites are not held in memory: the renderer reads it
    back (:func:`read_body`) for the few posts that reach a feed. ``fingerprint`` is the hash of the file's bytes.
    """

    source: str
    title: str
    published: datetime
    updated: datetime
    url: str
    id: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str | None
    image: str | None
    authors: tuple[str, ...]
    draft: bool
    body: str | None
    markup: str
    fingerprint: str = ""
    # (key, suggestion) for each front-matter key that looks like a typo of one feedwright reads (keys.py).
    key_typos: tuple[tuple[str, str], ...] = ()
    language: str | None = None  # the post's lang, else the site's
    notes: tuple[str, ...] = ()  # warnings about this post that did not cost it (shown on every build)


# A Post made by giving it its attribute dict whole, in field order: the frozen dataclass's __init__ sets its 18
# fields one object.__setattr__ at a time, 3.5 µs a post against 1.4 µs (a cold build parses every post). The same
# object: equal, the same repr and pickle (tests/test_reading.py).
_POST_TEMPLATE: dict[str, Any] = {f.name: f.default for f in dataclass_fields(Post)}
_POST_REQUIRED = frozenset(name for name, default in _POST_TEMPLATE.items() if default is MISSING)


def made_post(values: dict[str, Any]) -> Post:
    """``Post(**values)``, faster (a missing or unknown field: the constructor itself is called, and says so)."""
    data = dict(_POST_TEMPLATE)
    data.update(values)
    # Every field given (as _parse gives them) needs no other check; else no unknown one, every required one.
    if (len(values) != len(data) and not values.keys() >= _POST_REQUIRED) or len(data) != len(_POST_TEMPLATE):
        return Post(**values)
    post = object.__new__(Post)
    object.__setattr__(post, "__dict__", data)
    return post


@dataclass
class Collection:
    """What the collector found: posts (drafts and future ones included), rejections and ignored files."""

    posts: list[Post] = field(default_factory=list)
    rejected: list[PostError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # (content-relative path, reason) of each folder ("culture/"; "" is the content root) or file that could not
    # be read: the feeds built from what lies there are held back as they were (pipeline/keep.py).
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason" for files a Jekyll site does not publish

    # What the collector's summary of the posts says (incremental/warm.py): (source, key, suggestion) per
    # front-matter near-miss, and (moment, the posts due after it, soonest first). They hold for a collection the
    # warm shortcut made while its posts are not loaded, and for the very list of posts summarised (``described``):
    # each is otherwise a pass over every post (~0.05 s at 100,000).
    typos: list[tuple[str, str, str]] | None = field(default=None, repr=False, compare=False)
    future: tuple[datetime, list[Post]] | None = field(default=None, repr=False, compare=False)
    described: list[Post] | None = field(default=None, repr=False, compare=False)

    def by_source(self) -> dict[str, Post]:
        """Each post by its path under the content folder (``post_url``/``link`` resolve through it)."""
        return {post.source: post for post in self.posts}

    def _summarised(self) -> bool:
        return not loaded(self.posts) or self.posts is self.described

    def near_misses(self) -> list[tuple[str, str, str]]:
        """(source, key, suggestion) for each front-matter key of a post that looks like a typo."""
        if self.typos is not None and self._summarised():
            return list(self.typos)
        return [(post.source, key, suggestion) for post in self.posts for key, suggestion in post.key_typos]

    def scheduled(self, now: datetime) -> list[Post]:
        """The posts that are not drafts and come out after ``now``, soonest first."""
        if self.future is not None and self._summarised() and self.future[0] <= now:
            return [post for post in self.future[1] if post.published > now]
        return sorted((p for p in self.posts if not p.draft and p.published > now),
                      key=lambda p: (p.published, p.source))


def stat_key(st: os.stat_result) -> StatKey:
    """What says "same bytes as last time" without reading them: size, mtime, ctime, inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def is_racy(st: os.stat_result, read_ns: int) -> bool:
    """Modified so shortly before ``read_ns`` that a second edit in the same clock tick could keep its stat key
    (file systems keep coarse timestamps): its stat key alone does not vouch for its bytes, as in git."""
    return max(st.st_mtime_ns, st.st_ctime_ns) >= read_ns - RACY_NS


def scan(
    root: Path, skipped: list[tuple[str, str]] | None = None, unreadable: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """Every regular file under ``root`` in a stable order, skipping dot-files, as (content-relative POSIX path,
    path) strings: no ``pathlib`` per file on large sites. Symlinked folders are not entered (no loops, no
    escape); a symlinked file counts only if it points inside.

    The order is ``os.walk``'s, top-down with sorted names: a folder's files, then each sub-folder in turn.
    Symlinks not followed and files that are not regular files (a FIFO would block the build) are left out and,
    when ``skipped`` is given, appended to it as (content-relative path, reason). A folder that cannot be listed
    is appended to ``unreadable`` as ("its/path/", reason) (the root as ""), never taken for an empty one.
    """
    found: list[tuple[str, str]] = []
    real_root = os.path.join(os.path.realpath(root), "")

    def skip(rel: str, reason: str) -> None:
        if skipped is not None:
            skipped.append((rel, reason))

    def visit(folder: str, prefix: str) -> list[tuple[str | None, str]]:
        """One folder's files into ``found``; its sub-folders, sorted, as (path, prefix) (path None: a symlinked
        folder, to skip)."""
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            if unreadable is not None:
                unreadable.append((prefix, f"cannot list the folder: {exc.strerror or exc}"))
            return []
        dirs: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        # Once per file (100,000 times on a large site, ~a sixth of a warm build): kept lean on purpose.
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        files.sort(key=_NAME)
        add = found.append
        for entry in files:
            try:
                plain = entry.is_file(follow_symlinks=False)  # a regular file, no symlink: the usual case
            except OSError:
                plain = False
            if plain:
                add((prefix + entry.name, entry.path))
                continue
            rel = prefix + entry.name
            reason = _unreadable_kind(entry, real_root)
            if reason:
                skip(rel, reason)
            else:
                add((rel, entry.path))
        return [(None, prefix + entry.name) if entry.is_symlink() else (entry.path, prefix + entry.name + "/")
                for entry in sorted(dirs, key=_NAME)]

    # A stack, not recursion: a nested function that calls itself is a cycle (its closure holds it), which only the
    # cyclic collector frees, and builds run without it (ops/heap.py): ``found`` (24 MB at 100,000 files) stayed.
    todo: list[tuple[str | None, str]] = [(os.fspath(root), "")]
    while todo:
        folder, prefix = todo.pop()
        if folder is None:
            skip(prefix, "symlinked folder; not entered")
        else:
            todo += reversed(visit(folder, prefix))
    return found


def _unreadable_kind(entry: os.DirEntry[str], real_root: str) -> str | None:
    """Why a file entry is not read (a symlink leading nowhere or outside, a pipe...), or None to read it."""
    if entry.is_symlink():
        target = os.path.realpath(entry.path)  # unlike Path.resolve() in 3.11, never raises on a loop
        if not os.path.isfile(target):
            return "symlink to nothing (broken, a loop or not a file); not followed"
        if not target.startswith(real_root):
            return "symlink to a file outside the content folder; not followed"
        return None
    return None if _regular(entry) else "not a regular file (a pipe, socket or device); skipped"


def _regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _read_bytes(path: str, site: Site) -> bytes | None:
    """The bytes of a file; None if it does not open with front matter. Raises :class:`Reject`, ``OSError``."""
    fd = os.open(path, os.O_RDONLY)  # unbuffered, without a file object: half the time of open() per file
    try:
        return _read_open(fd, os.fstat(fd).st_size, site)
    finally:
        os.close(fd)


def _read_open(fd: int, size: int, site: Site) -> bytes | None:
    """The bytes of the open file ``fd``, whose size was just stat'ed (see :func:`_read_bytes`): a file that small (a
    post, not an image) is read whole at once, a larger one looked at first."""
    if size <= min(WHOLE_READ, site.max_file_size):
        return _read_small(fd, size, site)
    return _read_large(fd, site)


def _read_large(fd: int, site: Site) -> bytes | None:
    head = os.read(fd, 8)
    # Images and other site files are skipped after eight bytes, however large they are. (In a Jekyll
    # site, the files of _posts are posts with or without front matter.)
    if not has_front_matter(head) and site.jekyll is None:
        return None
    size = os.fstat(fd).st_size
    if size > site.max_file_size:
        raise Reject(f"file is {size:,} bytes, larger than build.max_file_size ({site.max_file_size:,})")
    parts = [head]
    while chunk := os.read(fd, max(size, 65536)):  # to the end, even if the file grew since fstat
        parts.append(chunk)
    return b"".join(parts)


def _read_small(fd: int, size: int, site: Site) -> bytes | None:
    data = os.read(fd, size + 1)
    if not has_front_matter(data) and site.jekyll is None:
        return None
    if len(data) != size:  # it grew (or shrank) since it was stat'ed: read on to the end, as it is now
        parts = [data]
        while chunk := os.read(fd, 65536):
            parts.append(chunk)
        data = b"".join(parts)
        if len(data) > site.max_file_size:  # grew past the limit since
            raise Reject(
                f"file is {len(data):,} bytes, larger than build.max_file_size ({site.max_file_size:,})"
            )
    # Exactly the size stat'ed: a regular file's read stops short only at its end, so no second read to see it.
    return data


def _parse(data: bytes, rel: str, site: Site, now: datetime, state: State, fingerprint: str) -> Post | None:
    """The post (without its body: see :func:`read_body`) that a file's bytes hold, or None if they hold none."""
    meta = front_matter(data)
    if meta is None:
        if site.jekyll is None:
            return None
        meta = {}  # a file of _posts without front matter is a post to Jekyll
    src = Source(rel, site, now, state, fingerprint)
    if site.jekyll is not None:
        from ..jekyll.posts import normalise as normalise_jekyll

        fields = normalise_jekyll(meta, src)
    else:
        fields = normalise(meta, src)
    del fields["slug"]
    # categories, tags and authors come interned (plain_names, _authors): shared, not one copy per post.
    suffix = src.suffix.lower()
    markup = "html" if suffix in HTML_SUFFIXES else "markdown"
    if site.jekyll is not None and suffix[1:] not in site.jekyll.markdown_ext:
        markup = "html"  # Jekyll converts only markdown_ext files; any other post is published as written
    fields.update(source=rel, body=None, markup=markup, fingerprint=fingerprint)
    if "notes" not in fields:  # every field given: made_post checks no more
        fields["notes"] = ()
    return made_post(fields)


def read_body(site: Site, post: Post) -> tuple[str, str]:
    """The body of a post that :func:`read` kept without it, and the fingerprint of the bytes it came from.

    Raises :class:`Reject` (the file is no longer a post) and ``OSError``.
    """
    data = _read_bytes(os.fspath(site.root / site.content / post.source), site)
    if data is None:
        raise Reject("no longer has front matter")
    text = decode(data)
    try:
        return body_of(text), digest(data)  # the front matter was loaded by read(): only split off
    except Reject:
        if site.jekyll is not None:  # a post of _posts without front matter
            return text, digest(data)
        raise


class Unreadable(str):
    """The outcome of a file that could not be read: not a rejection, its feeds are kept as they were."""


# One file's outcome: a Post (without its body), a rejection reason, or None for a file that is not a post.
Outcome = Post | str | None
# What reading a file found out about it: its stat key, whether that was racy, its fingerprint (None: not read),
# and its state entry (first seen, changed) after it was read.
Facts = tuple[StatKey, bool, "str | None", "dict[str, str] | None"]
# The outcome the same bytes gave before, if the caller knows it: (fingerprint, outcome).
Hint = tuple["str | None", Outcome]
# (content-relative path, path, hint or None, the file's state entry)
Task = tuple[str, str, Hint | None, dict[str, str] | None]


def _read_one(task: Task, site: Site, now: datetime, state: State, started_ns: int) -> tuple[Outcome, Facts | None]:
    rel, path, hint, _ = task
    fingerprint: str | None = None
    key: StatKey = (0, 0, 0, 0)
    racy = True
    try:
        fd = os.open(path, os.O_RDONLY)  # unbuffered, without a file object: half the time of open() per file
        try:
            # The stat key of the open file, before reading it: a change after this point shows as a new stat key
            # next time (fstat: the file read, one path look-up fewer than os.stat).
            st = os.fstat(fd)
            key, racy = stat_key(st), is_racy(st, started_ns)
            data = _read_open(fd, st.st_size, site)
        finally:
            os.close(fd)
        if data is None:
            return None, (key, racy, None, _entry(state, rel))
        fingerprint = digest(data)
        if hint is not None and hint[0] == fingerprint:  # touched, not changed: the same bytes give the same post
            return hint[1], (key, racy, fingerprint, _entry(state, rel))
        post = _parse(data, rel, site, now, state, fingerprint)
    except Reject as exc:
        return str(exc), (key, racy, fingerprint, _entry(state, rel))
    except OSError as exc:
        return Unreadable(f"cannot read: {exc.strerror or exc}"), None
    return post, (key, racy, fingerprint, _entry(state, rel))


def _entry(state: State, rel: str) -> dict[str, str] | None:
    entry = state.posts.get(rel)
    return dict(entry) if entry is not None else None


def read_many(
    common: tuple[Site, datetime, int], tasks: list[Task]
) -> Iterator[tuple[Outcome, Facts | None, dict[str, str] | None, bool]]:
    """Read a run of files, each against a private state holding only its entry (so that a worker process can):
    per file its outcome, what was found out about it, its state entry afterwards and whether that changed."""
    site, now, started_ns = common
    state = Scratch(_NOWHERE)
    for task in tasks:
        rel, entry = task[0], task[3]
        state.posts, state.dirty = {rel: dict(entry)} if entry is not None else {}, False
        outcome, facts = _read_one(task, site, now, state, started_ns)
        yield outcome, facts, state.posts.get(rel), state.dirty


def _read_all(
    site: Site,
    now: datetime,
    tasks: list[Task],
    started_ns: int,
    while_waiting: Callable[[], object] | None = None,
    pool: parallel.Workers | None = None,
) -> list[tuple[list[tuple[Outcome, Facts | None]], dict[str, dict[str, str]], bool]]:
    size = max(64, min(512, len(tasks) // (parallel.workers() * 8) + 1))
    results = parallel.fan_out(
        read_many, (site, now, started_ns), tasks, min_items=PARALLEL_MIN_FILES, chunk=size,
        while_waiting=while_waiting, pool=pool,
    )
    outcomes: list[tuple[Outcome, Facts | None]] = []
    entries: dict[str, dict[str, str]] = {}
    dirty = False
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, parallel.Stopped):  # its worker died (killed, out of memory): not a verdict
            outcomes.append((Unreadable(f"cannot read: {result.reason}"), None))
            continue
        outcome, facts, entry, changed = result
        outcomes.append((outcome, facts))
        if entry is not None:
            entries[task[0]] = entry
        dirty |= changed
    return [(outcomes, entries, dirty)]


def read(
    site: Site,
    now: datetime,
    state: State,
    tasks: list[Task],
    started_ns: int,
    while_waiting: Callable[[], object] | None = None,
    pool: parallel.Workers | None = None,
) -> list[tuple[Outcome, Facts | None]]:
    """Read the files ``tasks`` name (on every core when there are many; ``while_waiting`` is called meanwhile),
    in order; ``state`` learns their first-seen and changed dates. A task's hint (the outcome its bytes gave
    before) spares parsing a file whose bytes hash to it; the outcome is the same either way."""
    results: list[tuple[Outcome, Facts | None]] = []
    for chunk_outcomes, entries, dirty in _read_all(site, now, tasks, started_ns, while_waiting, pool):
        state.posts.update(entries)
        state.dirty |= dirty
        results += chunk_outcomes
    return results


def find(site: Site, warnings: list[str]) -> tuple[list[tuple[str, str]], Collection]:
    """The files to read (:func:`scan` of the content folder; in a Jekyll site only what Jekyll reads as posts),
    and a collection holding so far what was found while looking: warnings, unreadable folders, skipped files."""
    found = Collection(warnings=warnings)
    skipped: list[tuple[str, str]] = []
    files = scan(site.root / site.content, skipped, found.unreadable)
    if site.jekyll is not None:  # only what Jekyll reads as posts; the rest of _posts is named by check
        from ..jekyll.discover import posts as jekyll_posts

        files, skipped, not_posts = jekyll_posts(site.jekyll, files, skipped, str(site.output))
        found.skipped = [f"{rel}: {reason}" for rel, reason in not_posts]
    found.warnings += [f"{site.content / rel}: {reason}" for rel, reason in skipped]
    return files, found


def assemble(
    site: Site, files: list[tuple[str, str]], outcomes: list[Outcome], result: Collection, *, notes: bool = True,
    clash: bool = True,
) -> Collection:
    """``result`` (from :func:`find`) with what was read from ``files``, duplicates rejected. A caller that knows
    that no post has notes (``notes``) or that no two claim the same id or URL (``clash``) spares a look at each."""
    add = result.posts.append
    for (rel, _), outcome in zip(files, outcomes, strict=True):
        if type(outcome) is Post:  # once per file: the usual case first, lean
            add(outcome)
            if notes and outcome.notes:
                result.warnings += [f"{site.content / rel}: {note}" for note in outcome.notes]
        elif isinstance(outcome, Unreadable):
            result.unreadable.append((rel, str(outcome)))
        elif isinstance(outcome, str):
            result.rejected.append(PostError(site.content / rel, outcome))
        else:
            result.ignored.append(str(site.content / rel))
    if clash:
        _reject_duplicates(result, site)
    return result


def _reject_duplicates(result: Collection, site: Site) -> None:
    # The usual case, at C speed: no id or URL is claimed twice when the posts' {id, url} sets are disjoint.
    ids, urls = list(map(_ID, result.posts)), list(map(_URL, result.posts))
    if len(set(ids).union(urls)) == 2 * len(ids) - sum(map(operator.eq, ids, urls)):
        return
    # Walk order is sorted by path, so the first file (by path) keeps a contested id or URL: a stable rule.
    owners: dict[str, str] = {}
    kept: list[Post] = []
    for post in result.posts:
        clash = owners.get(post.id) or owners.get(post.url)
        if clash:
            what = "permalink" if post.url in owners else "id"  # an id that is not pinned is the url
            result.rejected.append(PostError(site.content / post.source, f"same {what} as {site.content / clash}"))
            continue
        owners[post.id] = owners[post.url] = post.source
        kept.append(post)
    result.posts = kept
