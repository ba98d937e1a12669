"""The ``feedwright`` command in a subprocess: exit statuses, what goes to stdout/stderr, what gets written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW, output_files, write_post

BAD = {
    "content/news/broken.md": "title: [unclosed\n",
    "content/news/list-title.md": "title: [a, b]\ndate: 2024-01-01\n",
    "content/zz/no-title.md": "date: 2024-01-01\n",
}


def feedwright(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "feedwright", *args, "--site", str(site)],
        capture_output=True, text=True, env=env, cwd=site.parent, timeout=60, check=False,
    )


def _add_bad(site: Path) -> None:
    for rel, front_matter in BAD.items():
        write_post(site, rel.removeprefix("content/"), front_matter)


def _clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_clean_build_exits_0(example_site: Path) -> None:
    proc = feedwright(example_site, "build")
    _clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("9 posts published, 0 rejected")
    assert (example_site / "output" / "rss.xml").is_file()
    again = feedwright(example_site, "build")
    assert again.returncode == 0 and "0 files written" in again.stdout


def test_rejected_posts_exit_1_one_line_each(example_site: Path) -> None:
    _add_bad(example_site)
    proc = feedwright(example_site, "build")
    _clean(proc)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert sorted(line.split(": ", 1)[0] for line in lines) == sorted(BAD)
    assert all(len(line.split(": ", 1)) == 2 and line.split(": ", 1)[1].strip() for line in lines)
    # The good posts are still published.
    assert proc.stdout.startswith("9 posts published, 3 rejected")
    assert (example_site / "output" / "categories" / "news" / "rss.xml").is_file()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ('[build]\nlimit = 0\n', "build.limit"),
        ('[site]\ntitel = "typo"\n', "site.titel"),
        ('[site]\ntimezone = "Mars/Olympus"\n', "site.timezone"),
        ('[site]\nurl = "ftp://example.org/"\n', "site.url"),
        ('[build]\nformats = ["rss", "atom", "html"]\n', "build.formats"),
        ('[site\nurl = "x"\n', "not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(example_site: Path, config: str, key: str) -> None:
    (example_site / "feedwright.toml").write_text(config, encoding="utf-8")
    proc = feedwright(example_site, "build")
    _clean(proc)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "feedwright.toml" in lines[0] and key in lines[0]
    assert proc.stdout == ""
    assert sorted(p.name for p in example_site.iterdir()) == ["_includes", "content", "feedwright.toml"]


def test_missing_site_folder_exits_2(tmp_path: Path) -> None:
    proc = feedwright(tmp_path / "nowhere", "build")
    _clean(proc)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


def test_quiet_prints_nothing_on_success(example_site: Path) -> None:
    proc = feedwright(example_site, "build", "-q")
    _clean(proc)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (example_site / "output" / "atom.xml").is_file()


def test_quiet_still_reports_problems(example_site: Path) -> None:
    _add_bad(example_site)
    proc = feedwright(example_site, "build", "-q")
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == len(BAD)


def test_check_exits_1_listing_every_bad_file_and_writes_nothing(example_site: Path) -> None:
    _add_bad(example_site)
    proc = feedwright(example_site, "check")
    _clean(proc)
    assert proc.returncode == 1
    assert sorted(line.split(": ", 1)[0] for line in proc.stderr.splitlines()) == sorted(BAD)
    assert sorted(p.name for p in example_site.iterdir()) == ["_includes", "content", "feedwright.toml"]


def test_check_on_a_clean_site_exits_0_and_writes_nothing(example_site: Path) -> None:
    proc = feedwright(example_site, "check")
    _clean(proc)
    assert proc.returncode == 0 and proc.stderr == ""
    assert sorted(p.name for p in example_site.iterdir()) == ["_includes", "content", "feedwright.toml"]


def test_strict_exits_1_and_leaves_output_untouched(example_site: Path) -> None:
    assert feedwright(example_site, "build").returncode == 0
    before = output_files(example_site / "output")
    state = (example_site / ".feedwright" / "state.json").read_bytes()
    _add_bad(example_site)
    write_post(example_site, "news/fresh.md", {"title": "Fresh", "date": "2025-11-01"})
    proc = feedwright(example_site, "build", "--strict")
    _clean(proc)
    assert proc.returncode == 1
    assert sorted(line.split(": ", 1)[0] for line in proc.stderr.splitlines()[:-1]) == sorted(BAD)
    assert "--strict" in proc.stderr.splitlines()[-1]
    assert output_files(example_site / "output") == before
    assert (example_site / ".feedwright" / "state.json").read_bytes() == state


def test_summary_has_the_timing_and_names_scheduled_posts(example_site: Path) -> None:
    proc = feedwright(example_site, "build")
    assert proc.returncode == 0, proc.stderr
    summary, *scheduled = proc.stdout.splitlines()
    assert re.search(r" in \d+\.\d\d s$", summary)
    assert scheduled == [
        "scheduled: content/news/2031-03-01-scheduled-spring-issue.md at 2031-03-01T09:00:00+09:00"
    ]


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    proc = subprocess.run([sys.executable, "-m", "feedwright", "--version"], capture_output=True, text=True,
                          check=False)
    assert proc.stdout.strip() == f"feedwright {version('feedwright')}"


def test_a_write_error_names_the_file_and_the_fix_not_a_temp_file(
    example_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedwright.cli import main

    assert main(["build", "-q", "--site", str(example_site)]) == 0
    (example_site / "output" / "atom.xml").unlink()
    (example_site / "output" / "atom.xml").mkdir()  # root ignores permissions: a folder in the way instead
    write_post(example_site, "news/2025-06-01-new.md", {"title": "New", "date": "2025-06-01"})
    assert main(["build", "-q", "--site", str(example_site)]) == 74
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and ".tmp" not in err
    assert f"{example_site / 'output' / 'atom.xml'}: cannot write" in err and "a folder is in the way" in err


def test_build_without_a_url_exits_2_with_the_fix(
    example_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedwright.cli import main

    config = example_site / "feedwright.toml"
    config.write_text(config.read_text().replace('url = "https://news.example.org/"\n', ""))
    assert main(["build", "--site", str(example_site)]) == 2
    err = capsys.readouterr().err
    assert "no [site] url" in err and 'add url = "https://your.site/" under [site]' in err and "--base-url" in err
    assert not (example_site / "output").exists()
    assert main(["daemon", "--site", str(example_site)]) == 2
    assert main(["check", "--site", str(example_site)]) == 0
    assert "warning: no [site] url" in capsys.readouterr().err

    assert main(["build", "-q", "--base-url", "https://mirror.example.net/news", "--site", str(example_site)]) == 0
    assert "https://mirror.example.net/news/" in (example_site / "output" / "rss.xml").read_text()
    assert main(["build", "--base-url", "ftp://x", "--site", str(example_site)]) == 2


def test_build_counts_warnings_that_repeat_and_verbose_lists_them(example_site: Path) -> None:
    for n in range(5):
        write_post(example_site, f"notes/gist-{n}.md", {"title": f"Gist {n}", "date": f"2024-01-0{n + 1}"},
                   "Code: {% gist 12345 %}\n")
    proc = feedwright(example_site, "build")
    _clean(proc)
    assert proc.returncode == 0, proc.stderr
    gist = [line for line in proc.stderr.splitlines() if "gist" in line]
    assert len(gist) == 4, proc.stderr  # three shown, then a count
    assert gist[-1].startswith("warning: ... and 2 more: Liquid tag {% gist %}: unknown tag 'gist'")
    assert gist[-1].endswith("(-v lists them)")
    verbose = feedwright(example_site, "build", "-v")
    listed = [line for line in verbose.stderr.splitlines() if "gist" in line]
    assert len(listed) == 5 and not any("more:" in line for line in listed)
    assert sorted(line.split(":")[1].strip() for line in listed) == [f"content/notes/gist-{n}.md" for n in range(5)]
