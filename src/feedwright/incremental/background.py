"""Work of the build's own process done in a thread while it waits for its worker processes.

During a render fan-out the parent mostly waits on its workers' pipes (the GIL is free): what it must make anyway
and the workers do not need (the digest of the build's Links, for the cache keys of posts with Liquid; the state's
bytes) is made then, not before or after. A :class:`Background` begins at once; its result is asked for where it
is needed, and the thread's exception, if any, is raised there, in the caller's thread. Nothing process-wide is
touched: the thread ends with its work. (Not during a fan-out whose workers want an answer every few
milliseconds, as when serialising feeds: the loop handing them work would wait for the interpreter lock each time.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``make(*args)`` run in a thread of this process, begun at once."""

    def __init__(self, make: Callable[..., T], *args: Any) -> None:
        self._made: list[T] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(make, args), name="feedwright-background",
                                        daemon=True)
        self._thread.start()

    def _run(self, make: Callable[..., T], args: tuple[Any, ...]) -> None:
        try:
            self._made.append(make(*args))
        except BaseException as exc:  # raised in the thread that asks for the result
            self._error = exc

    def result(self) -> T:
        """What ``make`` returned, once it has; raises what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._made[0]


class Once(Generic[T]):
    """``make()``, made by whichever thread asks first (:meth:`get`); one asking meanwhile waits for it. If it
    raises, the next to ask makes it again (and meets the error in its own thread)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if not self._made:
                self._made.append(self._make())
            return self._made[0]
