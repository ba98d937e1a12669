"""The public face: ``import feedwright`` gives build, load_site, Site, BuildReport and every error of the tree."""

from __future__ import annotations

import inspect
from pathlib import Path

import feedwright
from conftest import NOW, make_site, write_post
from feedwright import errors


def test_all_names_the_entry_points_and_every_error() -> None:
    tree = {name for name, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, errors.FeedwrightError)}
    assert {"build", "load_site", "Site", "BuildReport"} | tree == set(feedwright.__all__)
    assert all(getattr(feedwright, name) is not None for name in feedwright.__all__)


def test_a_program_builds_a_site_through_the_public_names(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    write_post(root, "a.md", {"title": "A", "date": "2024-01-01"})
    write_post(root, "b.md", {"date": "2024-01-02"})
    site = feedwright.load_site(root)
    assert isinstance(site, feedwright.Site)
    report = feedwright.build(site, now=NOW)
    assert isinstance(report, feedwright.BuildReport) and report.live == 1
    assert [type(e) for e in report.rejected] == [feedwright.PostError]
    assert (root / "output" / "rss.xml").is_file()
