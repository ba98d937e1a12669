"""Near-miss front-matter keys (``draf``, ``dtae``...) are warnings naming file, key and suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPORA, NOW, output_files, write_post
from feedwright.build import build
from feedwright.cli import main
from feedwright.config import Site, load_site
from feedwright.incremental import memo
from feedwright.incremental.cache import Cache
from feedwright.pipeline.history import State
from feedwright.pipeline.keys import near_misses
from feedwright.pipeline.normalise import FEEDWRIGHT_KEYS


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("draf", "draft"), ("dtae", "date"), ("categores", "categories"), ("excerp", "excerpt"), ("imgae", "image"),
     ("Title", "title")],
)
def test_near_miss_is_found_with_its_suggestion(typo: str, meant: str) -> None:
    assert near_misses({"title": "x", typo: 1}, FEEDWRIGHT_KEYS) == ((typo, meant),)


@pytest.mark.parametrize("key", ["layout", "teaser", "toc", "comments", "lang", "modified", "subtitle", "zzz"])
def test_known_and_unrelated_keys_are_not_typos(key: str) -> None:
    assert near_misses({key: 1}, FEEDWRIGHT_KEYS) == ()


def test_site_known_keys_are_accepted() -> None:
    assert near_misses({"drafty": True}, FEEDWRIGHT_KEYS) == (("drafty", "draft"),)
    assert near_misses({"drafty": True}, FEEDWRIGHT_KEYS, ("drafty",)) == ()


def test_draf_is_a_warning_naming_file_key_and_draft(example_site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(example_site, "news/2025-01-03-typo.md", "title: Typo\ndraf: true\ndate: 2025-01-03\n")
    assert main(["build", "--site", str(example_site)]) == 0
    err = capsys.readouterr().err
    assert "warning: content/news/2025-01-03-typo.md: front-matter key 'draf'" in err
    assert "did you mean 'draft'?" in err

    assert main(["check", "--site", str(example_site)]) == 0
    assert "'draf'" in capsys.readouterr().err
    assert main(["check", "--strict", "--site", str(example_site)]) == 1


def test_strict_makes_a_near_miss_an_error_and_writes_nothing(
    example_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--quiet", "--site", str(example_site)]) == 0
    before = output_files(example_site / "output")
    write_post(example_site, "news/2025-01-03-typo.md", "title: Typo\ndtae: 2025-01-03\n")

    assert main(["build", "--strict", "--site", str(example_site)]) == 1
    err = capsys.readouterr().err
    assert "error: content/news/2025-01-03-typo.md: front-matter key 'dtae'" in err and "'date'" in err
    assert output_files(example_site / "output") == before


def test_known_keys_in_config_silence_the_warning(example_site: Path) -> None:
    write_post(example_site, "news/2025-01-03-typo.md", "title: Typo\ndrafty: true\n")
    assert build(load_site(example_site), now=NOW, write=False).near_misses
    config = example_site / "feedwright.toml"
    config.write_text(config.read_text().replace("[build]\n", '[build]\nknown_keys = ["drafty"]\n'))
    assert build(load_site(example_site), now=NOW, write=False).near_misses == []


@pytest.mark.parametrize("corpus", ["jekyll-docs", "made-mistakes"])
def test_real_corpora_give_no_false_warnings(corpus: str) -> None:
    folder = CORPORA / corpus
    if not folder.is_dir():
        pytest.skip(f"corpus {folder} not found (the ../shared folder beside the repo is absent)")
    site = Site(root=folder.parent, content=Path(corpus))
    collection = memo.collect(site, NOW, State(folder.parent / "no-state.json"), Cache.load(site))  # as a build
    assert collection.posts
    assert [(p.source, p.key_typos) for p in collection.posts if p.key_typos] == []
