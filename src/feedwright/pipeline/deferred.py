"""A list whose items are loaded on first use: a collection's posts on a warm build (incremental/warm.py).

A warm build of a large site that reuses the last plan needs the posts of its feeds only; loading the records of
100,000 others would be most of its time. The list knows its length without loading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Deferred(list):  # type: ignore[type-arg]
    """A list (of posts) loaded on first use (anything but its length loads it): a warm build of a large site that
    reuses the last plan needs the posts of its feeds only, and loading 100,000 others would be most of its time.
    ``load`` gives ``count`` posts (what it gives is the list, should a file have changed in between)."""

    def __init__(self, count: int, load: Callable[[], list[Any]]) -> None:
        super().__init__()
        self._count = count
        self._load: Callable[[], list[Any]] | None = load

    def fill(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            list.extend(self, load())

    def __len__(self) -> int:
        return self._count if self._load is not None else list.__len__(self)

    def __reduce__(self) -> tuple[type, tuple[list[Any]]]:
        self.fill()
        return list, (list(self),)


def filling(cls: type, base: type, names: tuple[str, ...]) -> None:
    """Make each of ``names`` (methods of ``base``) on ``cls`` call ``self.fill()`` first: a container (a list, a
    dict) whose contents are made on first use. (:class:`Deferred`; Liquid's ``site``, ``liquid.context.SiteDrop``.)"""
    for name in names:
        setattr(cls, name, _filling(getattr(base, name), name))


def _filling(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.fill()
        return method(self, *args, **kwargs)

    call.__name__ = name
    return call


filling(Deferred, list, ("__iter__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__", "__lt__",
                         "__le__", "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "__iadd__", "__imul__",
                         "__setitem__", "__delitem__", "__repr__", "__sizeof__", "append", "extend", "insert", "remove",
                         "pop", "clear", "index", "count", "copy", "sort", "reverse"))


def loaded(posts: list[Any]) -> bool:
    """Whether ``posts`` is in memory (not a :class:`Deferred` list that nothing has needed yet)."""
    return not isinstance(posts, Deferred) or posts._load is None
