"""The hostile corpus: every file under ``tests/hostile/content`` (plus the generated cases below) has a fate.

For the whole corpus: the build finishes without a traceback, each bad file is named with its reason, every
other post is published, every feed is valid (feedparser, Atom RELAX NG, JSON Feed schema) and safe, and
nothing is written outside ``output/`` and ``.feedwright/``. ``tests/hostile/expected.toml`` holds the fates of
the committed files; ``GENERATED`` those of the files this module makes (binary, encodings, huge, symlinks).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import NOW, check_feed_files, output_files, run_build
from feedwright.build import BuildReport

HOSTILE = Path(__file__).parent / "hostile"
EXPECTED: dict[str, str] = tomllib.loads((HOSTILE / "expected.toml").read_text(encoding="utf-8"))["fates"]
PWNED = Path("/tmp/feedwright-hostile-pwned")  # what the !!python/object cases would create if they ran
SITE_URL = "https://news.example.org/"
CONFIG = f'[site]\ntitle = "Hostile"\nurl = "{SITE_URL}"\n[build]\nlimit = 500\ntag_feeds = true\n'

GENERATED: dict[str, str] = {
    "generated/binary.png": "ignored",
    "generated/binary-fenced.md": "rejected: not UTF-8 text (bad byte at offset",
    "generated/nul-byte.md": "published",
    "generated/c0-controls.md": "published",
    "generated/cp949.md": "rejected: it looks like CP949/EUC-KR); save the file as UTF-8",
    "generated/euc-kr.md": "rejected: it looks like CP949/EUC-KR",
    "generated/latin1.md": "rejected: it looks like Latin-1/Windows-1252); save the file as UTF-8",
    "generated/bom.md": "published",
    "generated/crlf.md": "published",
    "generated/cr-only.md": "published",
    "generated/mixed-line-ends.md": "published",
    "generated/huge.md": "rejected: larger than build.max_file_size (1,048,576)",
    "generated/long-title.md": "rejected: title is 100,000 characters long; at most 1,000 are allowed",
    "generated/deep-html.md": "published",
    "generated/link-inside.md": "published",
    "generated/link-outside.md": "skipped: symlink to a file outside the content folder",
    "generated/link-loop.md": "skipped: symlink to nothing",
    "generated/link-broken.md": "skipped: symlink to nothing",
    "generated/linked-folder": "skipped: symlinked folder; not entered",
    "generated/loop-folder": "skipped: symlinked folder; not entered",
    "generated/pipe.md": "skipped: not a regular file",
}
FATES = {**EXPECTED, **GENERATED}
CONTROL_CHARS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")


def _generate(content: Path, outside: Path) -> None:
    """The cases that are not text files: written at test time so the repository holds no binaries or links."""
    gen = content / "generated"
    gen.mkdir()
    (gen / "binary.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (gen / "binary-fenced.md").write_bytes(b"---\ntitle: x\n---\n" + bytes(range(256)) * 8)
    (gen / "nul-byte.md").write_bytes(b"---\ntitle: A NUL\x00 in the title\n---\nBody with a NUL\x00 byte.\n")
    (gen / "c0-controls.md").write_text(
        f"---\ntitle: 'Controls{CONTROL_CHARS}in the title'\ncategories: ['cat{CONTROL_CHARS[:5]}']\n---\n"
        f"Body with controls{CONTROL_CHARS}inside.\n", encoding="utf-8")
    korean = "---\ntitle: 서울시 디지털 성범죄 대응\n---\n시민의 안전을 최우선으로 삼아 새로운 정책을 발표했다.\n"
    (gen / "cp949.md").write_bytes(korean.encode("cp949"))
    (gen / "euc-kr.md").write_bytes(korean.encode("euc-kr"))
    (gen / "latin1.md").write_bytes("---\ntitle: Café crème\n---\nDéjà vu à Noël.\n".encode("latin-1"))
    post = "---\ntitle: {}\n---\nFirst line.\nSecond line.\n\nSecond paragraph.\n"
    (gen / "bom.md").write_bytes(b"\xef\xbb\xbf" + post.format("Starts with a BOM").encode())
    (gen / "crlf.md").write_bytes(post.format("CRLF line ends").replace("\n", "\r\n").encode())
    (gen / "cr-only.md").write_bytes(post.format("CR line ends").replace("\n", "\r").encode())
    (gen / "mixed-line-ends.md").write_bytes(b"---\r\ntitle: Mixed line ends\n---\r\rBody\r\nmore\n")
    with (gen / "huge.md").open("wb") as fh:
        fh.write(b"---\ntitle: Huge\n---\n")
        fh.truncate(1024 * 1024 + 1)  # one byte over the default cap; sparse, so cheap
    (gen / "long-title.md").write_text(f"---\ntitle: {'x' * 100_000}\n---\nBody.\n", encoding="utf-8")
    (gen / "deep-html.md").write_text("---\ntitle: Deep HTML\n---\n" + "<div>" * 20_000 + "deep text", encoding="utf-8")
    (outside / "secret.md").write_text("---\ntitle: Outside content, must not be published\n---\nSecret.\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "post.md").write_text("---\ntitle: Outside too\n---\nSecret.\n")
    os.symlink("../ok/plain.md", gen / "link-inside.md")
    os.symlink(outside / "secret.md", gen / "link-outside.md")
    os.symlink("link-loop.md", gen / "link-loop.md")
    os.symlink("does-not-exist.md", gen / "link-broken.md")
    os.symlink(outside / "folder", gen / "linked-folder")
    os.symlink(".", gen / "loop-folder")
    os.mkfifo(gen / "pipe.md")  # reading it would block the build forever


def _tree(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """Digest of every file (and symlink target) under ``root`` outside ``skip``: what a build must not touch."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) not in skip]
        for name in files:
            path = Path(folder, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[rel] = "special"
    return found


@dataclass
class Corpus:
    root: Path
    site: Path
    check: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]
    report: BuildReport
    seconds: float
    before: dict[str, str]
    after: dict[str, str]


def _feedwright(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    return subprocess.run([sys.executable, "-m", "feedwright", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    PWNED.unlink(missing_ok=True)
    root = tmp_path_factory.mktemp("hostile")
    site, outside = root / "site", root / "outside"
    site.mkdir()
    outside.mkdir()
    (site / "feedwright.toml").write_text(CONFIG, encoding="utf-8")
    shutil.copytree(HOSTILE / "content", site / "content")
    _generate(site / "content", outside)
    skip = (site / "output", site / ".feedwright")
    before = _tree(root, skip)
    check = _feedwright("check", "--site", str(site))
    assert not (site / "output").exists(), "check wrote output/"
    build = _feedwright("build", "--site", str(site))
    started = time.monotonic()
    report = run_build(site)
    seconds = time.monotonic() - started
    return Corpus(root, site, check, build, report, seconds, before, _tree(root, skip))


def _fate_of(report: BuildReport, rel: str) -> str:
    shown = f"content/{rel}"
    posts = {p.source: p for p in report.collection.posts}
    if rel in posts:
        return "draft" if posts[rel].draft else "published"
    reasons = [e.reason for e in report.rejected if e.path == shown]
    if reasons:
        return "rejected: " + " | ".join(reasons)
    if shown in report.collection.ignored:
        return "ignored"
    skipped = [w.removeprefix(shown + ": ") for w in report.warnings if w.startswith(shown + ": ")]
    if skipped:
        return "skipped: " + " | ".join(skipped)
    return "absent"


def test_every_committed_file_has_a_fate() -> None:
    on_disk = {p.relative_to(HOSTILE / "content").as_posix() for p in (HOSTILE / "content").rglob("*") if p.is_file()}
    assert on_disk == set(EXPECTED), "add the fate of each new corpus file to tests/hostile/expected.toml"


@pytest.mark.parametrize("rel", sorted(FATES))
def test_fate(corpus: Corpus, rel: str) -> None:
    expected, actual = FATES[rel], _fate_of(corpus.report, rel)
    kind, _, reason = expected.partition(": ")
    assert actual.partition(": ")[0] == kind, f"{rel}: expected {expected!r}, got {actual!r}"
    assert reason in actual, f"{rel}: expected {expected!r}, got {actual!r}"


def test_nothing_unexpected_was_rejected_or_skipped(corpus: Corpus) -> None:
    named = {f"content/{rel}" for rel in FATES}
    assert {e.path for e in corpus.report.rejected} <= named
    # A warning names its file, and for Liquid the line too ("content/a.md:4: Liquid tag ...").
    assert all(re.sub(r":\d+$", "", w.split(": ", 1)[0]) in named for w in corpus.report.warnings)


def test_build_is_fast_despite_bombs(corpus: Corpus) -> None:
    assert corpus.seconds < 10, f"the hostile corpus took {corpus.seconds:.1f} s"


def test_check_lists_every_bad_file_with_its_reason_and_exits_1(corpus: Corpus) -> None:
    result = corpus.check
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    for rel, fate in FATES.items():
        kind, _, reason = fate.partition(": ")
        if kind in ("rejected", "skipped"):
            prefix = "warning: " if kind == "skipped" else ""
            assert any(line.startswith(f"{prefix}content/{rel}: ") and reason in line for line in lines), (
                f"{rel} ({fate}) not listed by check:\n{result.stderr}"
            )


def test_build_subprocess_exits_1_without_traceback_and_publishes(corpus: Corpus) -> None:
    result = corpus.build
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "posts published" in result.stdout


def test_every_live_post_is_in_the_site_feed(corpus: Corpus) -> None:
    site_feed = json.loads((corpus.site / "output" / "feed.json").read_bytes())
    sources = {p.id: p.source for p in corpus.report.collection.posts}
    in_feed = {sources[item["id"]] for item in site_feed["items"]}
    published = {rel for rel, fate in FATES.items() if fate == "published"}
    assert in_feed == published


def test_every_feed_is_valid_and_its_html_safe(corpus: Corpus) -> None:
    files = output_files(corpus.site / "output")
    assert files.keys() == corpus.report.files.keys()
    assert len(files) > 30  # site feed, categories and tags, in three formats
    check_feed_files(files)


def test_no_control_characters_or_live_markup_reach_any_feed(corpus: Corpus) -> None:
    for rel, data in output_files(corpus.site / "output").items():
        text = data.decode("utf-8")
        assert not set(text) & set(CONTROL_CHARS), rel
        assert not re.search(r"\\u00[01][0-9a-fA-F]", text), f"{rel}: an escaped control character"
        if rel.endswith(".json"):
            for item in json.loads(text)["items"]:
                html = item.get("content_html", "").lower()
                assert "<script" not in html and "javascript:" not in html and "onerror" not in html, rel
                assert "alert(" not in item["summary"], f"{rel}: script text in the summary {item['summary']!r}"


def test_sanitised_posts_keep_their_real_text(corpus: Corpus) -> None:
    entries = {p.source: p for p in corpus.report.collection.posts}
    doc = json.loads((corpus.site / "output" / "feed.json").read_bytes())
    items = {item["id"]: item for item in doc["items"]}
    for rel in ("markup/xss-body.md", "markup/xss-html.html"):
        assert "The real text survives." in items[entries[rel].id]["content_html"]
    assert items[entries["markup/xss-excerpt.md"].id]["summary"] == "Plain summary"
    assert items[entries["generated/deep-html.md"].id]["content_html"] == "<p>deep text</p>"
    assert entries["generated/c0-controls.md"].title == "Controlsin the title"


def test_nothing_is_written_outside_output_and_the_state_folder(corpus: Corpus) -> None:
    assert corpus.after == corpus.before
    assert not PWNED.exists(), "a YAML tag ran a command"
    output = (corpus.site / "output").resolve()
    for path in output.rglob("*"):
        assert output in path.resolve().parents
    categories = sorted(p.name for p in (output / "categories").iterdir())
    assert not {"", ".", "..", "con", "nul", "com1", "prn", "lpt9"} & set(categories), categories


def test_permalinks_never_climb_above_the_site(corpus: Corpus) -> None:
    for post in corpus.report.collection.posts:
        assert post.url.startswith(SITE_URL), post.url
        assert "/../" not in post.url and "%2e%2e" not in post.url.lower(), post.url


BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
)


def test_alias_bombs_stay_within_a_memory_and_time_bound(tmp_path: Path) -> None:
    """A real billion laughs under every key feedwright reads, checked in a process limited to 1 GiB."""
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    for key in ("categories", "category", "tags", "tag", "author", "authors", "title", "excerpt", "image", "draft",
                "published", "date", "updated", "id", "permalink", "slug", "header", "unused"):
        title = "" if key == "title" else "title: Bomb\n"
        (site / "content" / f"{key}.md").write_text(f"---\n{title}{BOMB}\n{key}: *i\n---\nBody.\n", encoding="utf-8")
    limit = (
        "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        "sys.argv = ['feedwright', 'check', '--site', sys.argv[1]]; runpy.run_module('feedwright', run_name='__main__')"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", limit, str(site)], capture_output=True, text=True, timeout=60)
    seconds = time.monotonic() - started
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1, result.stderr
    assert seconds < 15, f"{seconds:.1f} s"
    listed = {line.split(": ", 1)[0] for line in result.stderr.splitlines()}
    assert {f"content/{key}.md" for key in ("categories", "tags", "author", "title", "draft")} <= listed


def _merge_key_bomb(levels: int) -> str:
    """YAML merge keys (``<<``) over doubled aliases: PyYAML before 6.0.4 copied each level twice, 2**levels pairs
    from under a kilobyte (yaml/pyyaml#897)."""
    lines = ["l0: &l0 {k: v}"]
    lines += [f"l{n}: &l{n} {{<<: [*l{n - 1}, *l{n - 1}], k{n}: v}}" for n in range(1, levels + 1)]
    return "\n".join([*lines, f"<<: [*l{levels}, *l{levels}]"])


def test_merge_key_bombs_stay_within_a_memory_and_time_bound(tmp_path: Path) -> None:
    """The PyYAML floor (>= 6.0.4): a merge-key bomb is harmless, in a process limited to 1 GiB, and the other
    posts publish. On 6.0.3 the same 1 KB post needs gigabytes and the whole build dies of MemoryError."""
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "feedwright.toml").write_text(f'[site]\ntitle = "Bombs"\nurl = "{SITE_URL}"\n', encoding="utf-8")
    bomb = _merge_key_bomb(24)
    assert len(bomb) < 1100
    (site / "content" / "bomb.md").write_text(f"---\ntitle: Bomb\ndate: 2024-01-01\n{bomb}\n---\nBody.\n", "utf-8")
    (site / "content" / "under-a-key.md").write_text(
        f"---\ntitle: Bomb\ndate: 2024-01-01\nunused:\n  {bomb.replace(chr(10), chr(10) + '  ')}\n---\nBody.\n", "utf-8"
    )
    for n in range(2):
        (site / "content" / f"good-{n}.md").write_text(f"---\ntitle: Good {n}\ndate: 2024-01-0{n + 2}\n---\nFine.\n",
                                                     encoding="utf-8")
    limit = (
        "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        "sys.argv = ['feedwright', 'build', '--site', sys.argv[1]]; runpy.run_module('feedwright', run_name='__main__')"
    )
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", limit, str(site)], capture_output=True, text=True, timeout=120,
                            env=env)
    seconds = time.monotonic() - started
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1), result.stderr  # the bomb posts published harmlessly, or rejected
    assert seconds < 15, f"{seconds:.1f} s"
    titles = [item["title"] for item in json.loads((site / "output" / "feed.json").read_bytes())["items"]]
    assert {"Good 0", "Good 1"} <= set(titles)


def test_html_depth_guard_leaves_real_articles_alone() -> None:
    from feedwright.pipeline.text import too_deep

    article = "<div><ul>" + "<li><ul>" * 20 + "<li>deep list" + "</ul>" * 20 + "</ul></div>"
    assert not too_deep(article)
    assert not too_deep("<p>unclosed paragraph " * 10_000)  # optional end tags do not count
    assert not too_deep("<br><img src=x><hr/>" * 10_000)
    assert too_deep("<div>" * 513)
    assert too_deep("<span>" * 600 + "</div>" * 600)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://e.org/a.png", "https://e.org/a.png"),
        ("https://e.org/a%20b.png?x=1#f", "https://e.org/a%20b.png?x=1#f"),  # already encoded: unchanged
        ("https://e.org/a <b>\"|^`.png", "https://e.org/a%20%3Cb%3E%22%7C%5E%60.png"),
        ("https://e.org/100%.png", "https://e.org/100%25.png"),
        ("https://e.org/사진.png", "https://e.org/%EC%82%AC%EC%A7%84.png"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),
    ],
)
def test_uri_encoded(url: str, expected: str) -> None:
    from feedwright.pipeline.normalise import uri_encoded

    assert uri_encoded(url) == expected
