"""A deterministic benchmark site: N posts of 3-6 KB in Korean and English, 20 categories, tags and images.

    .venv/bin/python benchmarks/generate.py DIR N [--plain]

Every post has Markdown paragraphs, a table, a raw HTML block and links; most have an image. Dates spread over
2014-2025; one post in eight has its date only in the file name, about one in 200 is a draft and one in 300 is
dated in the future. The same N always gives the same bytes (``random.Random`` seeded with N).

By default the site is written as a Jekyll user's posts would be: kramdown-dialect Markdown (``[build] markdown
= "kramdown"``, what a Jekyll site's ``_config.yml`` selects) and a line of Liquid closing every post (its
categories and date through filters; one post in five also links an older post with ``{% post_url %}``). Liquid
is not a setting: any body holding ``{{`` or ``{%`` is rendered by it, in a Jekyll site or not. ``--plain`` gives
the posts of earlier rounds (Python-Markdown's *extra*, no Liquid). A ``hugo.toml`` beside ``feedwright.toml``
makes the same folder a Hugo site (see :data:`HUGO_CONFIG`).
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

# "Now" for every benchmark build (SOURCE_DATE_EPOCH), after every dated post but before the future ones.
NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
CATEGORIES = [
    "News", "Seoul", "Politics", "Economy", "Culture", "Tech", "Science", "Sports", "Opinion", "World",
    "디지털 성범죄", "교육", "환경", "건강", "Travel", "Food", "Books", "Film", "Music", "Local",
]
def _words(text: str) -> list[str]:
    return text.split()


_KO = _words(
    "서울시는 시민의 안전을 최우선으로 삼아 새로운 정책을 발표했다. 디지털 성범죄 예방과 "
    "피해자 지원을 위한 통합대응 시스템이 마련되었으며, 인공지능 삭제지원 기술이 도입되었다. "
    "도서관은 야간 개관 시간을 늘리고 한강공원에서는 여름밤 축제가 열린다. 시장은 안심도시를 "
    "만들기 위해 노력하겠다고 말했다. 교육청은 새 학기 준비에 들어갔고 환경부는 미세먼지 "
    "대책을 내놓았다."
)
_EN = _words(
    "The city council approved a new budget for public libraries on Tuesday, extending opening hours and "
    "adding reading rooms in every district. Critics said the plan lacked detail, while supporters "
    "pointed to record visitor numbers. Open standards keep feeds readable for decades; a reader should "
    "never need an account to follow the news. Engineers measured the build before changing anything, "
    "then fixed the slowest step."
)
TAGS = [f"tag{i:03d}" for i in range(150)] + [f"주제{i}" for i in range(50)]


def _sentence(rng: random.Random, words: list[str]) -> str:
    n = rng.randint(8, 18)
    start = rng.randrange(len(words))
    return " ".join(words[(start + i) % len(words)] for i in range(n)).rstrip(".,") + "."


def _paragraph(rng: random.Random) -> str:
    words = _KO if rng.random() < 0.5 else _EN
    text = " ".join(_sentence(rng, words) for _ in range(rng.randint(2, 4)))
    if rng.random() < 0.5:
        text += f" See [the report](https://example.com/report/{rng.randint(1, 9999)}) or [our archive](/archive/)."
    if rng.random() < 0.2:
        text += " **Important**: *details* follow."
    return text


def _table(rng: random.Random) -> str:
    rows = ["| 구분 | Item | Value |", "|---|---|---:|"]
    for i in range(rng.randint(3, 6)):
        rows.append(f"| 항목 {i} | {rng.choice(_EN)} | {rng.randint(1, 100000):,} |")
    return "\n".join(rows)


def _raw_html(rng: random.Random, n: int) -> str:
    return (
        f'<div class="note" data-id="{n}">\n<p><img src="/images/photo-{n % 97}.jpg" alt="사진 {n}" /></p>\n'
        f"<p>{_sentence(rng, _KO)}</p>\n</div>"
    )


def _body(rng: random.Random, n: int, size: int) -> str:
    parts = [_paragraph(rng), _paragraph(rng), "## " + _sentence(rng, _EN)[:40], _table(rng), _raw_html(rng, n)]
    while sum(len(p.encode()) for p in parts) < size:
        parts.append(_paragraph(rng) if rng.random() < 0.85 else "- " + _sentence(rng, _KO) + "\n- item two")
    return "\n\n".join(parts) + "\n"


def _liquid(n: int, seed: int) -> str:
    """What closes a Jekyll-style post: Liquid filters over its own front matter, and a link to an older post."""
    line = "Filed under {{ page.categories | join: \", \" }} on {{ page.date | date_to_string }}."
    if n % 5 == 4:
        first = PurePosixPath(post(3, seed, plain=True)[0]).stem  # dated by its name, as post_url needs
        line += f" Start with [an early post]({{% post_url {first} %}})."
    return "\n" + line + "\n"


def post(n: int, seed: int, *, now: datetime = NOW, edited: int = 0, plain: bool = False) -> tuple[str, str]:
    """Relative path and text of post ``n``; ``edited`` changes its body (an editor fixing a typo); ``plain``:
    without the Liquid line."""
    rng = random.Random(seed * 1_000_003 + n)
    span = (now - datetime(2014, 1, 1, tzinfo=UTC)).total_seconds()
    moment = now - timedelta(seconds=span * (1 - (n + 1) / (seed + 1)) + rng.random() * 3600)
    if n % 300 == 299:
        moment = now + timedelta(days=rng.randint(1, 400))
    cats = rng.sample(CATEGORIES, rng.choice((1, 1, 2)))
    slug = f"post-{n:06d}"
    dated_name = n % 8 == 3
    name = f"{moment:%Y-%m-%d}-{slug}.md" if dated_name else f"{slug}.md"
    rel = f"{cats[0].lower().replace(' ', '-')}/{moment:%Y}/{name}"
    title = f"{_sentence(rng, _KO)[:30]} — {_sentence(rng, _EN)[:40]} #{n}"
    fm = [f'title: "{title}"']
    if not dated_name:
        fm.append(f"date: {moment:%Y-%m-%d %H:%M:%S} +0000")
    fm.append("categories:\n" + "".join(f"  - {c}\n" for c in cats).rstrip("\n"))
    fm.append("tags: [" + ", ".join(rng.sample(TAGS, rng.randint(1, 4))) + "]")
    if rng.random() < 0.7:
        fm.append(f"image: /images/photo-{n % 97}.jpg")
    if rng.random() < 0.3:
        fm.append(f"excerpt: >\n  {_sentence(rng, _KO)} {_sentence(rng, _EN)}")
    fm.append(f"author: {rng.choice(['김민지', 'Jane Doe', 'Lee Seo-yeon', '박준호'])}")
    if n % 200 == 150:
        fm.append("draft: true")
    body = _body(rng, n, rng.randint(3000, 5800))
    if edited:
        body += f"\nEdited ({edited}): a correction was added.\n"
    if not plain:
        body += _liquid(n, seed)
    return rel, "---\n" + "\n".join(fm) + "\n---\n\n" + body


CONFIG = """[site]
title = "Benchmark News"
url = "https://news.example.org/"
description = "A generated site for benchmarks."
language = "ko"
timezone = "Asia/Seoul"

[build]
limit = 50
category_feeds = true
tag_feeds = false
"""
JEKYLL_STYLE = 'markdown = "kramdown"\n'

# The same posts as a Hugo site, set up as a user would for feeds only: RSS for the home page, each section, the
# taxonomies and each of their terms, 50 items each; no HTML page of any kind rendered. Dates from the front
# matter, else from the file name (one post in eight), as feedwright reads them.
HUGO_CONFIG = """baseURL = "https://news.example.org/"
title = "Benchmark News"
languageCode = "ko"
timeZone = "Asia/Seoul"
contentDir = "content"
disableKinds = ["sitemap", "robotsTXT", "404"]

[outputs]
home = ["RSS"]
section = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
page = []

[services.rss]
limit = 50

[frontmatter]
date = ["date", ":filename", ":default"]

[taxonomies]
category = "categories"
tag = "tags"
"""


def config(plain: bool = False) -> str:
    return CONFIG if plain else CONFIG + JEKYLL_STYLE


def generate(site: Path, n: int, plain: bool = False) -> Path:
    """Write a fresh site with ``n`` posts under ``site`` (anything there is removed first)."""
    if site.exists():
        shutil.rmtree(site)
    (site / "content" / "images").mkdir(parents=True)
    (site / "feedwright.toml").write_text(config(plain), encoding="utf-8")
    (site / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for i in range(97):
        (site / "content" / "images" / f"photo-{i}.jpg").write_bytes(b"\xff\xd8\xff" + bytes(1000 + i))
    made: set[Path] = set()
    for i in range(n):
        rel, text = post(i, n, plain=plain)
        path = site / "content" / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")
    return site


SRC = Path(__file__).resolve().parents[1] / "src"


def compile_sources(src: Path = SRC) -> None:
    """Byte-compile feedwright's sources, as installing a package does. This machine's environment sets
    ``PYTHONDONTWRITEBYTECODE``, so a build started from ``src/`` would otherwise compile every module whose
    ``__pycache__`` entry is missing or stale again in each process (the parent and every worker), a cost no
    installed copy pays; a third of them were stale when session 5 began. ``src``: a checkout's ``src/``."""
    import compileall

    if not compileall.compile_dir(str(src), quiet=1, workers=1):
        raise SystemExit(f"byte-compiling {src} failed")


def prepared(work: Path, n: int, plain: bool = False) -> Path:
    """The site of ``n`` posts under ``work``, generated again only when the generator's output would differ
    (a stamp of its settings and last post), so that repeated benchmark runs reuse it."""
    import sys
    import time

    site = work / f"site-{n}{'-plain' if plain else ''}"
    stamp = site / ".generated"
    made = repr((n, config(plain), HUGO_CONFIG, post(n - 1, n, plain=plain)))
    if not stamp.exists() or stamp.read_text() != made:
        print(f"generating {n} posts in {site} ...", file=sys.stderr)
        generate(site, n, plain)
        stamp.write_text(made)
        time.sleep(2.5)  # files written within 2 s of a build are re-hashed by it ("racy"); real ones are older
    return site


def edit(site: Path, n: int, which: int, times: int = 1, plain: bool = False) -> None:
    """Edit post ``which`` of an ``n``-post site (its body changes)."""
    rel, text = post(which, n, edited=times, plain=plain)
    (site / "content" / rel).write_text(text, encoding="utf-8")


def add(site: Path, n: int, count: int, plain: bool = False) -> list[Path]:
    """Add ``count`` new posts, dated just before NOW, so they enter the feeds."""
    paths = []
    for i in range(count):
        rel, text = post(n + i, n + count, plain=plain)
        path = site / "content" / "new" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("#", "(new) #", 1), encoding="utf-8")
        paths.append(path)
    return paths


def remove_added(site: Path) -> None:
    shutil.rmtree(site / "content" / "new", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--plain", action="store_true", help="Python-Markdown's extra, no Liquid (earlier rounds)")
    args = parser.parse_args()
    generate(args.site, args.n, args.plain)
    print(f"{args.n} posts in {args.site / 'content'}")


if __name__ == "__main__":
    main()
