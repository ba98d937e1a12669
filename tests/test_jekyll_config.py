"""A Jekyll site root (``_config.yml``) read with no ``feedwright.toml``: which files are posts, what each
post's fields are, and how ``feedwright.toml`` overrides ``_config.yml`` key by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from conftest import NOW, run_build
from feedwright.build import build
from feedwright.cli import main
from feedwright.config import load_site
from feedwright.errors import ConfigError
from feedwright.jekyll.discover import classify
from feedwright.jekyll.posts import defaults_for
from feedwright.jekyll.settings import Default, JekyllSettings

CONFIG = """\
title: Ruby
url: https://www.ruby-lang.org
baseurl: /site
lang: en
timezone: Asia/Seoul
permalink: /:categories/:year/:month/:day/:title/
"""


def jekyll_site(root: Path, config: str = CONFIG, posts: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    for rel, text in (posts or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def posts_of(root: Path) -> dict:
    report = build(load_site(root), now=NOW, write=False)
    return {p.source: p for p in report.collection.posts}


def test_config_yml_is_read_without_feedwright_toml(tmp_path: Path) -> None:
    site = load_site(jekyll_site(tmp_path))
    assert (site.title, site.url, site.language, str(site.timezone)) == (
        "Ruby", "https://www.ruby-lang.org/site/", "en", "Asia/Seoul"
    )
    assert site.content == Path(".") and site.output == Path("output")
    assert site.jekyll is not None and site.jekyll.permalink == "/:categories/:year/:month/:day/:title/"
    assert site.variables["baseurl"] == "/site"
    assert site.jekyll.describe == (
        "site: Jekyll _config.yml, url https://www.ruby-lang.org/site/,"
        " permalink /:categories/:year/:month/:day/:title/"
    )


def test_feedwright_toml_overrides_key_by_key(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, CONFIG + "feed:\n  posts_limit: 5\n  excerpt_only: true\n  tags: true\n")
    (root / "feedwright.toml").write_text("[build]\nlimit = 500\n", encoding="utf-8")
    site = load_site(root)
    assert (site.limit, site.full_content, site.tag_feeds, site.title) == (500, False, True, "Ruby")
    assert site.jekyll is not None and site.jekyll.describe.endswith("overridden by feedwright.toml")


@pytest.mark.parametrize(("config", "message"), [
    ("url: [1]\n: :", "not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    ("exclude: vendor\n", "exclude must be a list"),
    ("url: ftp://x.org\n", r"absolute http\(s\) URL"),
    ("timezone: Mars/Olympus\n", "unknown IANA time zone"),
    ("feed:\n  path: ../../etc/feed.xml\n", "feed.path must be a file path inside the site"),
])
def test_bad_config_yml_is_one_clear_error(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_site(jekyll_site(tmp_path, config))
    assert "_config.yml" in str(info.value)


@pytest.mark.parametrize(("rel", "kind"), [
    ("_posts/2024-01-02-hello.md", "post"),
    ("ko/news/_posts/2024-01-02-hello.md", "post"),
    ("_posts/deep/er/2024-1-2-hello.markdown", "post"),
    ("_posts/2021-09-08.md", None),
    ("_posts/2020-10-16.exam-daily-131.md", None),
    ("_posts/_partial-2024-01-02-x.md", None),
    ("_posts/2024-01-02-x.md~", None),
    ("_posts/2024-01-02-data.yml", None),
    ("_drafts/idea.md", None),
    ("_private/_posts/2024-01-02-x.md", None),
    ("node_modules/pkg/_posts/2024-01-02-x.md", None),
    ("about.md", None),
])
def test_which_files_are_posts(rel: str, kind: str | None) -> None:
    assert classify(JekyllSettings(), rel)[0] == kind


def test_drafts_need_show_drafts_and_skipped_files_say_why() -> None:
    assert classify(JekyllSettings(show_drafts=True), "_drafts/idea.md") == ("draft", None)
    kind, reason = classify(JekyllSettings(), "_posts/2021-09-08.md")
    assert kind is None and reason is not None and "YYYY-MM-DD-title.ext" in reason
    assert classify(JekyllSettings(), "about.md") == (None, None)  # a page, not a post: nothing to say
    assert classify(JekyllSettings(exclude=("_posts/old",)), "_posts/old/2020-01-01-x.md")[1] == (
        "excluded by _config.yml exclude; Jekyll does not read it"
    )


def test_posts_as_jekyll_makes_them(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, posts={
        "en/news/_posts/2024-01-02-ruby-3-3-0-released.md": "---\ncategories: [release]\ntags: x y\n---\nHi\n",
        "_posts/2024-02-03-no-front-matter.md": "Just text.\n",
        "_posts/2024-02-04-bad-date.md": "---\ntitle: Bad\ndate: someday soon\n---\nx\n",
        "_posts/2024-02-05-hidden.md": "---\npublished: false\n---\nx\n",
        "_posts/2024-02-06-korean.md": "---\ntitle: 안녕\nlang: ko\ncategory: 디지털 성범죄\n---\nx\n",
        "_posts/2021-09-08.md": "---\ntitle: Not a post\n---\nx\n",
        "output/_posts/2024-01-01-x.md": "---\ntitle: never content\n---\n",
    })
    posts = posts_of(root)
    assert set(posts) == {
        "en/news/_posts/2024-01-02-ruby-3-3-0-released.md", "_posts/2024-02-03-no-front-matter.md",
        "_posts/2024-02-04-bad-date.md", "_posts/2024-02-05-hidden.md", "_posts/2024-02-06-korean.md",
    }
    news = posts["en/news/_posts/2024-01-02-ruby-3-3-0-released.md"]
    assert news.title == "Ruby 3 3 0 Released"  # Utils.titleize_slug of the file name
    assert news.categories == ("en", "news", "release")
    assert news.tags == ("x", "y")
    assert news.url == "https://www.ruby-lang.org/site/en/news/release/2024/01/02/ruby-3-3-0-released/"
    assert news.id == "https://www.ruby-lang.org/site/en/news/release/2024/01/02/ruby-3-3-0-released"
    assert news.published.isoformat() == "2024-01-02T00:00:00+09:00"
    assert news.language == "en"
    bare = posts["_posts/2024-02-03-no-front-matter.md"]
    assert (bare.title, bare.draft) == ("No Front Matter", False)
    bad = posts["_posts/2024-02-04-bad-date.md"]
    assert bad.published.isoformat() == "2024-02-04T00:00:00+09:00"
    assert len(bad.notes) == 1 and "using the date of the file name, 2024-02-04" in bad.notes[0]
    assert posts["_posts/2024-02-05-hidden.md"].draft
    korean = posts["_posts/2024-02-06-korean.md"]
    assert korean.categories == ("디지털 성범죄",) and korean.language == "ko"
    assert korean.url == "https://www.ruby-lang.org/site/%EB%94%94%EC%A7%80%ED%84%B8%20%EC%84%B1%EB%B2%94%EC%A3%84/2024/02/06/korean/"


def test_a_fronts_matter_date_wins_and_psych_reads_bare_timestamps_as_utc(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, posts={
        "_posts/2024-01-02-a.md": "---\ndate: 2024-01-05 10:00:00\n---\n",
        "_posts/2024-01-02-b.md": "---\ndate: '2024-01-05 10:00'\n---\n",
        "_posts/2024-01-02-c.md": "---\ndate: 2023-01-29 18:30:22 2023 -0800\n---\n",
    })
    posts = posts_of(root)
    assert posts["_posts/2024-01-02-a.md"].published.isoformat() == "2024-01-05T19:00:00+09:00"
    assert posts["_posts/2024-01-02-b.md"].published.isoformat() == "2024-01-05T10:00:00+09:00"
    assert posts["_posts/2024-01-02-c.md"].published.isoformat() == "2023-01-30T11:30:22+09:00"
    assert all(not p.notes for p in posts.values())


def test_defaults_apply_by_scope_and_precedence(tmp_path: Path) -> None:
    settings = JekyllSettings(defaults=(
        Default("", None, {"author": "everyone", "tags": ["all"]}),
        Default("_posts", "posts", {"author": "posts"}),
        Default("_posts/ruby", None, {"author": "ruby"}),
        Default("_pages", "pages", {"author": "pages"}),
        Default("*/_posts", None, {"lang": "globbed"}),
    ))
    assert defaults_for(settings, "_posts/2024-01-01-a.md") == {"author": "posts", "tags": ["all"]}
    assert defaults_for(settings, "_posts/ruby/2024-01-01-a.md")["author"] == "ruby"
    assert defaults_for(settings, "ko/_posts/2024-01-01-a.md") == {"author": "everyone", "tags": ["all"],
                                                                   "lang": "globbed"}
    root = jekyll_site(tmp_path, CONFIG + (
        "defaults:\n  - scope: {path: '', type: posts}\n    values: {categories: [blog], permalink: /p/:slug/}\n"
    ), posts={"en/_posts/2024-01-02-x.md": "---\ncategories: [a]\n---\n"})
    post = posts_of(root)["en/_posts/2024-01-02-x.md"]
    assert post.categories == ("en", "blog", "a")
    assert post.url == "https://www.ruby-lang.org/site/p/x/"


def test_future_posts_wait_unless_future_is_true(tmp_path: Path) -> None:
    posts = {"_posts/2999-01-01-later.md": "---\ntitle: Later\n---\n", "_posts/2020-01-01-now.md": "---\n---\n"}
    held = build(load_site(jekyll_site(tmp_path / "a", posts=posts)), now=NOW, write=False)
    assert [p.title for p in held.feeds[0].posts] == ["Now"] and held.scheduled == 1
    shown = build(load_site(jekyll_site(tmp_path / "b", CONFIG + "future: true\n", posts)), now=NOW, write=False)
    assert [p.title for p in shown.feeds[0].posts] == ["Later", "Now"]


def test_feeds_carry_the_item_language_and_jekyll_feeds_path(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, CONFIG + "feed:\n  categories: [news]\n", posts={
        "_posts/2024-01-02-ko.md": "---\ntitle: 안녕\nlang: ko\ncategories: [news, other]\n---\nx\n",
        "_posts/2024-01-03-en.md": "---\ntitle: Hello\n---\nx\n",
    })
    run_build(root)
    output = root / "output"
    assert (output / "feed.xml").read_bytes() == (output / "atom.xml").read_bytes()
    atom = etree.parse(str(output / "atom.xml"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    langs = [e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in atom.findall("a:entry", ns)]
    assert langs == [None, "ko"]  # an item in the feed's own language inherits it
    items = json.loads((output / "feed.json").read_text(encoding="utf-8"))["items"]
    assert [i.get("language") for i in items] == [None, "ko"]
    assert sorted(p.name for p in (output / "categories").iterdir()) == ["news"]  # feed.categories only


def test_check_names_each_skipped_file_and_build_says_what_it_read(tmp_path: Path, capsys) -> None:
    root = jekyll_site(tmp_path, posts={
        "_posts/2021-09-08.md": "---\ntitle: x\n---\n", "_posts/2024-01-02-ok.md": "---\n---\n",
    })
    assert main(["check", "--site", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("site: Jekyll _config.yml, url https://www.ruby-lang.org/site/")
    assert err.count("_posts/2021-09-08.md") == 1 and "YYYY-MM-DD-title.ext" in err
    assert main(["build", "--site", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("site: Jekyll _config.yml") and "1 posts published" in out and err == ""
    assert main(["build", "-q", "--site", str(root)]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_site_without_config_yml_is_unchanged(example_site: Path) -> None:
    site = load_site(example_site)
    assert site.jekyll is None and site.variables == {}
    report = run_build(example_site)
    assert report.source is None and report.collection.skipped == []


def test_watching_a_jekyll_site_ignores_what_builds_write(tmp_path: Path) -> None:
    from feedwright.ops.serve import Watcher

    root = jekyll_site(tmp_path, posts={"_posts/2024-01-02-ok.md": "---\n---\n"})
    run_build(root)  # creates output/ and .feedwright/ inside the content folder (the site root)
    watcher = Watcher(load_site(root))
    run_build(root)  # rewrites the state and status: no reason to build again (no endless rebuilds)
    assert watcher.signature() == watcher._seen
    (root / "_posts" / "2024-01-03-new.md").write_text("---\n---\n", encoding="utf-8")
    assert watcher.signature() != watcher._seen


def test_symlinks_outside_posts_are_none_of_our_business(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, posts={"_posts/2024-01-02-ok.md": "---\n---\n"})
    (root / "assets").mkdir()
    (root / "assets" / "broken.png").symlink_to(tmp_path / "nowhere")
    (root / "_posts" / "2024-01-03-broken.md").symlink_to(tmp_path / "nowhere")
    report = build(load_site(root), now=NOW, write=False)
    assert [w for w in report.warnings if "broken" in w] == [
        "_posts/2024-01-03-broken.md: symlink to nothing (broken, a loop or not a file); not followed"
    ]


def test_a_changed_config_yml_is_not_hidden_by_the_cache(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, posts={"_posts/2024-01-02-ok.md": "---\n---\n"})
    first = run_build(root)
    assert first.collection.posts[0].url == "https://www.ruby-lang.org/site/2024/01/02/ok/"
    (root / "_config.yml").write_text(CONFIG.replace("permalink: /:categories/:year/:month/:day/:title/",
                                                     "permalink: /:title:output_ext\nlang: ko"), encoding="utf-8")
    again = run_build(root)
    assert (again.collection.posts[0].url, again.collection.posts[0].language) == (
        "https://www.ruby-lang.org/site/ok.html", "ko"
    )


def test_only_published_false_hides_a_post_as_in_jekyll(tmp_path: Path) -> None:
    root = jekyll_site(tmp_path, CONFIG + "unpublished: false\n", posts={
        "_posts/2024-01-02-a.md": "---\npublished: 'false'\n---\n",
        "_posts/2024-01-03-b.md": "---\npublished: false\n---\n",
        "_posts/2024-01-04-c.md": "---\ndraft: true\n---\n",
    })
    posts = posts_of(root)
    assert [posts[p].draft for p in sorted(posts)] == [False, True, True]
    shown = posts_of(jekyll_site(tmp_path / "u", CONFIG + "unpublished: true\n",
                                 posts={"_posts/2024-01-03-b.md": "---\npublished: false\n---\n"}))
    assert not shown["_posts/2024-01-03-b.md"].draft


def test_atom_feeds_also_where_jekyll_feed_wrote_them(tmp_path: Path) -> None:
    config = CONFIG + "feed:\n  path: /atom/site.xml\n  categories: [news, '../x']\n  tags:\n    except: [skip]\n"
    root = jekyll_site(tmp_path, config, posts={
        "_posts/2024-01-02-a.md": "---\ncategories: [news, '../x', other]\ntags: [ruby, skip, 'c++']\n---\nx\n",
    })
    report = run_build(root)
    files = report.files
    assert files["atom/site.xml"] == files["atom.xml"]
    assert files["feed/news.xml"] == files["categories/news/atom.xml"]
    assert files["feed/by_tag/ruby.xml"] == files["tags/ruby/atom.xml"]
    assert {p for p in files if p.startswith("feed/")} == {"feed/news.xml", "feed/by_tag/ruby.xml"}
    assert "x.xml" not in files and not any(".." in p for p in files)  # a category names a file, never a path


def test_baseurl_counts_without_url(tmp_path: Path) -> None:
    assert load_site(jekyll_site(tmp_path, "baseurl: /blog\n")).url == "http://localhost:8000/blog/"
    assert load_site(jekyll_site(tmp_path / "b", "url: ''\n")).url == "http://localhost:8000/"
