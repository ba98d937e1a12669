"""Work of the build's own process done in a thread while it waits for its worker processes.

During a render fan-out the parent mostly waits on its workers' pipes (the GIL is free): what it must make anyway
and the workers do not need (the digest of the build's Links, for the cache keys of posts with Liquid; the state's
bytes) is made then, not before or after. :func:`begin` starts it at once; its result is asked for where it is
needed, and the thread's exception, if any, is raised there, in the caller's thread. Nothing process-wide is
touched: the thread ends with its work. (Not during a fan-out whose workers want an answer every few
milliseconds, as when serialising feeds: the loop handing them work would wait for the interpreter lock each time.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
THREAD_NAME = "feedwright-background"


def begin(make: Callable[..., T], *args: Any) -> Future[T]:
    """``make(*args)`` begun at once in a thread of this process; ``result()`` waits for it and raises what it
    raised (a standard :class:`~concurrent.futures.Future`). The thread ends with the work."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
    try:
        return executor.submit(make, *args)
    finally:
        executor.shutdown(wait=False)
