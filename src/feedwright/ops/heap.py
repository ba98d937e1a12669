"""Garbage-collector tuning for the feedwright process itself (the CLI and the daemon's loop), never the library's.

A build makes hundreds of thousands of objects and almost no cycles: the cyclic collector would rescan the
growing heap again and again. Figures in ``benchmarks/README.md``.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(collect: bool = True) -> Iterator[None]:
    """No cyclic collection during the block; afterwards the survivors are frozen rather than scanned.

    Freezing spares a one-shot command the full collection at exit (0.3 s for 100,000 posts); a long-running
    process (the daemon) unfreezes them at its next build and collects whatever cycles they left, unless
    ``collect`` is false (``daemon --watch`` republishing a saved post: that collection would be most of its
    latency; the next scheduled build does it).
    """
    if collect and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
