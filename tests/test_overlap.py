"""A cold build's parent works while its workers do (build.py, incremental/background.py): the render fan-out starts
before the Links exist (made in a thread, with their digest and the state's bytes), and the feeds are serialised on
the workers. The files are those of a build done in one process; failures behave as they did."""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import make_site, output_files, run_build, write_post
from feedwright.errors import PublishError
from feedwright.incremental import background, parallel
from feedwright.incremental.parallel import Stopped
from feedwright.pipeline import collect as collect_module
from feedwright.pipeline.history import State

build_module = importlib.import_module("feedwright.build")


def _site(root: Path) -> Path:
    site = make_site(root, "[build]\nlimit = 10\ncategory_feeds = true\n")
    for i in range(9):
        write_post(site, f"2024-01-0{i + 1}-p{i}.md",
                   {"title": f"P{i}", "date": f"2024-01-0{i + 1}", "categories": ["A" if i % 2 else "B"]},
                   "See [the first]({% post_url 2024-01-01-p0 %}) of {{ site.posts | size }} posts.\n\nMore.\n")
    return site


@pytest.fixture
def on_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stage that can run on worker processes does, on two, however small the site."""
    monkeypatch.setattr(collect_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_RENDERS", 1)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)


def _here(tmp_path: Path) -> dict[str, bytes]:
    """The files of the same site built in this process (no worker), and its state."""
    here = _site(tmp_path / "here")
    run_build(here)
    return {**output_files(here / "output"), "state": (here / ".feedwright" / "state.json").read_bytes()}


def _files(site: Path) -> dict[str, bytes]:
    return {**output_files(site / "output"), "state": (site / ".feedwright" / "state.json").read_bytes()}


def test_workers_asking_for_the_links_before_they_exist_are_answered_once_they_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    expected = _here(tmp_path)
    events: list[tuple[str, float]] = []
    make, answer_request = build_module.build_links, parallel.Workers._answer_request

    def slow_links(*args: Any) -> Any:
        assert threading.current_thread() is not threading.main_thread()  # made while the workers render
        time.sleep(1.0)  # the workers' first post_url asks long before this
        made = make(*args)
        events.append(("made", time.monotonic()))
        return made

    def asked(self: parallel.Workers, worker: Any, question: Any) -> None:
        events.append(("asked", time.monotonic()))
        answer_request(self, worker, question)

    monkeypatch.setattr(build_module, "build_links", slow_links)
    monkeypatch.setattr(parallel.Workers, "_answer_request", asked)
    site = _site(tmp_path / "there")
    report = run_build(site)
    assert [kind for kind, _ in events][0] == "asked", events  # asked first: answered once the Links were made
    assert report.warnings == []
    assert _files(site) == expected


def test_feeds_serialised_on_the_workers_are_those_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    expected = _here(tmp_path)
    fanned: list[str] = []
    fan_out = parallel.fan_out

    def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        fanned.append(fn.__name__)
        return fan_out(fn, *args, **kwargs)

    monkeypatch.setattr(parallel, "fan_out", counted)
    site = _site(tmp_path / "there")
    run_build(site)
    assert "_serialise_chunk" in fanned, fanned
    assert _files(site) == expected


def test_a_feed_whose_worker_died_is_serialised_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    expected = _here(tmp_path)
    fan_out = parallel.fan_out

    def dying(fn: Any, common: Any, items: Any, **kwargs: Any) -> Any:
        if fn.__name__ != "_serialise_chunk":
            return fan_out(fn, common, items, **kwargs)
        made = fan_out(fn, common, items, **kwargs)
        return [Stopped("its worker process died (exit status -9)") if i % 2 else result
                for i, result in enumerate(made)]

    monkeypatch.setattr(parallel, "fan_out", dying)
    site = _site(tmp_path / "there")
    run_build(site)
    assert _files(site) == expected


def test_a_state_that_cannot_be_written_fails_the_build_before_anything_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    site = _site(tmp_path / "site")
    made_in: list[str] = []
    to_bytes, atomic_write = State.to_bytes, build_module.atomic_write

    def watched(self: State) -> bytes:
        made_in.append(threading.current_thread().name)
        return to_bytes(self)

    def failing(path: Path, data: bytes) -> None:
        if path.name == "state.json":
            raise OSError(28, "No space left on device")
        atomic_write(path, data)

    monkeypatch.setattr(State, "to_bytes", watched)
    monkeypatch.setattr(build_module, "atomic_write", failing)
    with pytest.raises(PublishError, match="No space left on device"):
        run_build(site)
    assert made_in == ["feedwright-background"]  # made while the workers rendered, written only after
    assert not (site / "output").exists() or not output_files(site / "output")


def test_an_error_in_the_background_is_raised_where_its_result_is_wanted() -> None:
    failed = background.Background(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failed.result()
    then_failed = background.Background(lambda: 7, lambda made: 1 / 0)
    assert then_failed.join() == 7  # then's work is asked for again where it is wanted, and raises there
    calls: list[int] = []
    once = background.Once(lambda: calls.append(1) or len(calls))
    runs = [background.Background(once.get) for _ in range(4)]
    assert [run.join() for run in runs] == [1, 1, 1, 1] and calls == [1]

