"""What a Jekyll template sees: ``site`` (``_config.yml``, ``site.data``, ``site.posts``) and ``page``.

The values passed between processes (:class:`~.links.PostRef`, :class:`~.links.Links`) are small and picklable:
render workers get them once, and each process builds the rest (the data files, the environment) itself, once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ...config import Site
from ..deferred import filling
from .links import Links

DATA_DIR = "_data"
INCLUDES_DIR = "_includes"
_DATA_SUFFIXES = (".yml", ".yaml", ".json", ".csv", ".tsv")


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


# A URL that urlsplit splits into scheme, an ASCII host and a path alone (nothing it strips, checks or cuts at "?"
# or "#"): its path is the rest, found six times as fast (site.posts lists 100,000 posts' URLs).
_PLAIN_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\[\]\x00-\x20\x7f-\U0010ffff]*(/[^?#\x00-\x20]*)?")


def relative(site: Site, absolute: str) -> str:
    """The site-relative form of a feedwright URL, as Jekyll's ``relative_url`` of a document (baseurl kept)."""
    plain = _PLAIN_URL.fullmatch(absolute)
    if plain is not None:
        return plain.group(1) or ""
    parts = urlsplit(absolute)
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _page_url(site: Site, absolute: str, baseurl: str | None = None) -> str:
    # Jekyll's page.url / post.url leave the baseurl out; relative_url adds it back.
    path = relative(site, absolute)
    if baseurl is None:
        baseurl = origin_and_baseurl(site)[1]
    return path[len(baseurl) :] if baseurl and path.startswith(baseurl + "/") else path


def post_drops(site: Site, links: Links) -> list[dict[str, Any]]:
    """``site.posts``: the fields templates use on the listing of posts, for each live post (made from the links'
    columns, no :class:`~.links.PostRef` each, and the site's baseurl found once: 100,000 times a listing)."""
    baseurl = origin_and_baseurl(site)[1]
    return [
        {"url": _page_url(site, url, baseurl), "title": title, "date": date, "path": source,
         "categories": list(categories), "tags": list(tags)}
        for source, url, title, date, categories, tags in zip(*links.columns, strict=True)
    ]


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
            posts = post_drops(site, links)
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
