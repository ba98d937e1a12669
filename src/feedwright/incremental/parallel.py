"""One fan-out: a run of work spread over worker processes that this process can stop, or done here.

:func:`fan_out` applies ``fn(common, items)`` (a generator yielding one result per item, in order) to chunks of
``items`` and returns the results in the order of ``items``. Below ``min_items``, or when no worker process can
be started (a sandbox, no ``sys.executable``), it runs in this process instead: the result is the same.

Workers are fresh interpreters (``python -c``, started by :mod:`subprocess`), never forks of the caller:

- forking a process that has threads (the daemon builds in a scheduler thread) can copy a lock some other thread
  held, and the child then deadlocks on it; ``fork_exec`` runs no Python code between fork and exec;
- a worker holds nothing of the caller's: not its stdout/stderr (cron's mail pipe, ``capture_output``), not the
  site lock, only the two pipes to its parent;
- it dies with its parent: the parent-death signal is set first thing, then the parent is checked again (it may
  have died while the worker started); an idle worker also exits when its pipe from the parent closes.

With a ``budget``, an item whose work takes more than that many seconds of CPU time (or ten times that of
wall-clock time) is stopped (its worker is killed and
replaced; the rest of its chunk goes on elsewhere) and its result is a :class:`Stopped`. Budgets are kept only in
workers: this process cannot stop its own code.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

# subprocess and multiprocessing.connection (~15 ms of imports) are imported only by a build that starts workers.

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_WORKER = "import sys; sys.path.insert(0, sys.argv[1]); from feedwright.incremental.parallel import serve; serve()"
_READY = "ready"
_PR_SET_PDEATHSIG = 1
_WALL_FACTOR = 10  # an item is also stopped after this many budgets of wall-clock time, used or not
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Stopped:
    """The result of an item whose work was stopped: it overran the budget, or its worker process died."""

    reason: str
    overran: bool = False  # over the budget, rather than lost with its worker


# In a worker process: its pipe to the parent while it works on a timed (streamed) task, else None.
_timed_outbox: Any = None
# In a worker process: its two pipes (from the parent, to the parent), for request().
_pipes: Any = None
_REQUEST = "request"


def request(question: Any = None) -> Any:
    """In a worker, during a fan-out: what the parent's ``on_request(question)`` returns (see :func:`fan_out`);
    each call asks the parent again, so keep the answer. Raises WorkersUnavailable outside a worker."""
    if _pipes is None:
        raise WorkersUnavailable("request() is for a fan-out's worker process")
    import pickle

    inbox, outbox = _pipes
    outbox.send((_REQUEST, question))
    return pickle.loads(inbox.recv_bytes())


@contextlib.contextmanager
def untimed() -> Iterator[None]:
    """For ``fn``'s one-off set-up in a worker (imports, unpickling what every item shares): not charged to the
    item it happens in, whose budget starts again afterwards. A no-op elsewhere."""
    outbox = _timed_outbox
    if outbox is None:
        yield
        return
    outbox.send(("pause", None))
    try:
        yield
    finally:
        outbox.send(("begin", None))


class WorkersUnavailable(RuntimeError):
    """No worker process could be started; the caller does the work itself."""


def workers() -> int:
    """How many processes work in parallel: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fan_out(
    fn: Callable[[C, list[T]], Iterable[R]],
    common: C,
    items: Sequence[T],
    *,
    min_items: int,
    chunk: int,
    budget: float | None = None,
    processes: int | None = None,
    while_waiting: Callable[[], object] | None = None,
    pool: Workers | None = None,
    on_request: Callable[[Any], object] | None = None,
    on_result: Callable[[int, R | Stopped], object] | None = None,
) -> list[R | Stopped]:
    """``fn(common, chunk)`` over ``items`` in chunks, on ``processes`` workers (default: every CPU) when there are
    at least ``min_items``; one result per item, in order. ``while_waiting`` is called once the workers are
    started (this process would only wait). ``fn`` must be a module-level function; ``common`` and the items must
    pickle. Workers come from ``pool`` (kept for the next fan-out) or are started for this one. A worker's ``fn``
    may call :func:`request` with a question (hashable, picklable) for what ``on_request(question)`` returns:
    answered here, each question once (its answer pickled once), sent only to the workers that ask: for what is
    large and most runs never need. With ``on_result``, each result is passed to ``on_result(index, result)`` as it
    arrives (in any order; a worker is handed its next chunk first) instead of being kept: the list returned is then
    empty."""
    count = workers() if processes is None else processes
    if len(items) >= max(min_items, 1) and count >= 1 and (processes is not None or count > 1):
        size = min(count, -(-len(items) // chunk))
        try:
            if pool is not None:
                return pool.run(size, fn, common, list(items), chunk, budget, while_waiting, on_request, on_result)
            with Workers() as own:
                return own.run(size, fn, common, list(items), chunk, budget, while_waiting, on_request, on_result)
        except WorkersUnavailable:
            pass
    if on_result is None:
        return list(fn(common, list(items)))
    for i, result in enumerate(fn(common, list(items))):
        on_result(i, result)
    return []


@dataclass
class _Task(Generic[T]):
    start: int  # index of its first item in the whole run
    items: list[T]
    stream: bool  # results sent one by one (timed against the budget), not all at the end


class _Worker:
    """One worker process and its two pipes; ``task`` and ``done`` say what it is busy with."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        import subprocess
        from multiprocessing.connection import Connection

        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER, _PACKAGE_PARENT, str(os.getpid()), str(child_reads), str(child_writes),
                 ",".join(preload)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(child_reads, child_writes), close_fds=True,
            )
        except (OSError, ValueError) as exc:
            for fd in (child_reads, parent_writes, parent_reads, child_writes):
                os.close(fd)
            raise WorkersUnavailable(str(exc)) from None
        os.close(child_reads)
        os.close(child_writes)
        self.send_end = Connection(parent_writes, readable=False)
        self.recv_end = Connection(parent_reads, writable=False)
        self.ready = False
        self.common: Any = None  # the ``common`` it holds (sent once per fan-out, not with every chunk)
        self.task: _Task[Any] | None = None
        self.done = 0  # items of ``task`` answered so far
        self.timed = False  # working on its task (which is then timed), not still unpickling it
        self.since = 0.0  # when it began its task, or last answered (wall clock)
        self.cpu_since = 0.0  # its CPU time then
        self.check_at = 0.0  # when to look at its CPU time next

    def started_item(self, budget: float | None) -> None:
        self.since = time.monotonic()
        self.cpu_since = _cpu_seconds(self.proc.pid) or 0.0
        self.check_at = self.since + (budget or 0.0)

    def used(self, now: float) -> float:
        """Seconds its current item has taken: CPU time where the system tells it, else wall-clock time."""
        cpu = _cpu_seconds(self.proc.pid)
        return now - self.since if cpu is None else cpu - self.cpu_since

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        self.send_end.close()
        self.recv_end.close()


class Workers:
    """Worker processes for the fan-outs of one build (parsing, then rendering): started when first needed, kept
    between fan-outs, every one killed when the ``with`` block ends, however it ends."""

    def __init__(self) -> None:
        self.live: list[_Worker] = []
        self._packed: tuple[Any, bytes] | None = None  # (common, its pickle): pickled once per fan-out
        self._on_request: Callable[[Any], object] | None = None  # this fan-out's (see fan_out)
        self._answers: dict[Any, bytes] = {}  # question -> its answer, pickled
        self._on_result: Callable[[int, Any], object] | None = None  # this fan-out's (see fan_out)
        self._fresh: deque[tuple[int, Any]] = deque()  # results not yet passed to it

    def __enter__(self) -> Workers:
        return self

    def start(self, preload: tuple[str, ...] = ()) -> None:
        """Start a worker per CPU now, each importing the modules ``preload`` names while this process goes on (a
        build that knows it will read every file starts them before it lists the files: ~0.2 s of the workers'
        imports then overlap the listing). Nothing happens where no worker can be started."""
        with contextlib.suppress(WorkersUnavailable):
            while len(self.live) < workers():  # one at a time: those started before a failure are kept, and stopped
                self.live.append(_Worker(preload))

    def prepare(self, fn: Callable[[], object]) -> None:
        """Have every worker run ``fn`` (picklable, no arguments) now, while this process goes on: set-up that the
        next fan-out would otherwise begin with (imports, a Markdown instance). Nothing is answered and a failure is
        ignored (the fan-out's own work then does the set-up, as ever); its time is charged to no item."""
        for worker in self.live:
            with contextlib.suppress(OSError):  # it died: the next fan-out sees the closed pipe
                worker.send_end.send((fn, None, None, False))

    def __exit__(self, *exc: object) -> None:
        for worker in self.live:
            worker.stop()
        self.live = []

    def run(
        self,
        size: int,
        fn: Callable[[Any, list[Any]], Iterable[Any]],
        common: Any,
        items: list[Any],
        chunk: int,
        budget: float | None,
        while_waiting: Callable[[], object] | None,
        on_request: Callable[[Any], object] | None = None,
        on_result: Callable[[int, Any], object] | None = None,
    ) -> list[Any]:
        from multiprocessing.connection import wait

        self._on_request, self._answers, self._on_result = on_request, {}, on_result
        results: list[Any] = [None] * len(items)
        todo = deque(_Task(i, items[i : i + chunk], budget is not None) for i in range(0, len(items), chunk))
        if not sys.executable:
            raise WorkersUnavailable("no Python executable to start")
        while len(self.live) < size:  # one at a time: those started before a failure are kept, and stopped
            self.live.append(_Worker())
        if while_waiting is not None:  # the workers are starting up, then busy: this process would only wait
            while_waiting()
        while todo or any(w.task for w in self.live):
            for worker in self.live:
                if worker.ready and worker.task is None and todo:
                    self._give(worker, todo.popleft(), fn, common)
            self._flush()
            busy = [w for w in self.live if w.task is not None or not w.ready]
            timeout = None
            if budget is not None and any(w.timed for w in busy):
                timeout = max(0.0, min(w.check_at for w in busy if w.timed) - time.monotonic())
            for conn in wait([w.recv_end for w in busy], timeout):
                worker = next(w for w in busy if w.recv_end is conn)
                self._answer(worker, results, todo, budget)
            if budget is not None:
                self._stop_overruns(budget, results, todo)
        self._flush()
        return results if on_result is None else []

    def _put(self, results: list[Any], index: int, value: Any) -> None:
        if self._on_result is None:
            results[index] = value
        else:
            self._fresh.append((index, value))

    def _flush(self) -> None:
        """Pass the results that arrived to the fan-out's ``on_result`` (its workers have their next chunks)."""
        while self._fresh and self._on_result is not None:
            self._on_result(*self._fresh.popleft())

    def _give(self, worker: _Worker, task: _Task[Any], fn: Any, common: Any) -> None:
        worker.task, worker.done, worker.timed = task, 0, False
        # ``common`` (a render's Links: every live post) can be megabytes: pickled once, sent once per worker.
        packed = None
        if worker.common is not common:
            if self._packed is None or self._packed[0] is not common:
                import pickle

                self._packed = (common, pickle.dumps(common, pickle.HIGHEST_PROTOCOL))
            packed, worker.common = self._packed[1], common
        with contextlib.suppress(OSError):  # it died: _answer sees the closed pipe and hands the task on
            worker.send_end.send((fn, packed, task.items, task.stream))

    def _answer(self, worker: _Worker, results: list[Any], todo: deque[_Task[Any]], budget: float | None) -> None:
        try:
            kind, value = worker.recv_end.recv()
        except (EOFError, OSError):
            self._lost(worker, results, todo, f"its worker process died (exit status {worker.proc.wait()})")
            return
        task = worker.task
        if kind == _READY:
            worker.ready = True
        elif kind == "begin":
            worker.timed = True
            worker.started_item(budget)
        elif kind == "pause":  # set-up shared by its items (see untimed)
            worker.timed = False
        elif kind == "error":
            raise value
        elif kind == _REQUEST:
            self._answer_request(worker, value)
        elif task is not None and kind == "item":
            self._put(results, task.start + worker.done, value)
            worker.done += 1
            worker.started_item(budget)
        elif task is not None and kind == "items":
            for i, item in enumerate(value, task.start):
                self._put(results, i, item)
            worker.task, worker.timed = None, False
        elif kind == "done":
            worker.task, worker.timed = None, False

    def _answer_request(self, worker: _Worker, question: Any) -> None:
        packed = self._answers.get(question)
        if packed is None:
            import pickle

            answer = self._on_request(question) if self._on_request is not None else None
            packed = self._answers[question] = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        with contextlib.suppress(OSError):  # it died: _answer sees the closed pipe
            worker.send_end.send_bytes(packed)

    def _stop_overruns(self, budget: float, results: list[Any], todo: deque[_Task[Any]]) -> None:
        now = time.monotonic()
        for worker in list(self.live):
            if worker.task is None or not worker.timed or now < worker.check_at:
                continue
            used = worker.used(now)
            # CPU time, so that a busy machine does not reject a post; wall-clock time bounds a worker that waits.
            if used > budget or now - worker.since > _WALL_FACTOR * budget:
                self._lost(worker, results, todo, f"took longer than {budget:g} s", overran=True)
            else:
                worker.check_at = now + max(budget - used, 0.02)

    def _lost(
        self, worker: _Worker, results: list[Any], todo: deque[_Task[Any]], reason: str, overran: bool = False
    ) -> None:
        """Kill ``worker``; the item it was on is :class:`Stopped`, the rest of its task goes to another."""
        task, done = worker.task, worker.done
        worker.stop()
        self.live.remove(worker)
        if not worker.ready:  # never came up: no worker can be had here
            raise WorkersUnavailable(reason)
        if task is not None and not task.stream:  # which item was it? Again, one result at a time, to find out
            todo.appendleft(_Task(task.start, task.items, True))
        elif task is not None:
            self._put(results, task.start + done, Stopped(reason, overran))
            rest = task.items[done + 1 :]
            if rest:
                todo.appendleft(_Task(task.start + done + 1, rest, True))
        if todo:
            self.live.append(_Worker())


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a child process, from /proc (Linux); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


def serve() -> None:
    """The worker's main loop: ``argv`` is [package folder, parent pid, read fd, write fd, modules to preload]."""
    parent, read_fd, write_fd = (int(arg) for arg in sys.argv[2:5])
    _die_with(parent)
    import gc
    import importlib
    from multiprocessing.connection import Connection

    # A worker lives for one build and makes almost no cycles: the collector would only rescan its heap.
    gc.disable()
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    outbox.send((_READY, None))
    for name in filter(None, sys.argv[5].split(",") if len(sys.argv) > 5 else ()):
        with contextlib.suppress(Exception):  # else imported (or failing) when its work arrives, as ever
            importlib.import_module(name)
    global _timed_outbox, _pipes
    _pipes = (inbox, outbox)
    common: Any = None
    while True:
        try:
            fn, packed, items, stream = inbox.recv()
        except (EOFError, OSError):  # the parent is gone, or done with us
            os._exit(0)
        if items is None:  # Workers.prepare: nothing to answer
            with contextlib.suppress(Exception):
                fn()
            continue
        try:
            if packed is not None:  # a new fan-out's common part; the same one otherwise
                import pickle

                common = pickle.loads(packed)
            if stream:  # each result as it comes: the parent times every item against the budget
                outbox.send(("begin", None))  # from here: unpickling the task may have imported fn's modules
                _timed_outbox = outbox
                for result in fn(common, items):
                    outbox.send(("item", result))
                _timed_outbox = None
                outbox.send(("done", None))
            else:
                outbox.send(("items", list(fn(common, items))))
        except Exception as exc:  # a bug in fn: re-raised in the parent
            outbox.send(("error", exc))


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies, then check it has not died already."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # died before the signal was set: we were handed to init
        os._exit(1)
