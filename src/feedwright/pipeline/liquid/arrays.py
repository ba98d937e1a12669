"""Jekyll's array filters (``where``, ``where_exp``, ``find``, ``sort``, ``group_by``, ``push``, ...) with
Ruby's semantics: the property rules of Jekyll's ``item_property`` and ``compare_property_vs_target``."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping, Sequence
from io import StringIO
from typing import TYPE_CHECKING, Any

from liquid.exceptions import FilterError
from liquid.filter import with_context
from liquid.undefined import Undefined

if TYPE_CHECKING:
    from liquid import RenderContext

    from .environment import JekyllEnvironment

_INTEGER_LIKE = re.compile(r"\A\s*-?\d+\s*\Z")
_FLOAT_LIKE = re.compile(r"\A\s*-?(?:\d+\.?\d*|\.\d+)\s*\Z")


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


# --- arrays -------------------------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
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
    return [item for item in as_list(value) if _matches(item_property(item, prop), target)]


def find(value: Any, prop: Any = None, target: Any = None) -> Any:
    if not prop or isinstance(target, list | tuple | Mapping) or not isinstance(value, list | tuple | Mapping):
        return value
    return next((item for item in as_list(value) if _matches(item_property(item, prop), target)), None)


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
    items = as_list(value)
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
    items = as_list(value)
    return _grouped(items, [ruby_str(item_property(item, prop)) for item in items])


@with_context
def group_by_exp(value: Any, variable: Any, expression: Any, *, context: RenderContext) -> Any:
    if not isinstance(value, list | tuple | Mapping):
        return value
    items = as_list(value)
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
    items = as_list(value)
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
    rng = random.Random(repr(value))
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
