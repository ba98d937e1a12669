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


def _filling(name: str) -> Callable[..., object]:
    method = getattr(list, name)

    def call(self: Deferred, *args: object, **kwargs: object) -> object:
        self.fill()
        return method(self, *args, **kwargs)

    call.__name__ = name
    return call


for _name in ("__iter__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__", "__lt__", "__le__",
              "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "__iadd__", "__imul__", "__setitem__",
              "__delitem__", "__repr__", "__sizeof__", "append", "extend", "insert", "remove", "pop", "clear", "index",
              "count", "copy", "sort", "reverse"):
    setattr(Deferred, _name, _filling(_name))


def loaded(posts: list[Any]) -> bool:
    """Whether ``posts`` is in memory (not a :class:`Deferred` list that nothing has needed yet)."""
    return not isinstance(posts, Deferred) or posts._load is None
