"""Compare feedwright with real Jekyll on any Jekyll site (not in CI: a large site takes minutes).

    .venv/bin/python scripts/jekyll_compare.py SITE_DIR [--keep FOLDER]

Copies the site's ``_config.yml`` and every ``_posts``/``_drafts`` folder to a temporary folder (so plugins,
themes and layouts are not needed), turns Liquid off in posts and drops ``plugins`` (bodies do not change links,
titles or dates), builds it with ``jekyll`` and with feedwright (``limit`` raised so every post is in the
site-wide feed), and prints how many items have Jekyll's link, id, title, date, categories and tags.
Exits 1 unless the set of posts is Jekyll's and at least 99.5% of the links are.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

import jekyll_oracle as oracle  # noqa: E402
from feedwright.pipeline.text import squash  # noqa: E402


def copy_posts(source: Path, site: Path) -> None:
    site.mkdir(parents=True)
    for folder in [*source.rglob("_posts"), *source.rglob("_drafts")]:
        if folder.is_dir() and ".git" not in folder.parts:
            shutil.copytree(folder, site / folder.relative_to(source))
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")) or {}
    config.pop("plugins", None)
    config.pop("gems", None)
    config["defaults"] = [*(config.get("defaults") or []), oracle.ORACLE_DEFAULTS]
    (site / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    shutil.copy2(oracle.HERE / "posts.json", site / "posts.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jekyll-compare-"))
    try:
        site = folder / "site"
        copy_posts(args.site.resolve(), site)
        started = time.monotonic()
        truth = {p: t for p, t in oracle.run_jekyll(site, folder).items() if not t["draft"]}
        print(f"jekyll: {len(truth)} posts in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        report = oracle.run_feedwright(site)
        ours = {p.source: p for p in report.feeds[0].posts}
        print(f"feedwright: {len(ours)} posts in {time.monotonic() - started:.1f} s")
        print(f"only Jekyll: {sorted(set(truth) - set(ours))[:10]}")
        print(f"only feedwright: {sorted(set(ours) - set(truth))[:10]}")
        checks: dict[str, Callable[[object, dict], bool]] = {
            "link": lambda p, t: p.url == t["link"],
            "id": lambda p, t: p.id == t["id"],
            "title": lambda p, t: p.title == squash(str(t["title"])),
            "date": lambda p, t: p.published == oracle.jekyll_date(t["date"]),
            "categories": lambda p, t: list(p.categories) == [squash(str(c)) for c in t["categories"]],
            "tags": lambda p, t: list(p.tags) == [squash(str(c)) for c in t["tags"]],
        }
        share = 0.0
        for name, same in checks.items():
            wrong = [path for path, t in truth.items() if path in ours and not same(ours[path], t)]
            equal = sum(1 for path in truth if path in ours) - len(wrong)
            print(f"{name}: {equal} of {len(truth)} as Jekyll's ({equal / max(len(truth), 1):.2%}) {wrong[:3]}")
            if name == "link":
                share = equal / max(len(truth), 1)
        return 0 if set(truth) == set(ours) and share >= 0.995 else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
