"""Work for the fan-out's workers in ``test_parallel.py``: a module they can import quickly (no test imports)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator


def square_or_misbehave(common: int, items: list[int]) -> Iterator[tuple[int, int]]:
    for item in items:
        if item == -1:  # over any budget
            ends = time.monotonic() + 60
            while time.monotonic() < ends:
                pass
        if item == -2:
            os._exit(3)  # a worker that dies (out of memory, killed)
        yield os.getpid(), item * item + common


def descriptors(common: None, items: list[int]) -> Iterator[dict[int, str]]:
    for _ in items:
        fds = {}
        for name in os.listdir("/proc/self/fd"):
            try:
                fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
            except OSError:  # the listing's own descriptor, closed already
                continue
        yield fds


def set_up_then_square(common: float, items: list[int]) -> Iterator[tuple[int, int]]:
    """Spins ``common`` seconds of CPU in untimed set-up before its first item (a stand-in for imports and for
    unpickling a large site's Links), then squares."""
    from feedwright.incremental.parallel import untimed

    with untimed():
        ends = time.process_time() + common
        while time.process_time() < ends:
            pass
    for item in items:
        yield os.getpid(), item * item


def requested_plus(common: int, items: list[int]) -> Iterator[tuple[int, int]]:
    """Asks the parent for the fan-out's requested value once (as a render worker asks for the posts)."""
    from feedwright.incremental.parallel import request

    extra = request("extra") if items else 0
    for item in items:
        yield os.getpid(), item + common + extra


PREPARED: list[str] = []  # in a worker: what Workers.prepare ran there


def prepare(what: str) -> None:
    if what == "fail":
        raise RuntimeError("a preparation that fails")
    PREPARED.append(what)


def prepared(common: None, items: list[int]) -> Iterator[tuple[int, list[str]]]:
    for _ in items:
        yield os.getpid(), list(PREPARED)
