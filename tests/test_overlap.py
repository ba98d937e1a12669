"""A build's parent works while its workers do (build.py, incremental/background.py): the workers render while it
makes the Links' digest and the state's bytes in a thread. The files are those of a build done in one process;
failures behave as they did."""

from __future__ import annotations

import importlib
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from conftest import make_site, output_files, run_build, write_post
from feedwright.errors import PublishError
from feedwright.incremental import background, parallel
from feedwright.pipeline import collect as collect_module
from feedwright.pipeline.history import State
from feedwright.pipeline.liquid import Links

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
    monkeypatch.setattr(parallel, "workers", lambda: 2)


def _here(tmp_path: Path) -> dict[str, bytes]:
    """The files of the same site built in this process (no worker), and its state."""
    here = _site(tmp_path / "here")
    run_build(here)
    return {**output_files(here / "output"), "state": (here / ".feedwright" / "state.json").read_bytes()}


def _files(site: Path) -> dict[str, bytes]:
    return {**output_files(site / "output"), "state": (site / ".feedwright" / "state.json").read_bytes()}


def test_the_links_digest_is_made_while_the_workers_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    expected = _here(tmp_path)
    events: list[str] = []
    fan_out = parallel.fan_out
    digests = Links.digests.func  # type: ignore[attr-defined]

    def fanned(fn: Any, *args: Any, **kwargs: Any) -> Any:
        events.append(f"fan-out {fn.__name__}")
        made = fan_out(fn, *args, **kwargs)
        events.append(f"fan-out {fn.__name__} done")
        return made

    def digested(self: Links) -> bytes:
        events.append(f"digest in {threading.current_thread().name.partition('_')[0]}")
        time.sleep(0.5)  # still being made when the workers are done: the build waits for it
        made = digests(self)
        events.append("digest made")
        return made

    monkeypatch.setattr(parallel, "fan_out", fanned)
    slot = cached_property(digested)
    slot.__set_name__(Links, "digests")
    monkeypatch.setattr(Links, "digests", slot)
    site = _site(tmp_path / "there")
    report = run_build(site)
    render = events.index("fan-out _render_chunk")
    assert set(events[render - 1:render + 1]) == {"digest in feedwright-background", "fan-out _render_chunk"}, events
    assert events.index("digest made") > render, events  # made while the workers rendered, and waited for
    assert report.warnings == []
    assert _files(site) == expected


def test_a_state_that_cannot_be_written_fails_the_build_before_anything_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_workers: None
) -> None:
    site = _site(tmp_path / "site")
    made_in: list[str] = []
    to_bytes, atomic_write = State.to_bytes, build_module.atomic_write

    def watched(self: State) -> bytes:
        made_in.append(threading.current_thread().name.partition("_")[0])  # (the executor numbers its threads)
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
    with pytest.raises(ZeroDivisionError):
        background.begin(lambda: 1 / 0).result()
    made = background.begin(threading.current_thread)
    assert made.result() is not threading.current_thread()
