"""`feedwright init`: a commented feedwright.toml generated from the key table, an example post, no overwrites."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from conftest import NOW, validate_feed
from feedwright.cli import main
from feedwright.config import _KEYS, load_site, parse_config
from feedwright.feeds_config import KEYS as FEED_KEYS
from feedwright.ops.scaffold import EXAMPLE, EXAMPLE_POST, MEANING, config_text, init
from feedwright.ops.schedule import DEFAULT_EVERY
from feedwright.ops.schedule import KEYS as SCHEDULE_KEYS


def test_init_then_build_publishes_the_example_post(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "new"
    assert main(["init", str(site), "--url", "https://ex.org/blog"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {site / 'feedwright.toml'}",
                                                   f"wrote {site / 'content' / EXAMPLE_POST}"]
    assert 'url = "https://ex.org/blog/"' in (site / "feedwright.toml").read_text()
    assert main(["build", "--site", str(site)]) == 0
    rss = validate_feed(site / "output" / "rss.xml")
    assert [e.title for e in rss.entries] == ["Hello, feedwright"]
    assert rss.entries[0].link == "https://ex.org/blog/hello-feedwright/"
    assert (site / "output" / "categories" / "news" / "atom.xml").is_file()


def test_without_url_build_says_how_to_add_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert '# url = "https://your.site/"' in (tmp_path / "feedwright.toml").read_text()
    capsys.readouterr()
    assert main(["build", "--site", str(tmp_path)]) == 2
    assert "no [site] url" in capsys.readouterr().err


def _uncommented(text: str) -> str:
    """Every commented key line made live, except those without a default (an example value) and cron."""
    out = []
    for line in text.splitlines():
        m = re.fullmatch(r"# (\[\[?\w+\]\]?|(\w+) = (.*))", line)
        if m and (m.group(2) is None or (m.group(2) != "cron" and m.group(3) not in EXAMPLE.values())):
            line = m.group(1)
        out.append(line)
    return "\n".join(out)


def test_the_commented_defaults_are_the_defaults(tmp_path: Path) -> None:
    text = config_text()
    for section, key in [*_KEYS, *(("schedule", k) for k in SCHEDULE_KEYS)]:
        assert re.search(rf"^\[{section}\]$|^# \[{section}\]$", text, re.M), section
        assert re.search(rf"^# {key} = ", text, re.M), f"{section}.{key} is missing"
    for key in FEED_KEYS:
        assert re.search(rf"^# {key} = ", text.partition("# [[feeds]]")[2], re.M), f"[[feeds]] {key} is missing"
    tomllib.loads(text)  # valid as written
    live = parse_config(tomllib.loads(_uncommented(text)), tmp_path)
    default = parse_config({}, tmp_path)
    assert live.schedule is not None and live.schedule.every == DEFAULT_EVERY
    assert [feed.name for feed in live.feeds] == ["Korean news"]  # the example custom feed is a valid one
    assert dataclasses.replace(live, schedule=None, feeds=()) == default


def test_every_key_says_what_it_does() -> None:
    keys = ([f"{section}.{key}" for section, key in _KEYS] + [f"schedule.{key}" for key in SCHEDULE_KEYS]
            + [f"feeds.{key}" for key in FEED_KEYS])
    missing = [key for key in keys if key not in MEANING]
    assert not missing, f"add a line for {missing} to MEANING in src/feedwright/ops/scaffold.py"
    assert not set(MEANING) - set(keys), "MEANING names a key feedwright.toml no longer has"


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "feedwright.toml").write_text("# mine\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    toml = tmp_path / "feedwright.toml"
    assert err == f"feedwright: {toml}: already exists; feedwright init never overwrites a file\n"
    assert (tmp_path / "feedwright.toml").read_text() == "# mine\n"
    assert not (tmp_path / "content").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "feedwright.toml").symlink_to(tmp_path / "nowhere")  # a dangling symlink is not written through
    assert main(["init", str(other)]) == 2
    assert not (other / "content").exists() and not (tmp_path / "nowhere").exists()


def test_an_existing_content_folder_gets_no_example_post(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "mine.md").write_text("---\ntitle: Mine\n---\nText\n")
    assert init(tmp_path, NOW) == [tmp_path / "feedwright.toml"]


def test_a_bad_url_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path), "--url", "ftp://x"]) == 2
    assert "--url must be an absolute http(s) URL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_jekyll_site_gets_only_what_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "_config.yml").write_text('title: My Blog\nurl: "https://blog.example"\nlang: en\n'
                                          "permalink: /:year/:title/\n")
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "2024-05-01-first.md").write_text("---\ntitle: First\n---\nHello.\n")
    assert main(["init", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 'feedwright.toml'}",
        "site: Jekyll _config.yml; feedwright.toml holds only what differs from it",
    ]
    text = (tmp_path / "feedwright.toml").read_text()
    assert "This folder is a Jekyll site" in text
    assert '#   [site] url = "https://blog.example"' in text and '#   [site] title = "My Blog"' in text
    assert '#   [build] permalink = "/:year/:title/"' in text
    for key in ("url", "title", "language", "content", "markdown", "permalink"):  # from _config.yml: not repeated
        assert not re.search(rf"^# {key} = ", text, re.M), key
    assert re.search(r"^# limit = 50$", text, re.M)  # _config.yml sets no posts_limit
    assert not (tmp_path / "content").exists()  # no example post on a real site
    site = load_site(tmp_path)
    assert (site.url, site.title, site.language) == ("https://blog.example/", "My Blog", "en")
    assert main(["build", "--site", str(tmp_path)]) == 0
    rss = validate_feed(tmp_path / "output" / "rss.xml")
    assert [e.link for e in rss.entries] == ["https://blog.example/2024/first/"]
