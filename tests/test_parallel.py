"""The one fan-out (``incremental/parallel.py``): order kept, a budget per item, workers that hold nothing of the
caller's and die with it, and the same result in this process when no worker can be had."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import make_site, write_post
from feedwright.incremental import parallel
from feedwright.incremental.parallel import Stopped, fan_out
from test_crash import live_members
from work_items import descriptors, prepare, prepared, requested_plus, set_up_then_square, square_or_misbehave

TESTS = str(Path(__file__).resolve().parent)


@pytest.fixture
def importable_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers import ``work_items`` by name: put tests/ on their path."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")])))


def test_results_keep_their_order_and_match_this_process(importable_here: None) -> None:
    items = list(range(100))
    here = fan_out(square_or_misbehave, 1, items, min_items=1000, chunk=7)
    there = fan_out(square_or_misbehave, 1, items, min_items=1, chunk=7, processes=2)
    assert [r[1] for r in there] == [r[1] for r in here] == [i * i + 1 for i in items]  # type: ignore[index]
    assert {r[0] for r in here} == {os.getpid()}  # type: ignore[index]
    assert os.getpid() not in {r[0] for r in there}  # type: ignore[index]  # (one worker may do it all)


def test_an_item_over_budget_is_stopped_and_the_rest_go_on(importable_here: None) -> None:
    started = time.monotonic()
    results = fan_out(square_or_misbehave, 0, [1, 2, -1, 3, 4], min_items=1, chunk=5, budget=0.5, processes=1)
    assert time.monotonic() - started < 10
    assert results[2] == Stopped("took longer than 0.5 s", overran=True)
    assert [r[1] for i, r in enumerate(results) if i != 2] == [1, 4, 9, 16]  # type: ignore[index]


def test_set_up_is_not_charged_to_the_first_item(importable_here: None) -> None:
    # 1.5 s of CPU in set-up, a budget of 0.5 s: only the items themselves are timed.
    results = fan_out(set_up_then_square, 1.5, [1, 2, 3], min_items=1, chunk=3, budget=0.5, processes=1)
    assert [r[1] for r in results] == [1, 4, 9]  # type: ignore[index]


def test_a_worker_that_dies_costs_only_its_item(importable_here: None) -> None:
    results = fan_out(square_or_misbehave, 0, [1, -2, 3], min_items=1, chunk=3, processes=1)
    assert isinstance(results[1], Stopped) and not results[1].overran
    assert "exit status 3" in results[1].reason
    assert [results[0][1], results[2][1]] == [1, 9]  # type: ignore[index]


@pytest.mark.parametrize("processes", [None, 2], ids=["here", "workers"])
def test_results_passed_on_as_they_arrive_are_those_returned_otherwise(
    importable_here: None, processes: int | None
) -> None:
    items = [1, 2, -2, 4, 5, 6, 7] if processes else [1, 2, 3, 4, 5, 6, 7]  # -2: its worker dies
    got: dict[int, object] = {}

    def on_result(i: int, result: object) -> None:
        assert i not in got, f"item {i} passed on twice"
        got[i] = result

    kept = fan_out(square_or_misbehave, 0, items, min_items=1 if processes else 100, chunk=2, processes=processes,
                   on_result=on_result)
    assert kept == [] and sorted(got) == list(range(len(items)))
    squares = [r if isinstance(r, Stopped) else r[1] for _, r in sorted(got.items())]  # type: ignore[index]
    if processes:
        assert isinstance(squares[2], Stopped) and squares[:2] + squares[3:] == [1, 4, 16, 25, 36, 49]
    else:
        assert squares == [1, 4, 9, 16, 25, 36, 49]


def test_workers_started_ahead_preload_and_then_do_the_work(importable_here: None) -> None:
    with parallel.Workers() as pool:
        pool.start(("work_items", "no.such.module"))  # a module that fails to import is left to the work itself
        started = {worker.proc.pid for worker in pool.live}
        assert len(started) == parallel.workers()
        results = fan_out(square_or_misbehave, 1, list(range(40)), min_items=1, chunk=5, pool=pool)
        assert [r[1] for r in results] == [i * i + 1 for i in range(40)]  # type: ignore[index]
        assert {r[0] for r in results} <= started and {w.proc.pid for w in pool.live} == started  # type: ignore[index]


def test_workers_prepare_the_next_fan_out_while_this_process_goes_on(importable_here: None) -> None:
    from functools import partial

    with parallel.Workers() as pool:
        pool.start(("work_items",))
        pool.prepare(partial(prepare, "fail"))  # ignored: the work then does its own set-up, as ever
        pool.prepare(partial(prepare, "markdown"))
        results = fan_out(prepared, None, list(range(8)), min_items=1, chunk=1, pool=pool)
        assert {pid for pid, _ in results} <= {w.proc.pid for w in pool.live}  # the same workers, still alive
        assert all(done == ["markdown"] for _, done in results)  # done there, before the work
    assert [done for _, done in fan_out(prepared, None, [1], min_items=1, chunk=1, processes=1)] == [[]]


def test_a_worker_asks_for_the_requested_part_which_is_made_once(importable_here: None) -> None:
    made: list[str] = []

    def on_request(question: str) -> int:
        made.append(question)
        return 1000

    results = fan_out(requested_plus, 1, list(range(20)), min_items=1, chunk=2, processes=2, on_request=on_request)
    assert [r[1] for r in results] == [i + 1001 for i in range(20)]  # type: ignore[index]
    assert made == ["extra"]  # asked by every chunk, answered and pickled once
    assert os.getpid() not in {r[0] for r in results}  # type: ignore[index]


def test_request_outside_a_worker_is_a_mistake() -> None:
    with pytest.raises(parallel.WorkersUnavailable):
        parallel.request()


def test_without_workers_the_work_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.sys, "executable", "")
    results = fan_out(square_or_misbehave, 0, [1, 2, 3], min_items=1, chunk=1, processes=2)
    assert results == [(os.getpid(), 1), (os.getpid(), 4), (os.getpid(), 9)]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_worker_holds_nothing_of_the_caller(importable_here: None, tmp_path: Path) -> None:
    # An open file of the caller's (as the site lock is) and its stdout/stderr must not reach the worker.
    with open(tmp_path / "held", "w") as held:
        os.set_inheritable(held.fileno(), True)
        (fds,) = fan_out(descriptors, None, [0], min_items=1, chunk=1, processes=1)
    assert isinstance(fds, dict)
    assert fds[0] == fds[1] == fds[2] == "/dev/null"
    others = {fd: target for fd, target in fds.items() if fd > 2}
    assert len(others) == 2 and all(target.startswith("pipe:") for target in others.values()), fds


# The parent is killed (os._exit) at a chosen moment of starting its workers, by patching the fan-out, not by
# timing: "started" right after a worker process is created (it has not yet set its parent-death signal),
# "working" right after a worker was handed a post that takes ~40 s to render.
KILLED_PARENT = textwrap.dedent("""
    import os, sys
    import feedwright.pipeline.collect as collect
    from feedwright.incremental import parallel
    from feedwright.cli import main

    moment = sys.argv[1]
    collect.PARALLEL_MIN_FILES = 1
    parallel.workers = lambda: 2
    start, give = parallel._Worker.__init__, parallel.Workers._give

    def started(self, *preload):
        start(self, *preload)
        os._exit(9)

    def working(self, worker, task, fn, common):
        give(self, worker, task, fn, common)
        if fn.__name__ == "_render_chunk":
            os._exit(9)

    if moment == "started":
        parallel._Worker.__init__ = started
    else:
        parallel.Workers._give = working
    sys.exit(main(["build", "--site", sys.argv[2]]))
""")


@pytest.mark.parametrize("moment", ["started", "working"])
def test_a_parent_killed_as_its_workers_start_leaves_no_process_and_closes_its_pipes(
    tmp_path: Path, moment: str
) -> None:
    site = make_site(tmp_path / "site", "[build]\nrender_timeout = 60\n")
    for i in range(5):
        write_post(site, f"p{i}.md", {"title": f"Post {i}", "date": f"2024-01-0{i + 1}"})
    write_post(site, "bomb.md", {"title": "Bomb", "date": "2024-02-01"}, "[" * 20_000 + "\n")
    started = time.monotonic()
    # What subprocess.run(capture_output=True) does: read both pipes to their end. Any process left holding the
    # build's stdout/stderr would make this hang until the timeout.
    proc = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, moment, str(site)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 9, err
    assert time.monotonic() - started < 20
    # Every process the build started is in its session's process group: none may be left.
    strays = live_members(proc.pid, wait=3.0)
    assert not strays, f"processes left behind: {strays}"
