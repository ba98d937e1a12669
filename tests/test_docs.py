"""The README documents every config key, every sub-command and option, every exit status and every environment
variable; each list is read from the code (the key tables, the argparse parser, the error tree), so a new key,
flag or error that the README does not mention fails here."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

from feedwright import environment, errors
from feedwright.cli import _parser
from feedwright.config import _KEYS
from feedwright.feeds_config import KEYS as FEED_KEYS
from feedwright.ops.schedule import KEYS as SCHEDULE_KEYS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _config_keys() -> list[str]:
    return ([f"[{section}] {key}" for section, key in _KEYS] + [f"[schedule] {key}" for key in SCHEDULE_KEYS]
            + [f"[[feeds]] {key}" for key in FEED_KEYS])


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [opt for action in parser._actions if not isinstance(action, argparse._HelpAction)
            for opt in action.option_strings if opt.startswith("--")]


def _exit_statuses() -> dict[int, list[str]]:
    by_status: dict[int, list[str]] = {}
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.FeedwrightError):
            by_status.setdefault(cls.exit_code, []).append(name)
    return by_status


def _mentioned(word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", README) is not None


@pytest.mark.parametrize("key", _config_keys())
def test_config_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README, f"README's Configuration table has no row for `{key}`"


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_subcommand_and_its_options_are_documented(command: str) -> None:
    assert f"feedwright {command}" in README, f"README never shows `feedwright {command}`"
    missing = [opt for opt in _options(_subcommands()[command]) if not _mentioned(opt)]
    assert not missing, f"README does not mention {missing} of `feedwright {command}`"


def test_top_level_options_are_documented() -> None:
    missing = [opt for opt in _options(_parser()) if not _mentioned(opt)]
    assert not missing, f"README does not mention {missing}"


@pytest.mark.parametrize("status", sorted(_exit_statuses()))
def test_exit_status_is_in_the_readme_table(status: int) -> None:
    rows = set(re.findall(r"^\| (\d+) \|", README, re.M))
    assert str(status) in rows, f"README's exit-status table has no row for {status} ({_exit_statuses()[status]})"


@pytest.mark.parametrize("name", [environment.SOURCE_DATE_EPOCH, environment.LOCK_TIMEOUT])
def test_environment_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in README


def test_the_lists_are_read_from_the_code_not_empty() -> None:
    # A docs test over empty lists would pass for ever.
    assert len(_config_keys()) >= 20 and {"build", "check", "daemon", "serve", "status"} <= set(_subcommands())
    assert {1, 2, 69, 74, 75, 130} <= set(_exit_statuses()) and "--wait" in _options(_subcommands()["build"])


def test_every_module_is_in_the_layout_section() -> None:
    layout = README.split("## Layout", 1)[1].split("```")[1]
    src = Path(__file__).resolve().parents[1] / "src" / "feedwright"
    modules = [p for p in src.rglob("*.py") if p.name not in ("__main__.py",) and p.parent.name != "templates"]
    missing = [str(p.relative_to(src)) for p in modules
               if not re.search(rf"^\s+{re.escape(p.name)}\s", layout, re.M)
               and not (p.name == "__init__.py" and p.parent != src)]
    assert not missing, f"README's Layout section does not list {missing}"
