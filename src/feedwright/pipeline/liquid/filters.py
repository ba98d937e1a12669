"""Jekyll's filters (``lib/jekyll/filters.rb`` and ``filters/*.rb`` in Jekyll 4.3), over python-liquid's standard
ones.

Ruby's conversions are followed where the output shows them (``true`` not ``True``, ``nil`` as nothing). A
filter that fails raises a Liquid error, so that only its output statement is dropped, with a warning.
"""

from __future__ import annotations

import functools
import json
import random
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from email.utils import format_datetime
from html import escape
from io import StringIO
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

from liquid.exceptions import FilterError, LiquidError
from liquid.filter import with_context
from liquid.undefined import Undefined

from .context import origin_and_baseurl

if TYPE_CHECKING:
    from liquid import RenderContext

    from .environment import JekyllEnvironment

_CJK = "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_NON_CJK_WORD = re.compile(rf"[^{_CJK}\s]+")
_RUBY_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_SLUG_PATTERNS = {
    "raw": re.compile(r"\s+"),
    "default": re.compile(r"[\W_]+"),  # keeps letters, marks and digits (Unicode), as Jekyll's [^\p{M}\p{L}\p{Nd}]
    "pretty": re.compile(r"[^\w._~!$&'()+,;=@]+"),
    "ascii": re.compile(r"[^A-Za-z0-9]+"),
    "latin": re.compile(r"[^A-Za-z0-9]+"),
}
_INTEGER_LIKE = re.compile(r"\A\s*-?\d+\s*\Z")
_FLOAT_LIKE = re.compile(r"\A\s*-?(?:\d+\.?\d*|\.\d+)\s*\Z")


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Any failure inside a filter is a Liquid error: the statement is dropped, the render goes on."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LiquidError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise FilterError(f"{func.__name__.strip('_')}: {exc}", token=None) from None

    return wrapper


def ruby_str(value: Any) -> str:
    """``to_s`` as Ruby's Liquid prints it."""
    if value is None or isinstance(value, Undefined):
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list | tuple):
        return "".join(ruby_str(v) for v in value)
    return str(value)


# --- URLs ---------------------------------------------------------------------------------------------------


def _site(context: RenderContext) -> Any:
    return context.env.site  # type: ignore[attr-defined]


def _leading_slash(text: str) -> str:
    return text if not text or text.startswith("/") else "/" + text


@with_context
def relative_url(value: Any, *, context: RenderContext) -> Any:
    if value is None or isinstance(value, Undefined):
        return value
    text = ruby_str(value.get("url") if isinstance(value, Mapping) else value)
    if urlsplit(text).scheme:
        return text
    baseurl = origin_and_baseurl(_site(context))[1]
    return _leading_slash(baseurl) + _leading_slash(text)


@with_context
def absolute_url(value: Any, *, context: RenderContext) -> Any:
    if value is None or isinstance(value, Undefined):
        return value
    text = ruby_str(value.get("url") if isinstance(value, Mapping) else value)
    if urlsplit(text).scheme:
        return text
    origin = origin_and_baseurl(_site(context))[0]
    return origin + relative_url(text, context=context)


def strip_index(value: Any) -> Any:
    text = ruby_str(value)
    return re.sub(r"/index\.html?$", "/", text) if text else value


# --- dates --------------------------------------------------------------------------------------------------


def _time(value: Any, context: RenderContext) -> datetime:
    tz = _site(context).timezone
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz)
    else:
        text = ruby_str(value).strip()
        if text in ("now", "today"):
            now = getattr(context.env, "now", None) or datetime.now(tz)
            return now.astimezone(tz)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            from dateutil import parser

            try:
                moment = parser.parse(text)
            except (ValueError, OverflowError):
                raise FilterError(f"invalid date {text!r}", token=None) from None
    # Jekyll shows times in the site's time zone (Time#localtime under TZ=site timezone).
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _ordinal(day: int) -> str:
    if 11 <= day <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _stringify_date(value: Any, month: str, kind: Any, style: Any, context: RenderContext) -> Any:
    if not ruby_str(value):
        return value
    moment = _time(value, context)
    if kind == "ordinal":
        day = f"{moment.day}{_ordinal(moment.day)}"
        return moment.strftime(f"{month} {day}, %Y" if style == "US" else f"{day} {month} %Y")
    return moment.strftime(f"%d {month} %Y")


@with_context
def date_to_string(value: Any, kind: Any = None, style: Any = None, *, context: RenderContext) -> Any:
    return _stringify_date(value, "%b", kind, style, context)


@with_context
def date_to_long_string(value: Any, kind: Any = None, style: Any = None, *, context: RenderContext) -> Any:
    return _stringify_date(value, "%B", kind, style, context)


@with_context
def date_to_xmlschema(value: Any, *, context: RenderContext) -> Any:
    return _time(value, context).replace(microsecond=0).isoformat() if ruby_str(value) else value


@with_context
def date_to_rfc822(value: Any, *, context: RenderContext) -> Any:
    return format_datetime(_time(value, context)) if ruby_str(value) else value


# --- text ---------------------------------------------------------------------------------------------------


def xml_escape(value: Any) -> str:
    return escape(ruby_str(value), quote=False).replace('"', "&quot;")


def cgi_escape(value: Any) -> str:
    return quote_plus(ruby_str(value))


def uri_escape(value: Any) -> str:
    return quote(ruby_str(value), safe="!#$&'()*+,/:;=?@[]~%")


def normalize_whitespace(value: Any) -> str:
    return _RUBY_SPACE.sub(" ", ruby_str(value)).strip()


def number_of_words(value: Any, mode: Any = None) -> int:
    text = ruby_str(value)
    if mode == "cjk":
        return len(_CJK_CHAR.findall(text)) + len(_NON_CJK_WORD.findall(text))
    if mode == "auto":
        cjk = len(_CJK_CHAR.findall(text))
        return len(text.split()) if not cjk else cjk + len(_NON_CJK_WORD.findall(text))
    return len(text.split())


def array_to_sentence_string(value: Any, connector: Any = "and") -> str:
    items = [ruby_str(v) for v in _list(value)]
    connector = ruby_str(connector)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {connector} {items[1]}"
    return f"{', '.join(items[:-1])}, {connector} {items[-1]}"


def slugify(value: Any, mode: Any = None) -> Any:
    if value is None or isinstance(value, Undefined):
        return None
    text, mode = ruby_str(value), ruby_str(mode) or "default"
    if mode not in _SLUG_PATTERNS:
        return text.lower()
    if mode == "latin":
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        text = text.encode("ascii", "replace").decode("ascii")
    slug = _SLUG_PATTERNS[mode].sub("-", text)
    return re.sub(r"^-|-$", "", slug).lower()


def smartify(value: Any) -> str:
    import markdown

    html = markdown.markdown(ruby_str(value), extensions=["smarty"])
    return re.sub(r"^<p>|</p>$", "", html.strip())


@with_context
def markdownify(value: Any, *, context: RenderContext) -> str:
    from ..render import to_html  # the product's own Markdown, as Jekyll uses its configured converter

    return to_html(ruby_str(value), "markdown") + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Undefined):
        return None
    if isinstance(value, Mapping):
        return {ruby_str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def jsonify(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"))


def _inspect(value: Any) -> str:
    if value is None or isinstance(value, Undefined):
        return "nil"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return ruby_str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_inspect(k)}=>{_inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inspect(v) for v in value) + "]"
    return str(value)


def inspect(value: Any) -> str:
    return xml_escape(_inspect(value))


# --- arrays -------------------------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    if value is None or isinstance(value, Undefined):
        return []
    return [value]


def _sort_key_value(value: Any) -> Any:
    text = ruby_str(value) if not isinstance(value, int | float) or isinstance(value, bool) else None
    if text is not None and _INTEGER_LIKE.match(text):
        return int(text)
    if text is not None and _FLOAT_LIKE.match(text):
        return float(text)
    return value


def item_property(item: Any, prop: Any) -> Any:
    """``item[prop]``, dotted paths followed, then int- or float-like text read as a number (Jekyll's
    ``item_property``)."""
    value = item
    for key in ruby_str(prop).split("."):
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, Sequence) and not isinstance(value, str) and key.isdigit():
            value = value[int(key)] if int(key) < len(value) else None
        else:
            return None
    return None if isinstance(value, Undefined) else _sort_key_value(value)


def _matches(prop: Any, target: Any) -> bool:
    if target is None or isinstance(target, Undefined):
        return prop is None
    target = ruby_str(target)
    if isinstance(prop, str):
        return prop == target
    return any(ruby_str(p) == target for p in (prop if isinstance(prop, list | tuple) else [prop]))


def where(value: Any, prop: Any = None, target: Any = None) -> Any:
    if not prop or isinstance(target, list | tuple | Mapping) or not isinstance(value, list | tuple | Mapping):
        return value
    return [item for item in _list(value) if _matches(item_property(item, prop), target)]


def find(value: Any, prop: Any = None, target: Any = None) -> Any:
    if not prop or isinstance(target, list | tuple | Mapping) or not isinstance(value, list | tuple | Mapping):
        return value
    return next((item for item in _list(value) if _matches(item_property(item, prop), target)), None)


def _expression_for_each(context: RenderContext, items: list[Any], variable: str, source: str) -> list[str]:
    """Render ``source`` once per item with ``variable`` bound to it (for ``*_exp`` filters)."""
    template = _compiled(context.env, source)  # type: ignore[arg-type]
    out = []
    context.raise_for_loop_limit(len(items))
    for item in items:
        buf = StringIO()
        with context.extend({variable: item}):
            template.render_with_context(context, buf, partial=True)
        out.append(buf.getvalue())
    return out


@functools.lru_cache(maxsize=256)
def _compiled(env: JekyllEnvironment, source: str) -> Any:
    return env.from_string(source)


@with_context
def where_exp(value: Any, variable: Any, expression: Any, *, context: RenderContext) -> Any:
    if not isinstance(value, list | tuple | Mapping):
        return value
    items = _list(value)
    source = f"{{% if {ruby_str(expression)} %}}1{{% endif %}}"
    return [item for item, hit in zip(items, _expression_for_each(context, items, ruby_str(variable), source),
                                      strict=True) if hit == "1"]


@with_context
def find_exp(value: Any, variable: Any, expression: Any, *, context: RenderContext) -> Any:
    found = where_exp(value, variable, expression, context=context)
    return found[0] if isinstance(found, list) and found else (None if isinstance(found, list) else found)


def _grouped(items: list[Any], keys: list[str]) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for item, key in zip(items, keys, strict=True):
        groups.setdefault(key, []).append(item)
    return [{"name": name, "items": members, "size": len(members)} for name, members in groups.items()]


def group_by(value: Any, prop: Any) -> Any:
    if not isinstance(value, list | tuple | Mapping):
        return value
    items = _list(value)
    return _grouped(items, [ruby_str(item_property(item, prop)) for item in items])


@with_context
def group_by_exp(value: Any, variable: Any, expression: Any, *, context: RenderContext) -> Any:
    if not isinstance(value, list | tuple | Mapping):
        return value
    items = _list(value)
    keys = _expression_for_each(context, items, ruby_str(variable), f"{{{{ {ruby_str(expression)} }}}}")
    return _grouped(items, keys)


def _compare(a: Any, b: Any) -> int:
    try:
        return (a > b) - (a < b)
    except TypeError:
        sa, sb = ruby_str(a), ruby_str(b)
        return (sa > sb) - (sa < sb)


def sort(value: Any, prop: Any = None, nils: Any = "first") -> Any:
    if value is None or isinstance(value, Undefined):
        raise FilterError("sort: cannot sort a null object", token=None)
    items = _list(value)
    if prop is None or isinstance(prop, Undefined):
        return sorted(items, key=functools.cmp_to_key(_compare))
    if nils not in ("first", "last"):
        raise FilterError(f"sort: invalid nils order {nils!r}: it must be 'first' or 'last'", token=None)
    order = -1 if nils == "first" else 1
    keyed = [(item_property(item, prop), item) for item in items]

    def cmp(x: tuple[Any, Any], y: tuple[Any, Any]) -> int:
        a, b = x[0], y[0]
        if a is not None and b is None:
            return -order
        if a is None and b is not None:
            return order
        return _compare(a, b)

    return [item for _, item in sorted(keyed, key=functools.cmp_to_key(cmp))]


def push(value: Any, item: Any) -> Any:
    return [*value, item] if isinstance(value, list) else value


def unshift(value: Any, item: Any) -> Any:
    return [item, *value] if isinstance(value, list) else value


def pop(value: Any, count: Any = 1) -> Any:
    n = int(count)
    return (value[:-n] if n > 0 else list(value)) if isinstance(value, list) else value


def shift(value: Any, count: Any = 1) -> Any:
    return value[max(int(count), 0) :] if isinstance(value, list) else value


def sample(value: Any, count: Any = 1) -> Any:
    # Jekyll picks at random; a feed must not change between builds of the same posts, so the pick is seeded.
    if not isinstance(value, list | tuple):
        return value
    rng = random.Random(jsonify(value))
    n = int(count) if ruby_str(count).strip().lstrip("-").isdigit() else 1
    if n == 1:
        return rng.choice(value) if value else None
    return rng.sample(list(value), min(max(n, 0), len(value)))


def to_integer(value: Any) -> int:
    if value is True:
        return 1
    if value is False:
        return 0
    m = re.match(r"\s*[-+]?\d+", ruby_str(value))
    return int(m.group(0)) if m else 0


FILTERS: dict[str, Callable[..., Any]] = {
    "relative_url": relative_url, "absolute_url": absolute_url, "strip_index": strip_index,
    "date_to_string": date_to_string, "date_to_long_string": date_to_long_string,
    "date_to_xmlschema": date_to_xmlschema, "date_to_rfc822": date_to_rfc822,
    "xml_escape": xml_escape, "cgi_escape": cgi_escape, "uri_escape": uri_escape,
    "normalize_whitespace": normalize_whitespace, "number_of_words": number_of_words,
    "array_to_sentence_string": array_to_sentence_string, "slugify": slugify, "smartify": smartify,
    "markdownify": markdownify, "jsonify": jsonify, "inspect": inspect,
    "where": where, "where_exp": where_exp, "find": find, "find_exp": find_exp,
    "group_by": group_by, "group_by_exp": group_by_exp, "sort": sort,
    "push": push, "pop": pop, "shift": shift, "unshift": unshift, "sample": sample, "to_integer": to_integer,
}  # fmt: skip


def register(env: JekyllEnvironment) -> None:
    """Add Jekyll's filters, replacing Shopify's ``where`` and ``sort`` with Jekyll's."""
    for name, func in FILTERS.items():
        guarded = _guard(func)
        if getattr(func, "with_context", False):
            guarded.with_context = True  # type: ignore[attr-defined]
        env.add_filter(name, guarded)
