"""Build a corpus with real Jekyll (the oracle) and with feedwright from the same ``_config.yml``.

Jekyll's truth is read from ``tests/jekyll/posts.json``, a page that lists ``site.posts`` with ``jsonify``.
Posts are built with ``render_with_liquid: false`` (a ``defaults`` entry added to the copy): the corpora's
bodies use plugins' tags Jekyll cannot build without them, and bodies do not change links, titles or dates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from feedwright.build import BuildReport, build
from feedwright.config import load_site

HERE = Path(__file__).resolve().parent / "jekyll"
ORACLE_DEFAULTS = {"scope": {"type": "posts"}, "values": {"render_with_liquid": False}}


@dataclass
class Oracle:
    jekyll: dict[str, dict[str, Any]]  # relative path -> the post as Jekyll publishes it
    report: BuildReport
    site: Path


def jekyll_missing() -> str | None:
    if shutil.which("jekyll") is None:
        return "real Jekyll is not installed (apt-get install jekyll ruby-kramdown-parser-gfm; .ci/run does)"
    return None


def prepare(
    corpus: Path, config: str, folder: Path, overrides: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    """``folder/site``: the corpus with ``tests/jekyll/<config>/_config.yml`` (plus ``overrides``), posts.json and
    the ``extra`` files (site-relative path -> text)."""
    site = folder / "site"
    shutil.copytree(corpus, site)
    for rel, text in (extra or {}).items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    settings = yaml.safe_load((HERE / config / "_config.yml").read_text(encoding="utf-8"))
    settings.update(overrides or {})
    settings["defaults"] = [*settings.get("defaults", []), ORACLE_DEFAULTS]
    (site / "_config.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    shutil.copy2(HERE / "posts.json", site / "posts.json")
    includes = HERE / config / "_includes"
    if includes.is_dir():
        shutil.copytree(includes, site / "_includes")
    return site


def run_jekyll(site: Path, folder: Path) -> dict[str, dict[str, Any]]:
    dest = folder / "_jekyll_site"
    env = {**os.environ, "JEKYLL_ENV": "production", "TZ": "UTC"}
    done = subprocess.run(
        ["jekyll", "build", "--quiet", "-s", str(site), "-d", str(dest)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    posts = json.loads((dest / "posts.json").read_text(encoding="utf-8"))
    return {p["path"]: p for p in posts}


def run_feedwright(site: Path) -> BuildReport:
    # Every post in the site-wide feed, as the measure wants (a site may set only [build] limit).
    (site / "feedwright.toml").write_text("[build]\nlimit = 100000\n", encoding="utf-8")
    return build(load_site(site))


def oracle(
    corpus: Path, config: str, folder: Path, overrides: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> Oracle:
    site = prepare(corpus, config, folder, overrides, extra)
    truth = run_jekyll(site, folder)
    return Oracle(truth, run_feedwright(site), site)


def jekyll_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
