"""The live posts as Liquid sees them (``post_url``, ``link``, ``site.posts``): the build's :class:`Links`, and a
render worker's :class:`DeferredLinks`, asked of the parent as its templates need them.

At 100,000 posts the build makes, digests and indexes them before any post is rendered, in the parent: they are
held column by column (:class:`Columns`) so that each step is a few passes of C code over each column. A
:class:`PostRef` per post is made only for ``site.posts`` (or the few posts a ``post_url`` or ``link`` names).
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, NamedTuple

# Posts per digest block: an edit in ``daemon --watch`` hashes the one block holding it again, not every post.
BLOCK = 256


@dataclass(frozen=True)
class PostRef:
    """One live post as other posts' templates see it (``post_url``, ``link``, ``site.posts``)."""

    source: str  # content-relative POSIX path, as Post.source
    url: str  # absolute, as Post.url
    title: str
    date: datetime
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class Columns(NamedTuple):
    """The live posts, newest first, field by field (the fields of :class:`PostRef`, in its order)."""

    sources: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    dates: tuple[datetime, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    tags: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, posts: Iterable[PostRef]) -> Columns:
        rows = [(p.source, p.url, p.title, p.date, p.categories, p.tags) for p in posts]
        return cls(*zip(*rows, strict=True)) if rows else cls()


def stem(source: str) -> str:
    """``PurePosixPath(source).stem`` of a content-relative path, without making a path (100,000 times a build):
    the file name up to its last dot, unless that dot starts or ends the name."""
    name = source.rpartition("/")[2]
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


@dataclass(frozen=True, init=False)
class Links:
    """Everything one build's templates may look up besides the site's files: its live posts, newest first (as
    :class:`Columns`), the build's time (``site.time``) and the digest of ``_includes/`` and ``_data/`` (names,
    sizes, times: see :func:`~.context.site_files_digest`)."""

    columns: Columns
    now: datetime | None
    files: str

    def __init__(self, posts: Iterable[PostRef] = (), now: datetime | None = None, files: str = "") -> None:
        posts = tuple(posts)
        _fill(self, Columns.of(posts), now, files)
        self.__dict__["posts"] = posts

    @classmethod
    def of(cls, columns: Columns, now: datetime | None = None, files: str = "") -> Links:
        """Links of posts given column by column (``build_links``; a render worker unpickling them)."""
        made = cls.__new__(cls)
        _fill(made, columns, now, files)
        return made

    @cached_property
    def posts(self) -> tuple[PostRef, ...]:
        """A :class:`PostRef` per live post (``site.posts``): made on first use, ~3 µs a post."""
        return tuple(map(PostRef, *self.columns))

    def ref(self, place: int) -> PostRef:
        """The post at ``place`` (newest first)."""
        posts = self.__dict__.get("posts")
        if posts is not None:
            return posts[place]  # type: ignore[no-any-return]
        c = self.columns
        return PostRef(c.sources[place], c.urls[place], c.titles[place], c.dates[place], c.categories[place],
                       c.tags[place])

    # Look-ups by path (link) and by file name without extension (post_url), in constant time; made on first
    # use: a process that renders no post_url or link (most, on most sites) never pays for them.
    @cached_property
    def by_source(self) -> Mapping[str, PostRef]:
        sources = self.columns.sources
        return _Index(self, dict(zip(sources, range(len(sources)), strict=True)), many=False)

    @cached_property
    def by_stem(self) -> Mapping[str, tuple[PostRef, ...]]:
        """Every post by its file name without extension (a name in two folders: each of them, newest first)."""
        stems = list(map(stem, self.columns.sources))
        places: dict[str, int | tuple[int, ...]] = dict(zip(stems, range(len(stems)), strict=True))
        if len(places) < len(stems):
            shared: dict[str, list[int]] = {}
            for place, name in enumerate(stems):
                shared.setdefault(name, []).append(place)
            places.update((name, tuple(where)) for name, where in shared.items() if len(where) > 1)
        return _Index(self, places, many=True)

    def one_off(self) -> AbstractContextManager[None]:
        """Around work done once per process on the whole of these links (the ``site.posts`` listing, the
        indexes): in a render worker, not charged to the post that needs it first (:class:`DeferredLinks`)."""
        return nullcontext()

    @cached_property
    def digests(self) -> bytes:
        """The digest of each block of :data:`BLOCK` posts, in order (16 bytes a block)."""
        count = len(self.columns.sources)
        return b"".join([_block_digest(self.columns, start) for start in range(0, count, BLOCK)])

    @cached_property
    def digest(self) -> str:
        """A hash of what a cached rendering of a post with Liquid may hold of the other posts: everything
        ``site.posts`` shows of each (path, URL, title, date, categories, tags), in order. Part of that post's
        cache key. Links :meth:`updated` for an edit hash again only the blocks of the posts edited."""
        return hashlib.blake2b(self.digests, digest_size=16).hexdigest()

    def updated(self, now: datetime, files: str, changed: Mapping[str, PostRef]) -> Links:
        """These links at ``now``, each post of ``changed`` (by source) replaced in place: its date unchanged, so
        the order holds, the indexes hold too and only the digests of its block are made again (``daemon
        --watch``): the same :attr:`digest` as Links made afresh of the same posts."""
        index = self.by_source
        assert isinstance(index, _Index)
        # A column is copied only if some value in it changed (by repr: a date at the same instant in another
        # zone is another date to a template): copying one costs a reference count touched per post.
        columns: list[tuple[Any, ...] | list[Any]] = list(self.columns)
        posts = list(self.__dict__["posts"]) if "posts" in self.__dict__ else None
        blocks: set[int] = set()
        for source, ref in changed.items():
            place = index.places[source]
            assert isinstance(place, int)
            for field, value in enumerate((ref.source, ref.url, ref.title, ref.date, ref.categories, ref.tags)):
                if repr(columns[field][place]) != repr(value):
                    if isinstance(columns[field], tuple):
                        columns[field] = list(columns[field])
                    columns[field][place] = value  # type: ignore[index]
            if posts is not None:
                posts[place] = ref
            blocks.add(place // BLOCK)
        made = Links.of(Columns(*(tuple(column) for column in columns)), now, files)
        digests = bytearray(self.digests)
        for block in blocks:
            digests[16 * block: 16 * block + 16] = _block_digest(made.columns, block * BLOCK)
        made.__dict__["digests"] = bytes(digests)  # the cached_properties' own slots
        made.__dict__["by_source"] = _Index(made, index.places, many=False)
        stems = self.__dict__.get("by_stem")
        if isinstance(stems, _Index):
            made.__dict__["by_stem"] = _Index(made, stems.places, many=True)
        if posts is not None:
            made.__dict__["posts"] = tuple(posts)
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to a render worker whose templates list site.posts: the indexes are rebuilt there rather than
        # pickled twice over, and the posts' texts go as a few long strings: pickling 100,000 posts' worth of
        # small strings kept ~600,000 objects in pickle's memo (90 MB for a 22 MB result) and took 2.5 times as long.
        columns = self.columns
        count = len(columns.sources)
        texts = ["\0".join(column) for column in columns[:3]]  # split by NUL there: none may hold one
        as_they_are = (Links.of, (columns, self.now, self.files))
        if any(text.count("\0") != max(count - 1, 0) for text in texts):
            return as_they_are
        names: list[Any] = []
        for column in columns[4:]:  # how many names each post has, then every name, joined by \x01
            sizes = array("I", map(len, column))
            flat = "\x01".join(chain.from_iterable(column))
            if flat.count("\x01") != max(sum(sizes) - 1, 0):
                return as_they_are
            names += [sizes, flat]
        return (_unpacked_links, (count, *texts, *names, columns.dates, self.now, self.files))


def _fill(links: Links, columns: Columns, now: datetime | None, files: str) -> None:
    for name, value in (("columns", columns), ("now", now), ("files", files)):
        object.__setattr__(links, name, value)


_isoformat: Callable[[datetime], str] = datetime.isoformat
_STATE = itemgetter(0)  # of a date's pickled arguments: its fields, year to microsecond and fold, in 10 bytes
_ARGUMENTS = itemgetter(1)


def _dates(dates: tuple[datetime, ...]) -> bytes:
    """The dates as bytes: each one's fields and, apart, each one's UTC offset: all that its ISO form shows (and its
    fold), without formatting a string per date (half the time)."""
    try:
        offsets = array("d", map(timedelta.total_seconds, map(datetime.utcoffset, dates)))  # type: ignore[arg-type]
    except TypeError:  # a naive date (None has no seconds)
        return b"iso:" + "\0".join(map(_isoformat, dates)).encode()
    return b"bin:" + b"".join(map(_STATE, map(_ARGUMENTS, map(datetime.__reduce_ex__, dates, repeat(4))))) + (
        offsets.tobytes())


def _block_digest(columns: Columns, start: int) -> bytes:
    """A hash of the posts ``start`` to ``start + BLOCK``: each field of theirs as one long string (a few calls
    of C code a block, where a hash per post took ~6 µs), unambiguous (see below)."""
    end = start + BLOCK
    sources, urls, titles = columns.sources[start:end], columns.urls[start:end], columns.titles[start:end]
    dates, categories, tags = columns.dates[start:end], columns.categories[start:end], columns.tags[start:end]
    count = len(sources)
    texts = ["\0".join(sources), "\0".join(urls), "\0".join(titles)]
    # Joined by NUL, a text holding one could be read two ways: checked by counting them.
    plain = all(text.count("\0") == count - 1 for text in texts)
    parts = [_dates(dates)]
    for names in (categories, tags):
        sizes = array("I", map(len, names))  # how many names each post has, then the names
        joined = "\0".join(chain.from_iterable(names))
        plain = plain and joined.count("\0") == max(sum(sizes) - 1, 0)
        parts.append(sizes.tobytes())
        texts.append(joined)
    if not plain:  # some text holds a NUL: the posts' repr, slower but as unambiguous
        parts, texts = [], [repr(list(zip(sources, urls, titles, map(_isoformat, dates), categories, tags,
                                          strict=True)))]
    h = hashlib.sha256(b"plain" if plain else b"repr")  # SHA-256 has CPU instructions: twice BLAKE2's speed here
    for data in chain(parts, (text.encode("utf-8", "surrogatepass") for text in texts)):
        h.update(b"%d:" % len(data))
        h.update(data)
    return h.digest()[:16]


class _Index(Mapping[str, Any]):
    """:class:`Links` by a key (path; file name without extension): the place of each post it names (``many``: a
    tuple of places, or one), made into :class:`PostRef` when looked up."""

    def __init__(self, links: Links, places: Mapping[str, int | tuple[int, ...]], many: bool) -> None:
        self.places: Mapping[str, int | tuple[int, ...]] = places
        self._links, self._many = links, many

    def __getitem__(self, key: str) -> Any:
        place = self.places[key]
        if not self._many:
            return self._links.ref(place)  # type: ignore[arg-type]
        return tuple(map(self._links.ref, place)) if isinstance(place, tuple) else (self._links.ref(place),)

    def __contains__(self, key: object) -> bool:
        return key in self.places

    def __iter__(self) -> Iterator[str]:
        return iter(self.places)

    def __len__(self) -> int:
        return len(self.places)


class DeferredLinks(Links):
    """Links as a render worker holds them: ``now`` and ``files`` at once; the live posts are asked (``ask``) of
    the process that has them, and only when a template looks at them: ``ask(WHOLE)`` gives all of them (for
    ``site.posts``, ``site.categories``, ``site.tags``), ``ask(("by_stem", name))`` and ``ask(("by_source",
    path))`` only those one ``post_url`` or ``link`` names (:func:`answer` answers). ``one_off`` wraps getting
    all of them and the work on the whole list (see :meth:`Links.one_off`)."""

    def __init__(self, now: datetime | None, files: str, ask: Callable[[Any], Any],
                 one_off: Callable[[], AbstractContextManager[None]] = nullcontext) -> None:
        for name, value in (("now", now), ("files", files), ("_ask", ask), ("_one_off", one_off), ("_depth", [0])):
            object.__setattr__(self, name, value)

    @cached_property
    def _loaded(self) -> Links:
        with self.one_off():
            return self._ask(WHOLE)  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def columns(self) -> Columns:  # type: ignore[override]
        return self._loaded.columns

    @cached_property
    def posts(self) -> tuple[PostRef, ...]:
        return self._loaded.posts

    @cached_property
    def by_source(self) -> Mapping[str, PostRef]:
        return _Asked(self, "by_source")

    @cached_property
    def by_stem(self) -> Mapping[str, tuple[PostRef, ...]]:
        return _Asked(self, "by_stem")

    @contextmanager
    def one_off(self) -> Iterator[None]:  # type: ignore[override]
        depth = self._depth  # type: ignore[attr-defined]
        depth[0] += 1
        try:
            if depth[0] > 1:  # inside another: that one's
                yield
            else:
                with self._one_off():  # type: ignore[attr-defined]
                    yield
        finally:
            depth[0] -= 1

    def __reduce__(self) -> tuple[Any, ...]:
        return self._loaded.__reduce__()


WHOLE = ("posts",)  # DeferredLinks' question for every live post


class _Asked(Mapping[str, Any]):
    """An index of :class:`DeferredLinks` (``by_source``, ``by_stem``): each key asked once, unless every post
    is here already."""

    def __init__(self, links: DeferredLinks, index: str) -> None:
        self._links, self._index = links, index
        self._known: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if "_loaded" in self._links.__dict__:
            return getattr(self._links._loaded, self._index)[key]
        if key not in self._known:
            self._known[key] = self._links._ask((self._index, key))  # type: ignore[attr-defined]
        found = self._known[key]
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(getattr(self._links._loaded, self._index))

    def __len__(self) -> int:
        return len(getattr(self._links._loaded, self._index))


def answer(links: Links, question: Any) -> Any:
    """What a :class:`DeferredLinks` asks of ``links``: all of them, or the posts a ``post_url`` or ``link``
    names (None: none)."""
    if question == WHOLE:
        return links
    index, key = question
    if index not in ("by_source", "by_stem"):
        raise ValueError(f"not a question about links: {question!r}")
    found: Mapping[str, Any] = getattr(links, index)
    return found.get(key)


def _unpacked_links(
    count: int, sources: str, urls: str, titles: str, category_sizes: array[int], categories: str,
    tag_sizes: array[int], tags: str, dates: tuple[datetime, ...], now: datetime | None, files: str,
) -> Links:
    if not count:
        return Links((), now, files)

    def names(sizes: array[int], flat: str) -> tuple[tuple[str, ...], ...]:
        every = iter(map(sys.intern, flat.split("\x01")) if sum(sizes) else ())
        return tuple(tuple(islice(every, size)) for size in sizes)

    columns = Columns(tuple(sources.split("\0")), tuple(urls.split("\0")), tuple(titles.split("\0")), tuple(dates),
                      names(category_sizes, categories), names(tag_sizes, tags))
    if any(len(column) != count for column in columns):
        raise ValueError(f"links of {count} posts unpacked as {[len(column) for column in columns]}")
    return Links.of(columns, now, files)
