"""The Liquid environment: python-liquid, lax like Jekyll, bounded, with Jekyll's tags and filters.

One environment per site and process (building it parses nothing, but ``site.data`` is read once). Errors never
escape a render: each one removes only the node it happened in and becomes one warning naming the post's file,
line and tag, collected per render (:class:`RenderState`) rather than through Python's process-wide
``warnings``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liquid import Environment, Mode
from liquid.exceptions import LiquidError, LiquidSyntaxError
from liquid.token import TOKEN_OUTPUT, TOKEN_TAG, Token

from ...config import Site
from .context import load_data, site_drop
from .links import Links

# Jekyll has no limits of its own; these keep a hostile or broken post from taking the build down with it.
LOOP_ITERATION_LIMIT = 100_000
OUTPUT_STREAM_LIMIT = 5 * 1024 * 1024  # characters one post (includes too) may render
CONTEXT_DEPTH_LIMIT = 30  # include nesting, self-inclusion included
LOCAL_NAMESPACE_LIMIT = 2 * 1024 * 1024


@dataclass
class RenderState:
    """One post's render: where it came from, what went wrong, and the includes being rendered now."""

    source: str  # the post's content-relative path, for warnings
    line_offset: int  # lines of front matter above the body, so that warnings give the file's line
    links: Links
    post_dir: str = ""  # include_relative resolves against this (site-root-relative POSIX folder)
    warnings: list[str] = field(default_factory=list)
    includes: list[tuple[str, Token | None]] = field(default_factory=list)

    def line(self, token: Token | None) -> int | None:
        if token is None or token.start_index < 0:
            return None
        return token.source.count("\n", 0, token.start_index) + 1

    def warn(self, exc: LiquidError, token: Token | None) -> None:
        token = exc.token or token
        where_token, inside = token, ""
        if self.includes:  # the line of the outermost include in the post, and the file the error is in
            where_token = self.includes[0][1]
            inner = self.line(token)
            inside = f" (in include {self.includes[-1][0]}" + (f", line {inner})" if inner else ")")
        line = self.line(where_token)
        at = f"{self.source}:{line + self.line_offset}" if line else self.source
        message = " ".join(str(exc.message or type(exc).__name__).split())
        self.warnings.append(f"{at}: Liquid {_describe(token)}{inside}: {message}; left out")


def _describe(token: Token | None) -> str:
    if token is None:
        return "template"
    if token.kind == TOKEN_TAG:
        return f"tag {{% {token.value} %}}"
    if token.kind == TOKEN_OUTPUT:
        inner = " ".join(token.value.removeprefix("{{").removesuffix("}}").strip("-").split())
        return f"output {{{{ {inner[:60]} }}}}"
    return "template"


_STATE: contextvars.ContextVar[RenderState] = contextvars.ContextVar("feedwright_liquid_state")


def state() -> RenderState:
    """The render in progress (tags and filters look up links and the post's folder here)."""
    return _STATE.get()


@contextmanager
def rendering(render_state: RenderState) -> Iterator[RenderState]:
    token = _STATE.set(render_state)
    try:
        yield render_state
    finally:
        _STATE.reset(token)


class JekyllEnvironment(Environment):
    """python-liquid configured as Jekyll's Liquid: lax, unknown filters ignored, resource limits set."""

    loop_iteration_limit = LOOP_ITERATION_LIMIT
    output_stream_limit = OUTPUT_STREAM_LIMIT
    context_depth_limit = CONTEXT_DEPTH_LIMIT
    local_namespace_limit = LOCAL_NAMESPACE_LIMIT

    def __init__(self, site: Site) -> None:
        # No loader: Shopify's {% include %}/{% render %} are replaced by Jekyll's, which read only _includes/.
        super().__init__(tolerance=Mode.LAX, strict_filters=False)
        self.site = site
        self.root = Path(site.root)
        self.load_warnings: list[str] = []
        self.data: dict[str, Any] = load_data(self.root, self.load_warnings)
        self.partials: dict[tuple[str, int, int], Any] = {}  # path, mtime_ns, size -> parsed template
        self._site_drop: tuple[Links, dict[str, Any]] | None = None
        from . import filters, tags

        tags.register(self)
        filters.register(self)

    def site_drop(self, links: Links) -> dict[str, Any]:
        """``site`` for this build's ``links``, made once: ``site.posts`` alone has an entry per post, and
        making it for every rendered post would cost time growing with the square of the site's size."""
        if self._site_drop is None or self._site_drop[0] is not links:
            self._site_drop = (links, site_drop(self.site, links, self.data))
        return self._site_drop[1]

    def error(self, exc: Any, msg: str | None = None, token: Token | None = None) -> None:
        """Lax: the failing node is dropped and rendering goes on; the error becomes a warning of this render."""
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        exc = self._plugin_tag(exc)
        current = _STATE.get(None)
        if current is not None:
            current.warn(exc, token)


    def _plugin_tag(self, exc: LiquidError) -> LiquidError:
        """python-liquid calls a tag it has no definition for "unexpected": on a Jekyll site that is nearly always
        a plugin's tag ({% figure %}, {% youtube %}), and the warning should say why it is not rendered."""
        token = exc.token
        if token is None or token.kind != TOKEN_TAG or str(exc.message or "") != f"unexpected tag '{token.value}'":
            return exc
        name = token.value
        if name in self.tags or name.removeprefix("end") in self.tags:  # a stray {% endif %} is a real mistake
            return exc
        return LiquidSyntaxError(f"unknown tag '{name}' (a Jekyll plugin's? feedwright runs no plugins)", token=token)


_ENVIRONMENTS: dict[str, JekyllEnvironment] = {}


def environment(site: Site, files: str = "") -> JekyllEnvironment:
    """The environment for ``site`` in this process, built on first use; a new one when the config or the files
    under ``_includes/`` and ``_data/`` (their digest: ``files``) changed, as they may in a long-running daemon."""
    key = repr(site) + files
    env = _ENVIRONMENTS.get(key)
    if env is None:
        if len(_ENVIRONMENTS) > 4:  # a long-running process should not keep every config it ever saw
            _ENVIRONMENTS.clear()
        env = _ENVIRONMENTS[key] = JekyllEnvironment(site)
    return env
