"""Work of the build's own process done in a thread while it waits for its worker processes.

During a render fan-out the parent only waits on its workers' pipes (the GIL is free): what it must make anyway and
the workers do not need at once (the build's Links, their digest) is made then, not before the workers start.
A :class:`Background` begins at once; its result is asked for where it is needed, and the thread's exception, if
any, is raised there, in the caller's thread. Nothing process-wide is touched: the thread ends with its work.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``make()`` run in a thread of this process, begun at once, then ``then(result)`` in the same thread: work
    wanted later (a digest that ``make``'s result computes on first use, a :class:`Once`), asked for again where it
    is needed; an error of ``then``'s is not kept: asked for again, the work raises it there."""

    def __init__(self, make: Callable[[], T], then: Callable[[T], object] | None = None) -> None:
        self._made: list[T] = []
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make, then), name="feedwright-background", daemon=True)
        self._thread.start()

    def _run(self, make: Callable[[], T], then: Callable[[T], object] | None) -> None:
        try:
            self._made.append(make())
        except BaseException as exc:  # raised in the thread that asks for the result
            self._error = exc
        finally:
            self._ready.set()
        if then is not None and self._made:
            with contextlib.suppress(Exception):
                then(self._made[0])

    def result(self) -> T:
        """What ``make()`` returned, once it has (``then`` may still run); raises what it raised."""
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._made[0]

    def join(self) -> T:
        """:meth:`result`, once ``then`` has run too."""
        self._thread.join()
        return self.result()


class Once(Generic[T]):
    """``make()``, made by whichever thread asks first (:meth:`get`); one asking meanwhile waits for it. If it
    raises, the next to ask makes it again."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if not self._made:
                self._made.append(self._make())
            return self._made[0]
