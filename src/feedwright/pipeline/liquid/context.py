"""What a Jekyll template sees: ``site`` (``_config.yml``, ``site.data``, ``site.posts``) and ``page``.

The values passed between processes (:class:`PostRef`, :class:`Links`) are small and picklable: render workers
get them once, and each process builds the rest (the data files, the environment) itself, once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ...config import Site
from ..deferred import filling

DATA_DIR = "_data"
INCLUDES_DIR = "_includes"
_DATA_SUFFIXES = (".yml", ".yaml", ".json", ".csv", ".tsv")


@dataclass(frozen=True)
class PostRef:
    """One live post as other posts' templates see it (``post_url``, ``link``, ``site.posts``)."""

    source: str  # content-relative POSIX path, as Post.source
    url: str  # absolute, as Post.url
    title: str
    date: datetime
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @cached_property
    def digest(self) -> bytes:
        """A hash of what a cached rendering of another post may hold of this one: everything ``site.posts``
        shows of it (path, URL, title, date, categories, tags)."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.source, self.url, self.title, self.date.isoformat(), str(len(self.categories)),
                     *self.categories, *self.tags):
            data = part.encode("utf-8", "surrogatepass")
            h.update(b"%d:" % len(data))
            h.update(data)
        return h.digest()


@dataclass(frozen=True)
class Links:
    """Everything one build's templates may look up besides the site's files: its live posts, newest first."""

    posts: tuple[PostRef, ...] = ()
    now: datetime | None = None  # site.time
    files: str = ""  # digest of _includes/ and _data/ (names, sizes, times): see :func:`site_files_digest`

    # Look-ups by path (link) and by file name without extension (post_url), in constant time; made on first
    # use: a process that renders no post_url or link (most, on most sites) never pays for them.
    @cached_property
    def by_source(self) -> Mapping[str, PostRef]:
        return {p.source: p for p in self.posts}

    @cached_property
    def by_stem(self) -> Mapping[str, tuple[PostRef, ...]]:
        stems: dict[str, list[PostRef]] = {}
        for ref in self.posts:
            stems.setdefault(PurePosixPath(ref.source).stem, []).append(ref)
        return {k: tuple(v) for k, v in stems.items()}

    def one_off(self) -> AbstractContextManager[None]:
        """Around work done once per process on the whole of these links (the ``site.posts`` listing, the
        indexes): in a render worker, not charged to the post that needs it first (:class:`DeferredLinks`)."""
        return nullcontext()

    @cached_property
    def digests(self) -> bytes:
        """Every post's :attr:`PostRef.digest`, in order (16 bytes a post)."""
        return b"".join([ref.digest for ref in self.posts])

    @cached_property
    def digest(self) -> str:
        """A hash of :attr:`digests`: part of the cache key of a post with Liquid. Links :meth:`updated` for an
        edit patch 16 bytes a post rather than hash every post's fields again."""
        return hashlib.blake2b(self.digests, digest_size=16).hexdigest()

    def updated(self, now: datetime, files: str, changed: Mapping[str, PostRef]) -> Links:
        """These links at ``now``, each post of ``changed`` (by source) replaced in place: its date unchanged, so
        the order holds and the indexes are patched, not rebuilt (~0.3 s for 100,000 posts; ``daemon --watch``)."""
        by_source, by_stem = dict(self.by_source), dict(self.by_stem)
        posts, digests = list(self.posts), bytearray(self.digests)
        for source, ref in changed.items():
            old = by_source[source]
            by_source[source] = ref
            stem = PurePosixPath(source).stem
            by_stem[stem] = tuple(ref if r.source == source else r for r in by_stem[stem])
            i = posts.index(old)  # by identity first: a scan at C speed
            posts[i] = ref
            digests[16 * i: 16 * i + 16] = ref.digest
        made = Links.__new__(Links)
        for name, value in (("posts", tuple(posts)), ("now", now), ("files", files), ("by_source", by_source),
                            ("by_stem", by_stem)):
            object.__setattr__(made, name, value)
        made.__dict__["digests"] = bytes(digests)  # the cached_property's own slot
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to every render worker: the indexes are rebuilt there rather than pickled twice over, and the posts'
        # texts go as a few long strings: pickling 100,000 posts' worth of small strings kept ~600,000 objects in
        # pickle's memo (90 MB for a 22 MB result) and took 2.5 times as long.
        posts = self.posts
        texts = ["\0".join(getattr(p, name) for p in posts) for name in ("source", "url", "title")]
        names = {n for p in posts for n in (*p.categories, *p.tags)}
        if (any(_SEPARATORS.search(text) or text.count("\0") != max(len(posts) - 1, 0) for text in texts)
                or any(_SEPARATORS.search(name) or "\0" in name for name in names)):
            return (Links, (posts, self.now, self.files))  # a separator in some text: as they are
        for name in ("categories", "tags"):
            texts.append("\0".join("\x02" + "\x01".join(getattr(p, name)) if getattr(p, name) else "" for p in posts))
        return (_unpacked_links, (len(posts), *texts, [p.date for p in posts], self.now, self.files))


_SEPARATORS = re.compile("[\x01\x02]")


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

    @cached_property  # type: ignore[override]
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
    count: int, sources: str, urls: str, titles: str, categories: str, tags: str, dates: list[datetime],
    now: datetime | None, files: str,
) -> Links:
    if not count:
        return Links((), now, files)

    def names(joined: str) -> list[tuple[str, ...]]:
        return [tuple(map(sys.intern, n[1:].split("\x01"))) if n else () for n in joined.split("\0")]

    rows = zip(sources.split("\0"), urls.split("\0"), titles.split("\0"), dates, names(categories), names(tags),
               strict=True)
    return Links(tuple(PostRef(*row) for row in rows), now, files)


def site_files_digest(root: Path) -> str:
    """A digest of every file under ``_includes/`` and ``_data/`` (path, size, modification time): when it
    changes, rendered posts and each process's ``site.data`` are out of date."""
    h = hashlib.sha1()
    for folder in (INCLUDES_DIR, DATA_DIR):
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def origin_and_baseurl(site: Site) -> tuple[str, str]:
    """Jekyll's ``site.url`` (no path) and ``site.baseurl`` (no trailing slash): ``_config.yml`` wins, else
    they are split from feedwright's ``site.url``."""
    parts = urlsplit(site.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    baseurl = parts.path.rstrip("/")
    url, base = site.variables.get("url"), site.variables.get("baseurl")
    if isinstance(url, str) and url:
        origin = url.rstrip("/")
    if isinstance(base, str):
        baseurl = base.rstrip("/")
    return origin, baseurl


def relative(site: Site, absolute: str) -> str:
    """The site-relative form of a feedwright URL, as Jekyll's ``relative_url`` of a document (baseurl kept)."""
    parts = urlsplit(absolute)
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _page_url(site: Site, absolute: str) -> str:
    # Jekyll's page.url / post.url leave the baseurl out; relative_url adds it back.
    path = relative(site, absolute)
    baseurl = origin_and_baseurl(site)[1]
    return path[len(baseurl) :] if baseurl and path.startswith(baseurl + "/") else path


def post_drop(site: Site, ref: PostRef) -> dict[str, Any]:
    """A post of ``site.posts``: the fields templates use on the listing of posts."""
    return {
        "url": _page_url(site, ref.url),
        "title": ref.title,
        "date": ref.date,
        "path": ref.source,
        "categories": list(ref.categories),
        "tags": list(ref.tags),
    }


def page_drop(site: Site, post: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    """``page``: the raw front matter, then what Jekyll computes (url, date, title, categories, tags, path)."""
    page = dict(meta)
    page.update(
        url=_page_url(site, post.url),
        date=post.published,
        title=post.title,
        categories=list(post.categories),
        tags=list(post.tags),
        path=post.source,
        id=_page_url(site, post.url).removesuffix(".html").rstrip("/") or "/",
    )
    return page


def _grouped(posts: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    # Jekyll's site.categories / site.tags: each name -> its posts, newest first as in site.posts.
    groups: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        for name in post[key]:
            groups.setdefault(name, []).append(post)
    return groups


def site_drop(site: Site, links: Links, data: Mapping[str, Any]) -> dict[str, Any]:
    """``site``: the ``_config.yml`` values, then url, baseurl, time, data and posts as Jekyll sets them. Its
    ``posts``, ``categories`` and ``tags`` (an entry per live post) are made when a template first uses them
    (:class:`SiteDrop`)."""

    def whole() -> dict[str, Any]:
        with links.one_off():
            posts = [post_drop(site, p) for p in links.posts]
            return _site_drop(site, links, data, posts=posts, categories=_grouped(posts, "categories"),
                              tags=_grouped(posts, "tags"))

    drop = _site_drop(site, links, data)
    return SiteDrop(drop, whole)


def _site_drop(site: Site, links: Links, data: Mapping[str, Any], **posts: Any) -> dict[str, Any]:
    origin, baseurl = origin_and_baseurl(site)
    drop = dict(site.variables)
    drop.setdefault("title", site.title)
    drop.setdefault("description", site.description)
    drop.update(url=origin, baseurl=baseurl, data=data, **posts)
    if links.now is not None:
        drop["time"] = links.now.astimezone(site.timezone)
    return drop


class SiteDrop(dict[str, Any]):
    """``site`` with its per-post parts (:data:`LAZY`) made on first use: a look-up of one of them, or anything
    that sees the whole mapping (iterating it, its size, printing or copying it) makes them, in their place, and
    from then on it is the plain dict it stands for. ``site.title``, ``site.data``... never make them."""

    LAZY = ("posts", "categories", "tags")

    def __init__(self, drop: dict[str, Any], whole: Callable[[], dict[str, Any]]) -> None:
        super().__init__((k, v) for k, v in drop.items() if k not in self.LAZY)
        self._whole: Callable[[], dict[str, Any]] | None = whole

    def fill(self) -> None:
        """Make the whole ``site`` (keys in Jekyll's order, as :func:`site_drop` always made them)."""
        whole, self._whole = self._whole, None
        if whole is not None:
            made = whole()
            dict.clear(self)
            dict.update(self, made)

    def __missing__(self, key: str) -> Any:
        if self._whole is None or key not in self.LAZY:
            raise KeyError(key)
        self.fill()
        return dict.__getitem__(self, key)


# Everything but a look-up of a key it has: C code that bypasses these (dict(d), json.dumps(d), {**d}) uses them
# instead once __iter__ and items are overridden.
filling(SiteDrop, dict, ("__iter__", "__len__", "__contains__", "__eq__", "__ne__", "__repr__", "__reversed__",
                         "__or__", "__ror__", "__ior__", "__reduce__", "__reduce_ex__", "__setitem__", "__delitem__",
                         "keys", "items", "values", "get", "copy", "pop", "popitem", "setdefault", "update", "clear"))

def _load_one(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix in (".csv", ".tsv"):
        return list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_data(root: Path, warnings: list[str]) -> dict[str, Any]:
    """``site.data``: every YAML/JSON/CSV/TSV file under ``_data/``, keyed by folder and file stem as Jekyll does.

    A file that does not parse is left out with a warning; symlinks leading out of ``_data/`` are not followed.
    """
    base = root / DATA_DIR
    data: dict[str, Any] = {}
    if not base.is_dir():
        return data
    resolved = base.resolve()
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() not in _DATA_SUFFIXES or any(p.startswith(".") for p in path.parts[len(base.parts) :]):
            continue
        try:
            if resolved not in path.resolve().parents or not path.is_file():
                continue
            value = _load_one(path)
        except Exception as exc:  # noqa: BLE001 - any failure of one data file costs only that file
            reason = " ".join(str(exc).split()) or type(exc).__name__
            warnings.append(f"{path.relative_to(root)}: data file left out of site.data: {reason}")
            continue
        rel = PurePosixPath(path.relative_to(base).as_posix())
        node = data
        for folder in rel.parts[:-1]:
            child = node.get(folder)
            node = node.setdefault(folder, {}) if not isinstance(child, dict) else child
        node[rel.stem] = value
    return data
