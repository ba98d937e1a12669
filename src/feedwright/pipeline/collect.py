"""Find the posts under ``content/``, split off their front matter and normalise it into :class:`Post` values.

Only front matter is interpreted here; bodies are kept as text and rendered later, and only for posts that
reach a feed.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..config import Site
from ..errors import PostError
from ..incremental import parallel
from ..incremental.store import (
    FINGERPRINT,
    OUTCOME,
    RACY,
    STAT,
    STATE,
    Cache,
    Record,
    StatKey,
    is_racy,
    now_ns,
    stat_key,
)
from .history import State, digest
from .normalise import Reject, Source, normalise
from .text import xml_safe

HTML_SUFFIXES = {".html", ".htm"}
# Parsing is spread over every core only when there is this much of it: starting workers costs ~0.2 s.
PARALLEL_MIN_FILES = 2000
_BOM = b"\xef\xbb\xbf"
_STR_TAG = "tag:yaml.org,2002:str"
_ID, _URL = operator.attrgetter("id"), operator.attrgetter("url")
_C0_ILLEGAL = bytes(c for c in range(32) if c not in b"\t\n\r")


@functools.cache
def _handlers() -> tuple[tuple[Any, ...], tuple[type[Exception], ...]]:
    """The front-matter handlers, and the errors loading one may raise.

    PyYAML and python-frontmatter are imported here, when the first file is parsed: a warm build that parses
    nothing does not pay for them.
    """
    import yaml
    from frontmatter.default_handlers import BaseHandler, YAMLHandler

    class TOMLHandler(BaseHandler):
        """``+++`` TOML front matter, read with the standard library's ``tomllib``."""

        # python-frontmatter ships one only when the third-party toml package is installed.
        FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
        START_DELIMITER = END_DELIMITER = "+++"

        def load(self, fm: str) -> dict[str, Any]:
            return tomllib.loads(fm)

    class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """The safe loader (no tag constructs an object), except that a timestamp YAML cannot build stays
        text.

        ``date: 2024-13-45`` then reaches the date normaliser, which rejects it naming the key, instead of
        failing the whole front matter with PyYAML's "month must be in 1..12".
        """

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            # Most front-matter values are plain strings, and constructing one is only ``node.value``: skip the
            # generic path (cache, recursion guard, constructor look-up; a fifth of loading a front matter).
            if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
                return node.value
            return super().construct_object(node, deep)

    def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
        except (ValueError, OverflowError, AttributeError, TypeError):
            return loader.construct_scalar(node)  # type: ignore[arg-type]

    _SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

    class JekyllYAMLHandler(YAMLHandler):
        """``---`` YAML front matter, closed by ``---`` or by YAML's document end marker ``...`` as Jekyll
        allows."""

        FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.{3})\s*$", re.MULTILINE)

        def detect(self, text: str) -> bool:
            return text.startswith("---") and super().detect(text)

        def load(self, fm: str, **kwargs: Any) -> Any:
            kwargs.setdefault("Loader", _SafeLoader)
            return super().load(fm, **kwargs)

    # PyYAML's constructors let some errors out unwrapped (ValueError, TypeError, AttributeError).
    errors = (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, TypeError, AttributeError)
    return (JekyllYAMLHandler(), TOMLHandler()), errors


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

    def is_live(self, now: datetime) -> bool:
        """Published: neither a draft nor dated in the future."""
        return not self.draft and self.published <= now


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
    # Every content file was found as the cache last saw it: the same posts as the build that saved the cache.
    unchanged: bool = False
    skipped: list[str] = field(default_factory=list)  # "path: reason" for files a Jekyll site does not publish

    def by_source(self) -> dict[str, Post]:
        """Each post by its path under the content folder (``post_url``/``link`` resolve through it)."""
        return {post.source: post for post in self.posts}


def walk(root: Path) -> list[Path]:
    """Every regular file under ``root`` in a stable order, skipping dot-files.

    Symlinked folders are not entered (no loops, no escape); a symlinked file counts only if it points inside.
    """
    return [Path(path) for _, path in scan(root)]


def scan(
    root: Path, skipped: list[tuple[str, str]] | None = None, unreadable: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """:func:`walk` as (content-relative POSIX path, path) strings: no ``pathlib`` per file on large sites.

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

    def visit(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            if unreadable is not None:
                unreadable.append((prefix, f"cannot list the folder: {exc.strerror or exc}"))
            return
        dirs: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        for entry in sorted(files, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            if entry.is_symlink():
                target = os.path.realpath(entry.path)  # unlike Path.resolve() in 3.11, never raises on a loop
                if not os.path.isfile(target):
                    skip(rel, "symlink to nothing (broken, a loop or not a file); not followed")
                    continue
                if not target.startswith(real_root):
                    skip(rel, "symlink to a file outside the content folder; not followed")
                    continue
            elif not _regular(entry):
                skip(rel, "not a regular file (a pipe, socket or device); skipped")
                continue
            found.append((rel, entry.path))
        for entry in sorted(dirs, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                skip(prefix + entry.name, "symlinked folder; not entered")
            else:
                visit(entry.path, prefix + entry.name + "/")

    visit(os.fspath(root), "")
    return found


def _regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _has_front_matter(head: bytes) -> bool:
    head = head.removeprefix(_BOM)
    return head.startswith((b"---", b"+++"))


def split(text: str) -> tuple[dict[str, Any], str] | None:
    """Front matter and body of a post's text; None if the text does not open with front matter."""
    handlers, errors = _handlers()
    for handler in handlers:
        if handler.detect(text):
            try:
                fm, body = handler.split(text)
            except ValueError:
                raise Reject("front matter is not closed") from None
            try:
                meta = handler.load(fm)
            # tomllib recurses ("a = [[[[..."). Any failure to load one post's front matter rejects that post.
            except errors as exc:
                reason = " ".join(str(exc).split())
                raise Reject(f"front matter is not valid: {reason}") from None
            except RecursionError:
                raise Reject("front matter is not valid: nested too deeply") from None
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise Reject("front matter must be a mapping of keys to values")
            return meta, body
    return None


def _read_bytes(path: str, site: Site) -> bytes | None:
    """The bytes of a file; None if it does not open with front matter. Raises :class:`Reject`, ``OSError``."""
    fd = os.open(path, os.O_RDONLY)  # unbuffered, without a file object: half the time of open() per file
    try:
        head = os.read(fd, 8)
        # Images and other site files are skipped after eight bytes, however large they are. (In a Jekyll
        # site, the files of _posts are posts with or without front matter.)
        if not _has_front_matter(head) and site.jekyll is None:
            return None
        size = os.fstat(fd).st_size
        if size > site.max_file_size:
            raise Reject(f"file is {size:,} bytes, larger than build.max_file_size ({site.max_file_size:,})")
        parts = [head]
        while chunk := os.read(fd, max(size, 65536)):  # to the end, even if the file grew since fstat
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _legacy_encoding(data: bytes) -> str | None:
    """The likely encoding of text that is not UTF-8, only to name it in the rejection: never used to decode.

    Korean newsrooms' older files are CP949/EUC-KR; Western ones Latin-1 or its Windows superset.
    """
    if b"\0" in data:
        return None
    try:
        text = data.decode("cp949")
        if sum("\uac00" <= ch <= "\ud7a3" for ch in text) >= sum(ord(ch) > 0x7F for ch in text) / 2:
            return "CP949/EUC-KR"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "Latin-1/Windows-1252"


def _decode(data: bytes) -> str:
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = _legacy_encoding(data)
        looks = f"; it looks like {guess}" if guess else ""
        raise Reject(f"not UTF-8 text (bad byte at offset {exc.start}{looks}); save the file as UTF-8") from None
    if b"\r" in data:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Decoded UTF-8 holds no lone surrogate: what XML forbids can only come from a C0 control byte or from
    # U+FFFE/U+FFFF (EF BF BE/BF). Looking for those bytes is three times faster than xml_safe on the text.
    if len(data.translate(None, _C0_ILLEGAL)) == len(data) and b"\xef\xbf" not in data:
        return text
    return xml_safe(text)


def _parse(
    data: bytes, rel: PurePosixPath, site: Site, now: datetime, state: State, fingerprint: str, keep_body: bool
) -> Post | None:
    text = _decode(data)
    parts = split(text)
    if parts is None:
        if site.jekyll is None:
            return None
        parts = ({}, text)
    meta, body = parts
    if site.jekyll is not None:
        from ..jekyll.posts import normalise as normalise_jekyll

        fields = normalise_jekyll(meta, Source(rel, site, now, state, fingerprint))
    else:
        fields = normalise(meta, Source(rel, site, now, state, fingerprint))
    del fields["slug"]
    for name in ("categories", "tags", "authors"):  # shared, not one copy per post, in memory and in the cache
        fields[name] = tuple(map(sys.intern, fields[name]))
    markup = "html" if rel.suffix.lower() in HTML_SUFFIXES else "markdown"
    return Post(source=str(rel), body=body if keep_body else None, markup=markup, fingerprint=fingerprint, **fields)


def read_post(path: Path, rel: PurePosixPath, site: Site, now: datetime, state: State) -> Post | None:
    """Read one file; None if it is not a post (no front matter). Raises :class:`Reject`."""
    data = _read_bytes(os.fspath(path), site)
    if data is None:
        return None
    return _parse(data, rel, site, now, state, digest(data), keep_body=True)


def read_body(site: Site, post: Post) -> tuple[str, str]:
    """The body of a post that :func:`collect` kept without it, and the fingerprint of the bytes it came from.

    Raises :class:`Reject` (the file is no longer a post) and ``OSError``.
    """
    data = _read_bytes(os.fspath(site.root / site.content / post.source), site)
    text = _decode(data) if data is not None else ""
    # The front matter was read by collect(): only split it off, do not load it again.
    for handler in _handlers()[0]:
        if handler.detect(text):
            try:
                return handler.split(text)[1], digest(data)  # type: ignore[arg-type]
            except ValueError:
                break
    if site.jekyll is not None:
        return text, digest(data)  # type: ignore[arg-type]
    raise Reject("no longer has front matter")


class Unreadable(str):
    """The outcome of a file that could not be read: not a rejection, its feeds are kept as they were."""


# One file's outcome: a Post (without its body), a rejection reason, or None for a file that is not a post.
Outcome = Post | str | None
# (content-relative path, path, what the cache knows of it, its state entry) -> (outcome, record or None)
_Task = tuple[str, str, Record | None, dict[str, str] | None]


def _read_one(task: _Task, site: Site, now: datetime, state: State, started_ns: int) -> tuple[Outcome, Record | None]:
    rel, path, known, _ = task
    fingerprint: str | None = None
    key: StatKey = (0, 0, 0, 0)
    racy = True
    try:
        st = os.stat(path)  # before reading: a change after this point shows as a new stat key next time
        key, racy = stat_key(st), is_racy(st, started_ns)
        data = _read_bytes(path, site)
        if data is None:
            return None, (key, racy, None, _entry(state, rel), None)
        fingerprint = digest(data)
        if known is not None and known[FINGERPRINT] == fingerprint and known[STATE] == state.posts.get(rel):
            # Touched, not changed: the same bytes give the same post.
            return known[OUTCOME], (key, racy, fingerprint, known[STATE], known[OUTCOME])
        post = _parse(data, PurePosixPath(rel), site, now, state, fingerprint, keep_body=False)
    except Reject as exc:
        return str(exc), (key, racy, fingerprint, _entry(state, rel), str(exc))
    except OSError as exc:
        return Unreadable(f"cannot read: {exc.strerror or exc}"), None
    return post, (key, racy, fingerprint, _entry(state, rel), post)


def _entry(state: State, rel: str) -> dict[str, str] | None:
    entry = state.posts.get(rel)
    return dict(entry) if entry is not None else None


def _read_many(
    common: tuple[Site, datetime, int], tasks: list[_Task]
) -> Iterator[tuple[Outcome, Record | None, dict[str, str] | None, bool]]:
    """Read a run of files, each against a private state holding only its entry (so that a worker process can):
    per file its outcome, its record, its state entry afterwards and whether that changed."""
    site, now, started_ns = common
    for task in tasks:
        rel, entry = task[0], task[3]
        state = State(Path(), posts={rel: dict(entry)} if entry is not None else {})
        outcome, record = _read_one(task, site, now, state, started_ns)
        yield outcome, record, state.posts.get(rel), state.dirty


def _read_all(
    site: Site,
    now: datetime,
    tasks: list[_Task],
    started_ns: int,
    while_waiting: Callable[[], object] | None = None,
    pool: parallel.Workers | None = None,
) -> list[tuple[list[tuple[Outcome, Record | None]], dict[str, dict[str, str]], bool]]:
    size = max(64, min(512, len(tasks) // (parallel.workers() * 8) + 1))
    results = parallel.fan_out(
        _read_many, (site, now, started_ns), tasks, min_items=PARALLEL_MIN_FILES, chunk=size,
        while_waiting=while_waiting, pool=pool,
    )
    outcomes: list[tuple[Outcome, Record | None]] = []
    entries: dict[str, dict[str, str]] = {}
    dirty = False
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, parallel.Stopped):  # its worker died (killed, out of memory): not a verdict
            outcomes.append((Unreadable(f"cannot read: {result.reason}"), None))
            continue
        outcome, record, entry, changed = result
        outcomes.append((outcome, record))
        if entry is not None:
            entries[task[0]] = entry
        dirty |= changed
    return [(outcomes, entries, dirty)]


def collect(
    site: Site,
    now: datetime,
    state: State,
    cache: Cache | None = None,
    *,
    while_waiting: Callable[[], object] | None = None,
    pool: parallel.Workers | None = None,
) -> Collection:
    """Read every post under the site's content folder; bad posts are rejected, never fatal.

    With a ``cache``, files whose stat key (or, failing that, content hash) is unchanged are not parsed again;
    many files to parse are parsed on every core (on ``pool``'s workers, if given), and ``while_waiting`` is called
    meanwhile. The result is the same either way.
    """
    started_ns = now_ns()
    cache = cache or Cache.disabled()
    content = site.root / site.content
    result = Collection(warnings=list(state.warnings))
    skipped: list[tuple[str, str]] = []
    files = scan(content, skipped, result.unreadable)
    if site.jekyll is not None:  # only what Jekyll reads as posts; the rest of _posts is named by check
        from ..jekyll.discover import posts as jekyll_posts

        files, skipped, not_posts = jekyll_posts(site.jekyll, files, skipped, str(site.output))
        result.skipped = [f"{rel}: {reason}" for rel, reason in not_posts]
    result.warnings += [f"{site.content / rel}: {reason}" for rel, reason in skipped]
    outcomes: list[Outcome] = [None] * len(files)
    todo: list[int] = []
    # The warm path, once per file (100,000 times on a large site): kept lean on purpose.
    records, kept, entries, stat = cache.records if cache.folder else {}, cache.kept, state.posts, os.stat
    for i, (rel, path) in enumerate(files):
        known = records.get(rel)
        if known is not None and not known[RACY] and known[STATE] == entries.get(rel):
            try:
                st = stat(path)
            except OSError:
                todo.append(i)
                continue
            if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) == known[STAT]:
                outcomes[i] = known[OUTCOME]
                kept[rel] = known
                continue
        todo.append(i)
    # The same files as the cache knows, each with the outcome it knows: the posts of the build that saved it.
    unchanged = bool(cache.folder) and len(files) == len(records)
    tasks: list[_Task] = [(r, p, cache.record(r), state.entry(r)) for r, p in (files[i] for i in todo)]
    done, known_records = iter(todo), iter(task[2] for task in tasks)
    for chunk_outcomes, entries, dirty in _read_all(site, now, tasks, started_ns, while_waiting, pool):
        state.posts.update(entries)
        state.dirty |= dirty
        for outcome, record in chunk_outcomes:
            i, known = next(done), next(known_records)
            outcomes[i] = outcome
            if record is not None:
                cache.learn(files[i][0], record)
            unchanged = unchanged and known is not None and known[OUTCOME] == outcome
    result.unchanged = unchanged
    for (rel, _), outcome in zip(files, outcomes, strict=True):
        if isinstance(outcome, Post):
            result.posts.append(outcome)
            result.warnings += [f"{site.content / rel}: {note}" for note in outcome.notes]
        elif isinstance(outcome, Unreadable):
            result.unreadable.append((rel, str(outcome)))
        elif isinstance(outcome, str):
            result.rejected.append(PostError(site.content / rel, outcome))
        else:
            result.ignored.append(str(site.content / rel))
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
