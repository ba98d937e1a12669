"""Jekyll's Liquid in post bodies, rendered by python-liquid before Markdown (as Jekyll does).

:func:`render_liquid` is the entry point; ``environment`` holds the engine set-up and its limits, ``tags`` and
``filters`` Jekyll's additions, ``context`` what ``site`` and ``page`` hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ...config import Site
from .context import page_drop, site_files_digest
from .links import Columns, DeferredLinks, Links, PostRef

__all__ = [
    "Columns", "DeferredLinks", "Links", "LiquidResult", "PostRef", "front_matter", "has_liquid", "render_liquid",
    "site_files_digest",
]


@dataclass(frozen=True)
class LiquidResult:
    """The body with its Liquid rendered, the warnings it gave, and whether it had any Liquid at all."""

    text: str
    warnings: tuple[str, ...] = ()
    used: bool = False


def has_liquid(text: str) -> bool:
    return "{{" in text or "{%" in text


def front_matter(site: Site, post: Any) -> tuple[dict[str, Any], int]:
    """The post's raw front matter (``page``) and the number of lines above its body."""
    from ..frontmatter import decode, split

    try:
        text = decode((site.root / site.content / post.source).read_bytes())
        parts = split(text)
    except Exception:  # noqa: BLE001 - changed or gone since collect: page.* from the Post alone
        return {}, 0
    if parts is None:
        return {}, 0
    meta, rest = parts
    head = text[: len(text) - len(rest)] if text.endswith(rest) else ""
    # The body starts on the line after the closing "---" (what follows it on that line is only its newline).
    return meta, head.count("\n") + rest.startswith("\n")


def with_defaults(site: Site, source: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The front matter with ``_config.yml``'s ``defaults`` for posts under it (path prefix, type ``posts`` or
    none), the longer path winning, the post's own keys over all: what Jekyll's ``page`` holds."""
    rel = (site.content / source).as_posix()
    found: list[tuple[int, Mapping[str, Any]]] = []
    defaults = site.variables.get("defaults")
    for entry in defaults if isinstance(defaults, list) else ():
        scope = entry.get("scope") if isinstance(entry, Mapping) else None
        values = entry.get("values") if isinstance(entry, Mapping) else None
        if not isinstance(scope, Mapping) or not isinstance(values, Mapping):
            continue
        path = str(scope.get("path") or "").strip("/")
        kind = scope.get("type")
        if kind not in (None, "", "posts") or (path and rel != path and not rel.startswith(path + "/")):
            continue
        found.append((len(path), values))
    merged: dict[str, Any] = {}
    for _, values in sorted(found, key=lambda item: item[0]):
        merged.update(values)
    return {**merged, **meta}


def render_liquid(
    site: Site, post: Any, body: str, links: Links, meta: Mapping[str, Any], offset: int = 0
) -> LiquidResult:
    """Render ``body`` of ``post`` (front matter ``meta``, ``offset`` lines above the body) as Jekyll's Liquid
    would. Never raises: every error becomes a warning."""
    if not has_liquid(body):
        return LiquidResult(body)
    body = body.removeprefix("\n")  # the end of the "---" line: line numbers count from the next (offset)
    meta = with_defaults(site, post.source, meta) if site.variables.get("defaults") else meta
    if meta.get("render_with_liquid") is False:
        return LiquidResult(body)
    from .environment import RenderState, environment, rendering

    env = environment(site, links.files)
    folder = str(PurePosixPath(site.content.as_posix(), post.source).parent)
    state = RenderState(
        source=(site.content / post.source).as_posix(), line_offset=offset, links=links,
        post_dir="" if folder == "." else folder,
    )
    with rendering(state):
        try:
            template = env.from_string(body, name=post.source)
            text = template.render(site=env.site_drop(links), page=page_drop(site, post, meta))
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - the engine itself failed: keep the text
            reason = " ".join(str(exc).split()[:30]) or type(exc).__name__
            state.warnings.append(f"{state.source}: Liquid could not be rendered ({reason}); shown as written")
            text = body
    return LiquidResult(text, (*env.load_warnings, *state.warnings), True)
