"""The exception tree: every error the library raises is a node of it, each node knows its exit status, and the CLI
turns each into one line on stderr; Ctrl-C and a closed stdout are handled once, for every command."""

from __future__ import annotations

import ast
import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW, REPO, make_site, write_post
from feedwright import errors
from feedwright.build import build
from feedwright.cli import main
from feedwright.config import load_site
from feedwright.errors import FeedwrightError, Interrupted, PostError, Reject, StatusError
from feedwright.ops.status import read_status, status_path

SRC = REPO / "src" / "feedwright"
# Raised and caught inside the library (or by the standard library's own protocol), never reaching a caller:
# TimeoutError ends a WebSub connection when the round's deadline passes, and becomes a ping's failure;
# PermalinkError (a ValueError of the Jekyll permalink engine) becomes a Reject in jekyll/posts.py;
# WorkersUnavailable makes incremental/parallel.py do the work in this process instead; Stale (the cache on
# disk cannot be used) becomes a warning and a cache-less build in incremental/cache.py.
# python-liquid's errors are raised inside filters and tags as its extension API requires; the Liquid stage
# catches them (pipeline/liquid) and the post is rejected or keeps its text. LookupFailed (an image's size could
# not be looked up, pipeline/probe.py) becomes a warning in pipeline/enclosures.py. KeyError is the Mapping
# protocol of Liquid's ``site`` and a render worker's post indexes (pipeline/liquid/context.py): a missing key.
INTERNAL = {"ValueError", "KeyError", "KeyboardInterrupt", "PicklingError", "UnpicklingError", "TimeoutError",
            "PermalinkError", "WorkersUnavailable", "Stale", "FilterError", "LiquidError", "TemplateNotFoundError",
            "LiquidSyntaxError", "LookupFailed"}


def _nodes() -> dict[str, type[FeedwrightError]]:
    return {
        name: cls for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, FeedwrightError)
    }


def _raised_names() -> dict[str, list[str]]:
    """Class name -> ``file:line`` of every ``raise Name(...)`` in src/; ``raise factory(...)`` counts as the
    class the factory's return annotation names."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SRC.rglob("*.py")}
    factories = {node.name: ast.unparse(node.returns) for tree in trees.values() for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef) and node.returns is not None}
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                name = factories.get(name, name)
                found.setdefault(name, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_every_raised_error_is_a_node_of_the_tree_and_the_base_is_never_raised_bare() -> None:
    nodes, raised = _nodes(), _raised_names()
    assert "FeedwrightError" not in raised, raised.get("FeedwrightError")
    outside = {name: where for name, where in raised.items() if name not in nodes and name not in INTERNAL}
    assert not outside, f"raised outside the tree: {outside}"
    assert {"Reject", "ConfigError", "PublishError", "LockTimeout", "StatusError", "ServeError"} <= set(raised)


def test_every_node_knows_its_exit_status_and_the_docstring_draws_each() -> None:
    doc = errors.__doc__ or ""
    for name, cls in _nodes().items():
        assert isinstance(cls.exit_code, int) and 0 < cls.exit_code < 256, name
        assert any(name in line and f"exit {cls.exit_code}" in line for line in doc.splitlines()), name
    assert issubclass(Reject, PostError) and str(Reject("title is missing")) == "title is missing"


def test_rejections_survive_a_trip_through_pickle() -> None:
    # As they do when a worker process of the pool sends them back.
    for error in (PostError("content/a.md", "title is missing"), Reject("title is missing")):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), copy.path, copy.reason) == (type(error), str(error), error.path, error.reason)


def test_the_cli_has_no_exit_status_table_of_its_own() -> None:
    cli = (SRC / "cli.py").read_text(encoding="utf-8")
    assert "EXIT_REJECTED" not in cli and "EXIT_USAGE" not in cli and "return 130" not in cli


def test_ctrl_c_in_any_command_is_one_line_and_exit_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site")

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    for command, target in (("build", "feedwright.cli.recorded_build"), ("check", "feedwright.cli.build"),
                            ("status", "feedwright.cli.read_status")):
        monkeypatch.setattr(target, interrupted)
        assert main([command, "--site", str(site)]) == Interrupted.exit_code == 130
        out, err = capsys.readouterr()
        assert err == "feedwright: interrupted\n" and out == "", command


def test_status_piped_into_a_reader_that_stops_early_is_quiet(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    subprocess.run([sys.executable, "-m", "feedwright", "build", "-q", "--site", str(site)], env=env, check=True)
    # `feedwright status --json | head -c1`, with the pipe's reader gone before the status is written.
    reader, writer = os.pipe()
    os.close(reader)
    proc = subprocess.run([sys.executable, "-m", "feedwright", "status", "--json", "--site", str(site)],
                          stdout=writer, stderr=subprocess.PIPE, text=True, env=env, timeout=60, check=False)
    os.close(writer)
    assert proc.stderr == "" and proc.returncode == 1


def test_no_status_yet_and_an_unreadable_status_file_are_status_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(tmp_path / "site")
    assert main(["status", "--site", str(site)]) == StatusError.exit_code
    assert capsys.readouterr().err.startswith("feedwright: no run recorded yet")
    status_path(site).parent.mkdir(parents=True, exist_ok=True)
    status_path(site).write_text("{not json", encoding="utf-8")
    with pytest.raises(StatusError, match="cannot read the status file"):
        read_status(site)


def test_the_library_reads_no_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
                    and isinstance(node.value, ast.Name) and node.value.id == "os"):
                assert path.name == "cli.py", f"{path}:{node.lineno} reads the environment"
    # A value the CLI would refuse is not even looked at by the library: it builds at the time it is given.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a number")
    monkeypatch.setenv("FEEDWRIGHT_LOCK_TIMEOUT", "never")
    site = make_site(tmp_path / "site")
    write_post(site, "a.md", {"title": "A", "date": "2024-01-01"})
    assert build(load_site(site), now=NOW).now == NOW
    assert main(["build", "-q", "--site", str(site)]) == 2
