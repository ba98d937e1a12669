"""RFC 5005 archives (``[build] archives``): a reader walking ``prev-archive`` back from any subscription document
finds every post of that feed exactly once; full archives never change when a post is added; every archive file
is valid; nothing already rendered or serialised is done again."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import (
    NOW,
    REPO,
    assert_golden,
    check_feed_files,
    copy_example_site,
    make_site,
    output_files,
    run_build,
    validate_feed_bytes,
    write_post,
)
from feedwright.config import ConfigError, load_site
from feedwright.incremental import memo
from feedwright.pipeline.archive import FH_ARCHIVE, split
from feedwright.pipeline.plan import Feed, plan

building = importlib.import_module("feedwright.build")  # the module: feedwright.build is the public function
URL = "https://example.org/"
FORMATS = ("rss", "atom", "json")
SUBSCRIPTION = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
START = datetime(2020, 1, 1, tzinfo=UTC)


def archived_site(root: Path, limit: int, size: int, extra: str = "") -> Path:
    return make_site(root, f"[build]\nlimit = {limit}\narchives = true\narchive_size = {size}\n{extra}")


def add_posts(site: Path, first: int, count: int, categories: tuple[str, ...] = (), tags: tuple[str, ...] = ()
              ) -> None:
    """Posts ``first`` .. ``first + count - 1``, one day apart (post i is dated START + i days)."""
    for i in range(first, first + count):
        fm: dict[str, Any] = {"title": f"Post {i}", "date": (START + timedelta(days=i)).isoformat()}
        if categories:
            fm["categories"] = [categories[i % len(categories)]]
        if tags:
            fm["tags"] = list(tags)
        write_post(site, f"p{i:04d}.md", fm, f"Paragraph of post {i}.\n")


def post_id(i: int) -> str:
    return f"{URL}p{i:04d}/"


def _documents(output: Path, folder: str, fmt: str) -> list[tuple[str, Any, bytes]]:
    """Walk from ``folder``'s subscription document in ``fmt`` along ``prev-archive`` (``next_url`` in JSON Feed):
    (output-relative path, what a reader makes of it, bytes) per document, the subscription document first."""
    rel = f"{folder}/{SUBSCRIPTION[fmt]}" if folder else SUBSCRIPTION[fmt]
    docs: list[tuple[str, Any, bytes]] = []
    while rel is not None:
        assert rel not in [d[0] for d in docs], f"{rel}: a loop"
        data = (output / rel).read_bytes()
        parsed = validate_feed_bytes(data, rel)
        docs.append((rel, parsed, data))
        target = _older(parsed, fmt)
        assert target is None or target.startswith(URL), target
        rel = target.removeprefix(URL) if target else None
    return docs


def _links(parsed: Any) -> dict[str, str]:
    links = [(link["rel"], link["href"]) for link in parsed.feed.links]
    assert len(dict(links)) == len(links), f"a relation twice: {links}"
    return dict(links)


def _older(parsed: Any, fmt: str) -> str | None:
    if fmt == "json":
        return parsed.get("next_url")
    return _links(parsed).get("prev-archive")


def _ids(parsed: Any, fmt: str) -> list[str]:
    return [item["id"] for item in parsed["items"]] if fmt == "json" else [e.id for e in parsed.entries]


def walk(output: Path, folder: str, fmt: str) -> list[str]:
    """Every post id a reader collects walking back from the subscription document, in walking order (newest
    first), after checking the RFC 5005 markup of each document on the way."""
    docs = _documents(output, folder, fmt)
    subscription_url = URL + docs[0][0]
    ids: list[str] = []
    for n, (rel, parsed, data) in enumerate(docs):
        is_archive = n > 0
        if fmt == "json":
            assert parsed["feed_url"] == subscription_url, rel
            assert ("hubs" in parsed) == (not is_archive and "hubs" in docs[0][1]), rel
        else:
            root = etree.fromstring(data)
            marks = root.findall(f".//{FH_ARCHIVE}")
            assert len(marks) == int(is_archive), f"{rel}: fh:archive only in archive documents"
            links = _links(parsed)
            assert links["self"] == URL + rel
            if is_archive:
                assert links["current"] == subscription_url, rel
                # next-archive: the document the walk came from, unless that was the subscription document
                expected_next = URL + docs[n - 1][0] if n > 1 else None
                assert links.get("next-archive") == expected_next, rel
            else:
                assert "current" not in links and "next-archive" not in links
            if fmt == "atom":  # one feed: every document has the subscription document's id
                assert root.findtext("{http://www.w3.org/2005/Atom}id") == URL + docs[0][0].replace(
                    SUBSCRIPTION[fmt], "atom.xml"
                )
        if is_archive:  # numbered from the oldest: the walk meets archive N, N-1, ..., 1
            assert rel.endswith(f"archive/{SUBSCRIPTION[fmt].split('.')[0]}-{len(docs) - n}."
                                + SUBSCRIPTION[fmt].split('.')[1]), rel
        ids += _ids(parsed, fmt)
    return ids


# --- the split itself, over any numbers -------------------------------------------------------------------


@given(n=st.integers(0, 400), limit=st.integers(1, 60), size=st.integers(1, 60))
def test_split_covers_every_post_once_and_never_moves_an_archived_one(n: int, limit: int, size: int) -> None:
    posts = tuple(range(n, 0, -1))  # newest first, as the plan gives them; ints stand in for posts
    feed = Feed("site", "t", "t", "", posts, ("atom",))  # type: ignore[arg-type]
    subscription, archives = split(feed, limit, size)
    walked = [*subscription.posts, *(p for a in reversed(archives) for p in a.posts)]
    assert walked == list(posts)  # every post once, newest first along prev-archive
    assert all(len(a.posts) == size for a in archives)
    assert len(subscription.posts) == n if n < limit + size else limit <= len(subscription.posts) < limit + size
    # One more post: every archive keeps its posts and number; at most one new archive.
    more_posts = (n + 1, *posts)
    more, more_archives = split(Feed("site", "t", "t", "", more_posts, ("atom",)), limit, size)  # type: ignore[arg-type]
    assert [a.posts for a in more_archives[: len(archives)]] == [a.posts for a in archives]
    assert len(more_archives) - len(archives) in (0, 1)


# --- end to end ---------------------------------------------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 14), limit=st.integers(1, 4), size=st.integers(1, 4))
def test_walking_back_finds_every_post_exactly_once(tmp_path_factory: pytest.TempPathFactory, n: int, limit: int,
                                                    size: int) -> None:
    site = archived_site(tmp_path_factory.mktemp("walk"), limit, size)
    add_posts(site, 0, n, categories=("News", "Culture"))
    report = run_build(site)
    assert not report.rejected and not report.warnings
    output = site / "output"
    expected = {
        "": [post_id(i) for i in range(n - 1, -1, -1)],
        "categories/news": [post_id(i) for i in range(n - 1, -1, -1) if i % 2 == 0],
        "categories/culture": [post_id(i) for i in range(n - 1, -1, -1) if i % 2 == 1],
    }
    for folder, ids in expected.items():
        if not ids and folder:
            continue  # a category without posts has no feed
        for fmt in FORMATS:
            assert walk(output, folder, fmt) == ids, (folder, fmt)


def test_every_archive_file_is_valid_and_styled(tmp_path: Path) -> None:
    site = archived_site(tmp_path / "site", 2, 3, "tag_feeds = true\n")
    add_posts(site, 0, 11, categories=("News", "서울 소식"), tags=("a", "b"))
    run_build(site)
    files = output_files(site / "output")
    archives = {rel: data for rel, data in files.items() if "/archive/" in f"/{rel}"}
    # 11 posts, limit 2, size 3: the site and tag feeds have 3 archives, each category (6 and 5 posts) 1.
    assert len(archives) == 3 * (3 + 1 + 1 + 3 + 3)
    check_feed_files(archives)
    assert files["categories/news/archive/atom-1.xml"].splitlines()[1] == (
        b'<?xml-stylesheet type="text/xsl" href="../../../feed.xsl"?>'
    )
    assert files["archive/rss-2.xml"].splitlines()[1] == b'<?xml-stylesheet type="text/xsl" href="../feed.xsl"?>'


def test_archives_off_writes_none_and_keeps_the_limit(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "[build]\nlimit = 2\n")
    add_posts(site, 0, 5)
    run_build(site)
    files = output_files(site / "output")
    assert not [rel for rel in files if "archive" in rel]
    assert json.loads(files["feed.json"])["items"][0]["id"] == post_id(4)
    assert len(json.loads(files["feed.json"])["items"]) == 2 and b"prev-archive" not in files["atom.xml"]


def _feed_writes(written: list[str], folder: str, fmt: str) -> set[str]:
    name = SUBSCRIPTION[fmt]
    stem, ext = name.split(".")
    prefix = f"{folder}/" if folder else ""
    return {rel for rel in written
            if rel == prefix + name or rel.startswith(f"{prefix}archive/{stem}-") and rel.endswith(f".{ext}")}


def test_one_new_post_rewrites_the_subscription_document_and_at_most_the_new_archive(tmp_path: Path) -> None:
    """Post by post from nothing to 15 (limit 2, archive_size 3): each build rewrites the subscription document;
    when the post completes a chunk, also the new archive; and in Atom and RSS the archive before it gains its
    next-archive link (RFC 5005: SHOULD, once a later archive exists), its entries unchanged."""
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    output = site / "output"
    before: dict[str, bytes] = {}
    for n in range(1, 16):
        add_posts(site, n - 1, 1)
        report = run_build(site, now=NOW + timedelta(hours=n))  # the clock moves on: archives must not care
        assert report.result is not None
        count = max(0, (n - 2) // 3)
        new_archive = count > max(0, (n - 3) // 3)
        for fmt in FORMATS:
            stem, ext = SUBSCRIPTION[fmt].split(".")
            expected = {SUBSCRIPTION[fmt]}
            if new_archive:
                expected.add(f"archive/{stem}-{count}.{ext}")
                if count > 1 and fmt != "json":  # JSON's next_url only points back: the older archive is as it was
                    expected.add(f"archive/{stem}-{count - 1}.{ext}")
            assert _feed_writes(report.result.written, "", fmt) == expected, (n, fmt)
        after = output_files(output)
        for rel, data in before.items():
            if "/" in rel and rel in after and data != after[rel]:  # the older archive, once: only its link
                old, new = etree.fromstring(data), etree.fromstring(after[rel])
                for root in (old, new):
                    for link in root.iter("{http://www.w3.org/2005/Atom}link"):
                        if link.get("rel") == "next-archive":
                            link.getparent().remove(link)
                assert etree.tostring(old) == etree.tostring(new), rel
        before = after
        assert walk(output, "", "atom") == [post_id(i) for i in range(n - 1, -1, -1)]


def test_a_build_without_cache_gives_the_same_archives(tmp_path: Path) -> None:
    site = archived_site(tmp_path / "site", 3, 4)
    add_posts(site, 0, 20, categories=("News",))
    run_build(site)
    add_posts(site, 20, 3, categories=("News",))
    run_build(site, now=NOW + timedelta(days=1))
    warm = output_files(site / "output")
    for folder in (site / ".feedwright", site / "output"):
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
    run_build(site, now=NOW + timedelta(days=2))
    assert output_files(site / "output") == warm


def test_an_unchanged_archive_is_neither_rendered_nor_serialised_again(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = archived_site(tmp_path / "site", 2, 5, "category_feeds = false\n")
    add_posts(site, 0, 23)
    run_build(site)
    rendered: list[str] = []
    serialised: list[str] = []
    render_all, serialiser = building._render_all, memo._serialiser

    def counting_render(site_: Any, posts: list[Any], *args: Any, **kwargs: Any) -> Any:
        rendered.extend(p.source for p in posts)
        return render_all(site_, posts, *args, **kwargs)

    def counting_serialiser(fmt: str) -> Any:
        def serialise(site_: Any, feed: Feed, entries: list[Any]) -> bytes:
            serialised.append(feed.path(fmt))
            return serialiser(fmt)(site_, feed, entries)
        return serialise

    monkeypatch.setattr(building, "_render_all", counting_render)
    monkeypatch.setattr(memo, "_serialiser", counting_serialiser)
    add_posts(site, 23, 1)
    report = run_build(site)
    assert not report.warnings
    assert rendered == ["p0023.md"]
    # 24 posts: 4 archives (posts 0-19), as with 23: only the subscription documents are made again.
    assert sorted(serialised) == ["atom.xml", "feed.json", "rss.xml"]
    assert report.result is not None and sorted(report.result.written) == ["atom.xml", "feed.json", "index.html",
                                                                         "rss.xml"]
    # Nor read back and compared: the cache vouches for them (their posts, images and the file's stat).
    assert not [rel for rel in report.files if rel.startswith("archive/")]
    assert len([rel for rel in report.result.unchanged if rel.startswith("archive/")]) == 4 * 3


def _archive_of_post_0(site: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in output_files(site / "output").items() if rel.startswith("archive/")
            and rel.split("-")[1].startswith("1.")}


def test_an_archive_file_changed_by_hand_is_written_again(tmp_path: Path) -> None:
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 9)
    run_build(site)
    good = _archive_of_post_0(site)
    (site / "output" / "archive" / "atom-1.xml").write_bytes(b"<feed/>")
    report = run_build(site)
    assert report.result is not None and report.result.written == ["archive/atom-1.xml"]
    assert _archive_of_post_0(site) == good


def test_an_archived_post_image_growing_rewrites_its_archive(tmp_path: Path) -> None:
    """The enclosure's length is the image file's size: the archive showing it follows the file."""
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 9)
    (site / "content" / "img.png").write_bytes(b"x" * 10)
    path = site / "content" / "p0000.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n\n", "image: /img.png\n---\n\n"),
                    encoding="utf-8")
    run_build(site)
    (site / "content" / "img.png").write_bytes(b"x" * 20)
    report = run_build(site)
    assert report.result is not None
    assert sorted(report.result.written) == ["archive/atom-1.xml", "archive/rss-1.xml"]  # JSON: the URL only
    assert b'length="20"' in (site / "output" / "archive" / "atom-1.xml").read_bytes()


def test_an_archived_post_with_liquid_follows_the_posts_it_shows(tmp_path: Path) -> None:
    """Liquid may show other posts: such a post's archive is made again each build, never taken as it was."""
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 9)
    path = site / "content" / "p0000.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nThere are {{ site.posts | size }} posts.\n",
                    encoding="utf-8")
    run_build(site)
    assert b"There are 9 posts." in (site / "output" / "archive" / "atom-1.xml").read_bytes()
    add_posts(site, 9, 1)
    report = run_build(site)
    assert report.result is not None and "archive/atom-1.xml" in report.result.written
    assert b"There are 10 posts." in (site / "output" / "archive" / "atom-1.xml").read_bytes()
    assert run_build(site).result.written == []  # type: ignore[union-attr]


def test_editing_an_old_post_rewrites_only_its_archive(tmp_path: Path) -> None:
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 12)
    run_build(site)
    path = site / "content" / "p0004.md"  # in archive 2 (posts 3-5)
    path.write_text(path.read_text(encoding="utf-8").replace("Paragraph of", "Corrected paragraph of"),
                    encoding="utf-8")
    report = run_build(site)
    assert report.result is not None
    assert sorted(report.result.written) == ["archive/atom-2.xml", "archive/feed-2.json", "archive/rss-2.xml"]


def test_the_plan_from_the_cache_keeps_the_archives(tmp_path: Path) -> None:
    site = archived_site(tmp_path / "site", 2, 3)
    add_posts(site, 0, 9, categories=("News",))
    first = run_build(site)
    again = run_build(site)  # nothing changed: the plan comes from the cache
    assert again.result is not None and again.result.written == [] and not again.warnings
    made = plan(load_site(site), first.collection.posts, NOW)
    assert [f.path("atom") for f in made.archives] == [
        "archive/atom-1.xml", "archive/atom-2.xml", "categories/news/archive/atom-1.xml",
        "categories/news/archive/atom-2.xml",
    ]


@pytest.mark.parametrize(("line", "message"), [
    ("archive_size = 0", "build.archive_size"),
    ('archives = "yes"', "build.archives"),
    ("archive_sise = 10", "did you mean 'build.archive_size'"),
])
def test_bad_archive_settings_are_config_errors(tmp_path: Path, line: str, message: str) -> None:
    site = make_site(tmp_path / "site", f"[build]\n{line}\n")
    with pytest.raises(ConfigError, match=message):
        load_site(site)


def test_a_feed_and_its_archives_are_one_manifest_group(tmp_path: Path) -> None:
    """A read error under a post of any archive holds the feed and all its archives (keep.hold works per group):
    publishing the rest would move every later post to another archive."""
    from feedwright.pipeline.keep import groups, hold

    site = archived_site(tmp_path / "site", 2, 3)
    add_posts(site, 0, 9, categories=("News",))
    made = run_build(site)
    both = groups([*made.feeds, *plan(load_site(site), made.collection.posts, NOW).archives])
    assert [[f for f in g["files"] if "atom" in f] for g in both] == [
        ["atom.xml", "archive/atom-1.xml", "archive/atom-2.xml"],
        ["categories/news/atom.xml", "categories/news/archive/atom-1.xml", "categories/news/archive/atom-2.xml"],
    ]
    assert both[0]["sources"] == [f"p{i:04d}.md" for i in range(9)]
    held = hold([f for g in both for f in g["files"]], both, ["p0001.md"])  # in archive 1 of both feeds
    assert held.files == frozenset(f for g in both for f in g["files"])


def test_author_and_custom_feeds_get_archives_with_their_own_limit_and_formats(tmp_path: Path) -> None:
    """Every kind of feed gets archives: per-author feeds, and custom feeds cut at their own limit, in their own
    formats."""
    site = archived_site(tmp_path / "site", 3, 2, 'author_feeds = true\ncategory_feeds = false\n'
                         '[[feeds]]\nname = "News only"\npath = "only/news"\ncategories = ["News"]\nlimit = 1\n'
                         'formats = ["atom"]\n')
    add_posts(site, 0, 12, categories=("News", "Culture"))
    for i in range(12):
        path = site / "content" / f"p{i:04d}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("---\n\n", "author: Jane Doe\n---\n\n"),
                        encoding="utf-8")
    report = run_build(site)
    assert not report.rejected and not report.warnings
    output = site / "output"
    news = [post_id(i) for i in range(10, -1, -2)]  # 6 posts, limit 1, size 2: 2 archives, 2 in the subscription
    assert walk(output, "only/news", "atom") == news
    assert sorted(rel for rel in output_files(output) if rel.startswith("only/news/")) == [
        "only/news/archive/atom-1.xml", "only/news/archive/atom-2.xml", "only/news/atom.xml",
    ]
    assert len(_documents(output, "only/news", "atom")[0][1].entries) == 2
    everyone = [post_id(i) for i in range(11, -1, -1)]
    for fmt in FORMATS:
        assert walk(output, "authors/jane-doe", fmt) == everyone
    check_feed_files({rel: data for rel, data in output_files(output).items() if "/archive/" in rel})


def test_archives_carry_no_hub_links(tmp_path: Path) -> None:
    """An archive never changes: WebSub's hub is announced in the subscription documents only (the walk checks
    JSON's hubs; here the RSS and Atom links)."""
    site = archived_site(tmp_path / "site", 2, 3, 'category_feeds = false\n[websub]\nhubs = ["http://127.0.0.1:9/"]\n'
                         "timeout = 1\n")
    add_posts(site, 0, 8)
    run_build(site)  # the hub refuses: one warning, the feeds are published all the same
    output = site / "output"
    for fmt in FORMATS:
        docs = _documents(output, "", fmt)
        assert len(docs) == 3
        hubbed = [("hubs" in parsed) if fmt == "json" else ("hub" in _links(parsed)) for _, parsed, _ in docs]
        assert hubbed == [True, False, False], fmt
        walk(output, "", fmt)


@pytest.mark.parametrize(("name", "ctype"), [
    ("rss-3.xml", "application/rss+xml; charset=utf-8"),
    ("atom-12.xml", "application/atom+xml; charset=utf-8"),
    ("feed-1.json", "application/feed+json; charset=utf-8"),
    ("notes-1.xml", "application/xml; charset=utf-8"),
    ("rss-0.xml", "application/xml; charset=utf-8"),
])
def test_the_preview_server_serves_an_archive_as_its_format(name: str, ctype: str) -> None:
    from feedwright.ops.serve import content_type

    assert content_type(name) == ctype


def test_golden_archived_site_feed(tmp_path: Path) -> None:
    """The example site's site-wide feed with archives (limit 2, archive_size 3: two archives of three posts, three
    posts in the subscription document), byte for byte: ``tests/golden_feeds/archives``."""
    site = copy_example_site(tmp_path)
    config = site / "feedwright.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("limit = 50", "limit = 2\narchives = true\n"
                                                                 "archive_size = 3"), encoding="utf-8")
    run_build(site)
    files = output_files(site / "output")
    site_wide = {rel: data for rel, data in files.items()
                 if "/" not in rel.removeprefix("archive/") and rel.endswith((".xml", ".json")) and rel != "feed.xsl"}
    assert_golden(site_wide, REPO / "tests" / "golden_feeds" / "archives")


def test_deleting_an_archived_post_moves_the_later_ones_and_loses_none(tmp_path: Path) -> None:
    """The README's warning: a deleted post shifts every later archive by one place (each is rewritten), and the
    walk still finds every remaining post exactly once."""
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 12)
    run_build(site)
    (site / "content" / "p0004.md").unlink()  # archive 2 of 3
    report = run_build(site)
    assert report.result is not None
    assert sorted(report.result.written) == sorted(
        [f"archive/{stem}-{n}.{ext}" for stem, ext in (("atom", "xml"), ("rss", "xml"), ("feed", "json"))
         for n in (2, 3)] + ["atom.xml", "rss.xml", "feed.json", "index.html"]
    )
    for fmt in FORMATS:
        assert walk(site / "output", "", fmt) == [post_id(i) for i in range(11, -1, -1) if i != 4]


def test_the_browser_view_of_an_archive_points_to_the_feed_to_subscribe_to(tmp_path: Path) -> None:
    """feed.xsl on an archive: the address to copy is the subscription document's, with links to the newer and
    older documents; on the subscription document, its own address and the older posts."""
    site = archived_site(tmp_path / "site", 2, 3, "category_feeds = false\n")
    add_posts(site, 0, 12)
    run_build(site)
    output = site / "output"
    transform = etree.XSLT(etree.parse(str(output / "feed.xsl")))

    def page(rel: str) -> tuple[str, str, dict[str, str]]:
        from lxml import html as lxml_html

        shown = lxml_html.fromstring(str(transform(etree.parse(str(output / rel)))))
        links = {a.text_content().strip(): a.get("href") for a in shown.iterfind(".//p[@class='links']/a")}
        return shown.findtext(".//p[@class='address']/code"), shown.findtext(".//main/h2").strip(), links

    for fmt in ("rss", "atom"):
        address, heading, links = page(f"archive/{fmt}-2.xml")
        assert address == f"{URL}{fmt}.xml" and heading == "Archived posts"
        assert links["Newer posts"] == f"{URL}archive/{fmt}-3.xml"
        assert links["Older posts"] == f"{URL}archive/{fmt}-1.xml"
        address, heading, links = page(f"archive/{fmt}-3.xml")  # the newest: next is the subscription document
        assert links["Newer posts"] == f"{URL}{fmt}.xml"
        address, heading, links = page(f"{fmt}.xml")
        assert address == f"{URL}{fmt}.xml" and heading == "Recent posts" and "Newer posts" not in links
        assert links["Older posts"] == f"{URL}archive/{fmt}-3.xml"
