"""Jekyll's filters (``lib/jekyll/filters.rb`` and ``filters/*.rb`` in Jekyll 4.3), over python-liquid's standard
ones.

Ruby's conversions are followed where the output shows them (``true`` not ``True``, ``nil`` as nothing). A
filter that fails raises a Liquid error, so that only its output statement is dropped, with a warning.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

from liquid.exceptions import FilterError, LiquidError
from liquid.filter import with_context
from liquid.undefined import Undefined

from .arrays import (
    as_list,
    find,
    find_exp,
    group_by,
    group_by_exp,
    pop,
    push,
    ruby_str,
    sample,
    shift,
    sort,
    to_integer,
    unshift,
    where,
    where_exp,
)
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
    # relative_url already passes through nil/undefined and URLs that have a scheme: only a site path gets the origin.
    path = relative_url(value, context=context)
    if not isinstance(path, str) or urlsplit(path).scheme:
        return path
    return origin_and_baseurl(_site(context))[0] + path


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
    items = [ruby_str(v) for v in as_list(value)]
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

    return to_html(ruby_str(value), "markdown", _site(context).markdown) + "\n"


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
