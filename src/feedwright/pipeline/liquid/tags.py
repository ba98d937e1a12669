"""Jekyll's own tags: ``post_url``, ``link``, ``highlight``, ``include`` and ``include_relative``.

Modelled on Jekyll 4.3's ``lib/jekyll/tags/*.rb``: the same syntax and the same file-name rules. Includes read
only from the site (``_includes/`` or, for ``include_relative``, beside the post), never through ``..``, an
absolute path or a symlink leading out.
"""

from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TextIO

from liquid.ast import BlockNode, Node
from liquid.exceptions import LiquidError, LiquidSyntaxError, TemplateNotFoundError
from liquid.parser import get_parser
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG, Token

from .context import INCLUDES_DIR, relative
from .environment import state

if TYPE_CHECKING:
    from liquid import RenderContext
    from liquid.stream import TokenStream

    from .environment import JekyllEnvironment

# Jekyll's Tags::PostComparer::MATCHER and IncludeTag's syntax rules, as written in Jekyll 4.3.
_POST_NAME = re.compile(r"^(.+/)*(\d+-\d+-\d+)-(.*)$")
_PARAM = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([\w.-]+))""")
_FULL_PARAMS = re.compile(rf"\A\s*(?:{_PARAM.pattern}(?=\s|\Z)\s*)*\Z")
_VARIABLE_FILE = re.compile(r"(?P<variable>[^{]*(\{\{\s*[\w\-.]+\s*(\|.*)?\}\}[^\s{}]*)+)(?P<params>.*)", re.S)
_VALID_FILENAME = re.compile(r"^[\w/.\-()+~#@]+$")
_INVALID_SEQUENCE = re.compile(r"[./]{2,}")
_HIGHLIGHT = re.compile(r"^([a-zA-Z0-9.+#_-]+)((\s+\w+(=(\w+|\"[^\"]*\"))?)*)$")
_PAGE_SUFFIXES = {".md", ".markdown", ".mkd", ".mkdn", ".html", ".htm", ".textile"}
MAX_INCLUDE_BYTES = 1024 * 1024
_LITERALS: dict[str, object] = {"true": True, "false": False, "nil": None, "null": None}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _expression(stream: TokenStream) -> tuple[Token, str]:
    token = stream.current
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return token, stream.current.value.strip()
    return token, ""


class _MarkupNode(Node):
    """A tag kept with its markup text (what follows its name), shown as written by ``str()``."""

    __slots__ = ("markup",)

    def __init__(self, token: Token, markup: str) -> None:
        super().__init__(token)
        self.markup = markup
        self.blank = False  # type: ignore[misc]  # python-liquid reads it; its Node declares no slot

    def __str__(self) -> str:
        return f"{{% {self.token.value} {self.markup} %}}"


class _TextNode(_MarkupNode):
    """A tag that renders from its markup text alone."""

    __slots__ = ("render_text",)

    def __init__(self, token: Token, markup: str, render_text: Any) -> None:
        super().__init__(token, markup)
        self.render_text = render_text

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(self.render_text(context, self.markup, self.token))


# --- post_url and link --------------------------------------------------------------------------------------


def _post_url(context: RenderContext, markup: str, token: Token) -> str:
    name = markup.strip().removeprefix("/")
    m = _POST_NAME.match(name)
    if not m:
        raise LiquidError(f"post_url: {markup!r} does not contain a valid date and title", token=token)
    folder, date, slug = m.group(1) or "", m.group(2), m.group(3)
    basename = rf"{re.escape(date)}-{re.escape(slug)}\.[^.]+"
    folder = re.escape(folder)
    pattern = re.compile(rf"^_posts/{folder}{basename}|^{folder}_posts/?{basename}")
    # A feedwright content folder need not have _posts/: then the name is matched at the end of the path.
    loose = re.compile(rf"(^|/){folder}{basename}$")
    candidates = state().links.by_stem.get(f"{date}-{slug}", ())
    found = [r for r in candidates if pattern.match(r.source)] or [r for r in candidates if loose.search(r.source)]
    if found:
        return relative(_env(context).site, found[0].url)
    raise LiquidError(f"post_url: no post {markup.strip()!r}", token=token)


def _env(context: RenderContext) -> JekyllEnvironment:
    return context.env  # type: ignore[return-value]


def _render_markup(context: RenderContext, markup: str) -> str:
    if "{{" not in markup and "{%" not in markup:
        return markup
    from io import StringIO

    buf = StringIO()
    context.env.from_string(markup).render_with_context(context, buf, partial=True)
    return buf.getvalue()


def _link(context: RenderContext, markup: str, token: Token) -> str:
    env = _env(context)
    path = _render_markup(context, markup).strip().lstrip("/")
    ref = state().links.by_source.get(path)
    if ref is not None:
        return relative(env.site, ref.url)
    from .filters import relative_url

    target = _site_path(env.root, path)
    if target is None or not target.is_file():
        raise LiquidError(f"link: no document {path!r}", token=token)
    permalink = _front_matter_permalink(target)
    if permalink:
        return relative_url(permalink, context=context)
    rel = PurePosixPath(path)
    if rel.suffix.lower() in _PAGE_SUFFIXES and _front_matter_permalink(target, probe=True) is not None:
        rel = rel.with_suffix(".html")
    return relative_url("/" + str(rel), context=context)


def _front_matter_permalink(path: Path, probe: bool = False) -> str | None:
    """The ``permalink:`` of a page (with probe: "" for a page without one, None for a file without front
    matter)."""
    from ..frontmatter import split

    try:
        with path.open("rb") as fh:
            head = fh.read(MAX_INCLUDE_BYTES)
        parts = split(head.decode("utf-8"))
    except Exception:  # noqa: BLE001 - not a readable page: a static file, linked as it is
        return None
    if parts is None:
        return None
    value = parts[0].get("permalink")
    return value if isinstance(value, str) and value else ("" if probe else None)


def _site_path(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it stays inside the site (no ``..``, no absolute path, no symlink out), else None."""
    parts = PurePosixPath(rel).parts
    if not rel or "\0" in rel or PurePosixPath(rel).is_absolute() or any(p.startswith(".") for p in parts):
        return None  # no "..", and no dot-files (.feedwright/, .git/): a template sees only the site
    base = root.resolve()
    try:
        target = (base / rel).resolve()
    except (OSError, RuntimeError):
        return None
    return target if base in target.parents else None


# --- include and include_relative ---------------------------------------------------------------------------


def _split_include(markup: str) -> tuple[str, str]:
    m = _VARIABLE_FILE.match(markup.strip())
    if m:
        return m.group("variable").strip(), m.group("params").strip()
    file, _, params = markup.strip().partition(" ")
    return file, params.strip()


def _param_value(context: RenderContext, d_quoted: str, s_quoted: str, variable: str, token: Token) -> object:
    if d_quoted:
        return d_quoted.replace('\\"', '"')
    if s_quoted:
        return s_quoted.replace("\\'", "'")
    if not variable:
        return ""
    # Ruby's context[variable] reads a literal as its value ("19000" is a number, not a variable's name).
    literal = _LITERALS.get(variable)
    if literal is not None or variable in _LITERALS:
        return literal
    if _NUMBER.match(variable):
        return float(variable) if "." in variable else int(variable)
    path: list[object] = [int(p) if p.isdigit() else p for p in variable.split(".")]
    return context.get(path, token=token, default=None)


def _load_partial(env: JekyllEnvironment, path: Path, name: str, token: Token) -> Any:
    try:
        st = path.stat()
        if st.st_size > MAX_INCLUDE_BYTES:
            raise LiquidError(f"include {name!r} is larger than {MAX_INCLUDE_BYTES:,} bytes", token=token)
        key = (str(path), st.st_mtime_ns, st.st_size)
        found = env.partials.get(key)
        if found is None:
            source = path.read_text(encoding="utf-8")
            found = env.partials[key] = env.from_string(source, name=name, path=name)
        return found
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateNotFoundError(f"cannot read include {name!r}: {exc}", token=token) from None


class IncludeNode(_MarkupNode):
    """``{% include file.html key="value" key2=variable %}``: the file rendered with ``include.key`` set."""

    __slots__ = ("relative_to_post",)

    def __init__(self, token: Token, markup: str, relative_to_post: bool) -> None:
        super().__init__(token, markup)
        self.relative_to_post = relative_to_post

    def _locate(self, env: JekyllEnvironment, name: str) -> Path:
        if _INVALID_SEQUENCE.search(name) or not _VALID_FILENAME.match(name):
            raise LiquidError(f"invalid include file name {name!r}", token=self.token)
        folder = state().post_dir if self.relative_to_post else INCLUDES_DIR
        rel = f"{folder}/{name}" if folder else name
        path = _site_path(env.root, rel)
        if path is None or not path.is_file():
            raise TemplateNotFoundError(f"include {name!r} not found in {folder or 'the site'}", token=self.token)
        return path

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = _env(context)
        file, params = _split_include(self.markup)
        name = _render_markup(context, file).strip()
        if params and not _FULL_PARAMS.match(params):
            raise LiquidSyntaxError(f"invalid include parameters {params!r}", token=self.token)
        template = _load_partial(env, self._locate(env, name), name, self.token)
        namespace: dict[str, object] = {}
        if params:
            namespace["include"] = {
                key: _param_value(context, d, s, v, self.token) for key, d, s, v in _PARAM.findall(params)
            }
        render = state()
        render.includes.append((name, self.token))
        try:
            with context.extend(namespace, template=template):
                template.render_with_context(context, buffer, partial=True)
        finally:
            render.includes.pop()
        return True


class _Include(Tag):
    name = sys.intern("include")
    block = False
    relative_to_post = False

    def parse(self, stream: TokenStream) -> Node:
        token, markup = _expression(stream)
        if not markup:
            raise LiquidSyntaxError(f"{self.name}: missing file name", token=token)
        return IncludeNode(token, markup, self.relative_to_post)


class _IncludeCached(_Include):
    """jekyll-include-cache's tag (Minimal Mistakes and other themes use it): the same as ``include`` here."""

    name = sys.intern("include_cached")


class _IncludeRelative(_Include):
    name = sys.intern("include_relative")
    relative_to_post = True


# --- highlight ----------------------------------------------------------------------------------------------


class HighlightNode(Node):
    """``{% highlight lang [linenos] %}``: the code, escaped, as ``<pre><code class="language-lang">``.

    Feed readers get no colours (no stylesheet) and no line-number table: the code itself is what matters. The
    line breaks are written as ``&#10;`` so that the block stays one line, and Markdown can neither split it at
    a blank line nor read anything inside it as Markdown.
    """

    __slots__ = ("lang", "body")

    def __init__(self, token: Token, lang: str, body: BlockNode) -> None:
        super().__init__(token)
        self.lang = lang
        self.body = body
        self.blank = False  # type: ignore[misc]  # python-liquid reads it; its Node declares no slot

    def __str__(self) -> str:
        return f"{{% highlight {self.lang} %}}{self.body}{{% endhighlight %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        from io import StringIO

        inner = StringIO()
        self.body.render(context, inner)
        code = escape(inner.getvalue().strip("\n").rstrip(), quote=False).replace("\n", "&#10;")
        lang = escape(self.lang.lower())
        return buffer.write(f'<pre><code class="language-{lang}" data-lang="{lang}">{code}</code></pre>')

    def children(self, static_context: RenderContext, *, include_partials: bool = True) -> list[Node]:
        del static_context, include_partials  # python-liquid's signature; this tag has one child whatever they are
        return [self.body]


class _Highlight(Tag):
    name = sys.intern("highlight")
    end = sys.intern("endhighlight")
    block = True

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        markup = ""
        if stream.current.kind == TOKEN_EXPRESSION:
            markup = stream.current.value.strip()
            next(stream)
        m = _HIGHLIGHT.match(markup)
        if not m:
            raise LiquidSyntaxError(f"highlight: a language name is needed, got {markup!r}", token=token)
        body = get_parser(self.env).parse_block(stream, (self.end,))
        stream.expect(TOKEN_TAG, value=self.end)
        return HighlightNode(token, m.group(1), body)


def _text_tag(tag_name: str, func: Any) -> type[Tag]:
    class _Tag(Tag):
        name = sys.intern(tag_name)
        block = False

        def parse(self, stream: TokenStream) -> Node:
            token, markup = _expression(stream)
            if not markup:
                raise LiquidSyntaxError(f"{tag_name}: missing argument", token=token)
            return _TextNode(token, markup, func)

    _Tag.__name__ = f"_{tag_name.title()}Tag"
    return _Tag


def register(env: JekyllEnvironment) -> None:
    """Add Jekyll's tags; Shopify's ``render`` goes (Jekyll has none) and ``include`` becomes Jekyll's."""
    env.tags.pop("render", None)
    tags = (_Include, _IncludeCached, _IncludeRelative, _Highlight)
    for tag in (*tags, _text_tag("post_url", _post_url), _text_tag("link", _link)):
        env.add_tag(tag)
