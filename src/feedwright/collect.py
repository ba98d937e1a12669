"""Find the posts under ``content/``, split off their front matter and normalise it into :class:`Post` values.

Only front matter is interpreted here; bodies are kept as text and rendered later, and only for posts that
reach a feed.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from .config import Site
from .errors import PostError
from .normalise import Reject, Source, normalise
from .state import State, digest
from .text import xml_safe

HTML_SUFFIXES = {".html", ".htm"}
_BOM = b"\xef\xbb\xbf"


class TOMLHandler(BaseHandler):
    """``+++`` TOML front matter, read with the standard library's ``tomllib``."""

    # python-frontmatter ships one only when the third-party toml package is installed.
    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str) -> dict[str, Any]:
        return tomllib.loads(fm)

class JekyllYAMLHandler(YAMLHandler):
    """``---`` YAML front matter, closed by ``---`` or by YAML's document end marker ``...`` as Jekyll allows."""

    FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.{3})\s*$", re.MULTILINE)

    def detect(self, text: str) -> bool:
        return text.startswith("---") and super().detect(text)


_HANDLERS: tuple[BaseHandler, ...] = (JekyllYAMLHandler(), TOMLHandler())


@dataclass(frozen=True)
class Post:
    """One post, its front matter normalised; ``body`` is still the raw Markdown or HTML."""

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
    body: str
    markup: str

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


def walk(root: Path) -> list[Path]:
    """Every regular file under ``root`` in a stable order, skipping dot-files.

    Symlinked folders are not entered (no loops, no escape); a symlinked file counts only if it points inside.
    """
    found: list[Path] = []
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if not (target.is_file() and real_root in target.parents):
                    continue
            found.append(path)
    return found


def _has_front_matter(head: bytes) -> bool:
    head = head.removeprefix(_BOM)
    return head.startswith((b"---", b"+++"))


def split(text: str) -> tuple[dict[str, Any], str] | None:
    """Front matter and body of a post's text; None if the text does not open with front matter."""
    for handler in _HANDLERS:
        if handler.detect(text):
            try:
                fm, body = handler.split(text)
            except ValueError:
                raise Reject("front matter is not closed") from None
            try:
                meta = handler.load(fm)
            # PyYAML's constructors let some errors out unwrapped: ``date: 2024-13-45`` raises ValueError,
            # ``!!timestamp x`` AttributeError. Any failure to load one post's front matter rejects that post.
            except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, TypeError, AttributeError) as exc:
                reason = " ".join(str(exc).split())
                raise Reject(f"front matter is not valid: {reason}") from None
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise Reject("front matter must be a mapping of keys to values")
            return meta, body
    return None


def read_post(path: Path, rel: PurePosixPath, site: Site, now: datetime, state: State) -> Post | None:
    """Read one file; None if it is not a post (no front matter). Raises :class:`Reject`."""
    with path.open("rb") as fh:
        head = fh.read(8)
        # Images and other site files are skipped after eight bytes, however large they are.
        if not _has_front_matter(head):
            return None
        size = os.fstat(fh.fileno()).st_size
        if size > site.max_file_size:
            raise Reject(f"file is {size:,} bytes, larger than build.max_file_size ({site.max_file_size:,})")
        data = head + fh.read()
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Reject(f"not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8") from None
    text = xml_safe(text.replace("\r\n", "\n").replace("\r", "\n"))
    parts = split(text)
    if parts is None:
        return None
    meta, body = parts
    fields = normalise(meta, Source(rel, site, now, state, digest(data)))
    del fields["slug"]
    markup = "html" if path.suffix.lower() in HTML_SUFFIXES else "markdown"
    return Post(source=str(rel), body=body, markup=markup, **fields)


def collect(site: Site, now: datetime, state: State) -> Collection:
    """Read every post under the site's content folder; bad posts are rejected, never fatal."""
    content = site.root / site.content
    result = Collection(warnings=list(state.warnings))
    for path in walk(content):
        rel = PurePosixPath(path.relative_to(content).as_posix())
        shown = site.content / rel
        try:
            post = read_post(path, rel, site, now, state)
        except Reject as exc:
            result.rejected.append(PostError(shown, str(exc)))
            continue
        except OSError as exc:
            result.rejected.append(PostError(shown, f"cannot read: {exc.strerror or exc}"))
            continue
        if post is None:
            result.ignored.append(str(shown))
        else:
            result.posts.append(post)
    _reject_duplicates(result, site)
    return result


def _reject_duplicates(result: Collection, site: Site) -> None:
    # Walk order is sorted by path, so the first file (by path) keeps a contested id or URL: a stable rule.
    owners: dict[str, str] = {}
    kept: list[Post] = []
    for post in result.posts:
        clash = owners.get(post.id) or owners.get(post.url)
        if clash:
            what = "id" if post.id in owners else "permalink"
            result.rejected.append(PostError(site.content / post.source, f"same {what} as {site.content / clash}"))
            continue
        owners[post.id] = owners[post.url] = post.source
        kept.append(post)
    result.posts = kept
