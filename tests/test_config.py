"""Unit tests for feedwright.config: defaults, per-key validation, load_site."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feedwright.config import FORMATS, Site, load_site, parse_config
from feedwright.errors import ConfigError


def _error(data: dict[str, Any], root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, root)
    return str(info.value)


def test_defaults_with_no_file(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    site = load_site(tmp_path)
    assert site.root == tmp_path.absolute()
    assert site.url.endswith("/")
    assert site.timezone == ZoneInfo("UTC")
    assert site.limit == 50
    assert site.formats == FORMATS
    assert site.content == Path("content") and site.output == Path("output")
    assert site.category_feeds is True and site.tag_feeds is False
    assert site.permalink == "/:path/"
    assert site.state_dir == tmp_path.absolute() / ".feedwright"


def test_full_config_is_applied(tmp_path: Path) -> None:
    site = parse_config(
        {
            "site": {
                "title": "  Ex  ",
                "url": "https://ex.org/blog",
                "description": "",
                "language": "ko",
                "timezone": "Asia/Seoul",
                "author": "Kim",
            },
            "build": {
                "content": "posts",
                "output": "public/feeds",
                "limit": 7,
                "formats": ["json", "rss", "json"],
                "full_content": False,
                "category_feeds": False,
                "tag_feeds": True,
                "permalink": "/:year/:slug/",
                "max_file_size": 1000,
                "render_timeout": 0.5,
            },
            "schedule": {"every": "5m"},
        },
        tmp_path,
    )
    assert site.title == "Ex"
    assert site.url == "https://ex.org/blog/"
    assert site.host == "ex.org"
    assert site.timezone == ZoneInfo("Asia/Seoul")
    assert site.content == Path("posts") and site.output == Path("public/feeds")
    assert site.limit == 7
    # Canonical order, duplicates dropped.
    assert site.formats == ("rss", "json")
    assert (site.full_content, site.category_feeds, site.tag_feeds) == (False, False, True)
    assert site.permalink == "/:year/:slug/"
    assert site.max_file_size == 1000
    assert site.render_timeout == 0.5
    assert site.url_configured and site.schedule is not None and site.schedule.describe() == "every 5m"


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://ex.org", "https://ex.org/"), ("https://ex.org/blog", "https://ex.org/blog/"),
     ("http://ex.org/a/", "http://ex.org/a/")],
)
def test_url_gets_a_trailing_slash(tmp_path: Path, url: str, expected: str) -> None:
    assert parse_config({"site": {"url": url}}, tmp_path).url == expected


@pytest.mark.parametrize("url", ["/blog/", "ex.org", "ftp://ex.org/", "https://", "", 42])
def test_url_must_be_absolute_http(tmp_path: Path, url: Any) -> None:
    assert "site.url" in _error({"site": {"url": url}}, tmp_path)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "10", True])
def test_limit_must_be_a_positive_whole_number(tmp_path: Path, limit: Any) -> None:
    message = _error({"build": {"limit": limit}}, tmp_path)
    assert "build.limit" in message


def test_formats_rejects_unknown_names(tmp_path: Path) -> None:
    message = _error({"build": {"formats": ["rss", "xml"]}}, tmp_path)
    assert "build.formats" in message and "'xml'" in message


@pytest.mark.parametrize("formats", [[], "rss", None])
def test_formats_must_be_a_non_empty_list(tmp_path: Path, formats: Any) -> None:
    assert "build.formats" in _error({"build": {"formats": formats}}, tmp_path)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = _error({"site": {"titel": "x"}}, tmp_path)
    assert "site.titel" in message


def test_unknown_section_is_named(tmp_path: Path) -> None:
    assert "[sitee]" in _error({"sitee": {"title": "x"}}, tmp_path)


def test_section_must_be_a_table(tmp_path: Path) -> None:
    assert "site" in _error({"site": "x"}, tmp_path)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Asia/Seol", "../../etc/passwd", "America", ""])
def test_bad_timezone(tmp_path: Path, tz: str) -> None:
    assert "site.timezone" in _error({"site": {"timezone": tz}}, tmp_path)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("site", "title", ""),
        ("site", "title", 3),
        ("site", "description", ["x"]),
        ("site", "language", " "),
        ("site", "author", None),
        ("build", "content", ""),
        ("build", "output", 1),
        ("build", "full_content", "yes"),
        ("build", "category_feeds", 1),
        ("build", "tag_feeds", "false"),
        ("build", "permalink", ":path/"),
        ("build", "permalink", "/:year/:month/"),
        ("build", "max_file_size", 0),
        ("build", "render_timeout", 0),
        ("build", "render_timeout", "2s"),
        ("build", "render_timeout", True),
    ],
)
def test_every_key_is_validated_and_named(tmp_path: Path, section: str, key: str, value: Any) -> None:
    assert f"{section}.{key}" in _error({section: {key: value}}, tmp_path)


def test_message_names_the_source_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="custom.toml"):
        parse_config({"build": {"limit": 0}}, tmp_path, "custom.toml")


@pytest.mark.parametrize("output", ["content", "content/feeds", "."])
def test_output_must_not_be_inside_content(tmp_path: Path, output: str) -> None:
    data = {"build": {"output": output}}
    if output == ".":
        data["build"]["content"] = "."
    assert "build.output" in _error(data, tmp_path)


def test_site_is_frozen(tmp_path: Path) -> None:
    site = parse_config({}, tmp_path)
    assert isinstance(site, Site)
    with pytest.raises(AttributeError):
        site.limit = 3  # type: ignore[misc]


# --- load_site -----------------------------------------------------------------------------------------------


def test_load_site_reads_the_toml_file(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text(
        '[site]\ntitle = "디지털 뉴스"\nurl = "https://ex.org"\n[build]\nlimit = 3\n', encoding="utf-8"
    )
    site = load_site(tmp_path)
    assert (site.title, site.url, site.limit) == ("디지털 뉴스", "https://ex.org/", 3)


def test_load_site_without_content_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="content"):
        load_site(tmp_path)


def test_load_site_custom_content_folder_must_exist(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text('[build]\ncontent = "posts"\n')
    with pytest.raises(ConfigError, match="posts"):
        load_site(tmp_path)


def test_load_site_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_site(tmp_path / "nope")


def test_load_site_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text("[site\ntitle = \n")
    with pytest.raises(ConfigError) as info:
        load_site(tmp_path)
    assert "feedwright.toml" in str(info.value)
    assert "TOML" in str(info.value)


def test_load_site_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_bytes(b'[site]\ntitle = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="feedwright.toml"):
        load_site(tmp_path)


def test_load_site_error_for_bad_key_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text("[build]\nlimit = 0\n")
    with pytest.raises(ConfigError) as info:
        load_site(tmp_path)
    assert "feedwright.toml" in str(info.value) and "build.limit" in str(info.value)


def test_every_config_error_is_reported_at_once_each_on_its_own_line(tmp_path: Path) -> None:
    data = {
        "site": {"url": "ftp://x", "titel": "T"},
        "build": {"limit": 0, "formats": ["rss", "pdf"]},
        "schedule": {"every": "soon"},
        "serve": {"port": 8000},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path, "site/feedwright.toml")
    lines = str(info.value).splitlines()
    assert all(line.startswith("site/feedwright.toml: ") for line in lines)
    text = str(info.value)
    for part in ("site.url", "unknown key site.titel; did you mean 'site.title'?", "build.limit", "'pdf'",
                 "schedule.every", "unknown section [serve]"):
        assert part in text
    assert len(lines) == 6


@pytest.mark.parametrize(
    ("data", "hint"),
    [({"biuld": {}}, "did you mean 'build'?"), ({"build": {"limt": 3}}, "did you mean 'build.limit'?"),
     ({"site": {"limit": 3}}, "did you mean 'build.limit'?"), ({"schedule": {"evry": "1m"}}, "did you mean 'every'?"),
     ({"websub": {"hub": []}}, "did you mean 'websub.hubs'?")],
)
def test_unknown_names_get_a_suggestion(tmp_path: Path, data: dict[str, Any], hint: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(hint)):
        parse_config(data, tmp_path)


def test_check_and_build_validate_the_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from feedwright.cli import main

    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text('[site]\nurl = "https://ex.org/"\n[schedule]\ncron = "61 * * * *"\n')
    assert main(["check", "--site", str(tmp_path)]) == 2
    assert "schedule.cron" in capsys.readouterr().err
    assert main(["build", "--site", str(tmp_path)]) == 2
    assert not (tmp_path / "output").exists()


def test_site_that_is_a_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "feedwright.toml").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        load_site(tmp_path / "feedwright.toml")


def test_a_permalink_may_use_title_as_jekyll_sites_do(tmp_path: Path) -> None:
    # "/:category/:title/" was refused; :title is the slug, as in Jekyll.
    site = parse_config({"build": {"permalink": "/:category/:title/"}}, tmp_path)
    assert site.permalink == "/:category/:title/"
