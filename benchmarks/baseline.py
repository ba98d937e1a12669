"""The naive build feedwright is measured against: parse everything, render everything, feedgen.

    .venv/bin/python benchmarks/baseline.py SITE

Reads every post with python-frontmatter, renders every body with Markdown, then writes the same feeds as
feedwright with the site's settings (site-wide and per category; ``limit`` newest live posts each; RSS and Atom
through feedgen, JSON Feed by hand) into ``SITE/output-baseline/``. No cache, no state, no sanitising: the
simplest thing that produces the same set of feeds, as a yardstick. ``SOURCE_DATE_EPOCH`` pins "now".
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections import defaultdict
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import frontmatter
import markdown
from feedgen.feed import FeedGenerator

_FILE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")


def _date(value: object, name: str, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
    m = _FILE_DATE.match(name)
    if m:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=zone)
    return datetime(1970, 1, 1, tzinfo=UTC)


def _slug(name: str) -> str:
    return "-".join(re.findall(r"\w+", name.lower()))


def build(site: Path) -> int:
    config = tomllib.loads((site / "feedwright.toml").read_text(encoding="utf-8"))
    url = config["site"]["url"]
    zone = ZoneInfo(config["site"].get("timezone", "UTC"))
    limit = config.get("build", {}).get("limit", 50)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    content = site / "content"
    md = markdown.Markdown(extensions=["extra", "sane_lists"])
    posts = []
    for path in sorted(content.rglob("*.md")):
        post = frontmatter.load(path)
        html = md.reset().convert(post.content)
        meta = post.metadata
        published = _date(meta.get("date"), path.name, zone)
        if meta.get("draft") or published > now:
            continue
        rel = path.relative_to(content).with_suffix("").as_posix()
        cats = meta.get("categories") or []
        posts.append({
            "title": str(meta.get("title", rel)), "url": f"{url}{rel}/", "published": published,
            "categories": [str(c) for c in cats], "html": html, "summary": str(meta.get("excerpt", ""))[:300],
        })
    posts.sort(key=lambda p: (p["published"], p["url"]), reverse=True)
    feeds = {"": posts[:limit]}
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for post in posts:
        for cat in post["categories"]:
            if len(by_cat[cat]) < limit:
                by_cat[cat].append(post)
    for cat, members in by_cat.items():
        feeds[f"categories/{_slug(cat)}/"] = members
    out = site / "output-baseline"
    for folder, members in feeds.items():
        fg = FeedGenerator()
        fg.id(url + folder)
        fg.title(folder or "site")
        fg.link(href=url + folder, rel="alternate")
        fg.description("baseline")
        for post in members:
            fe = fg.add_entry(order="append")
            fe.id(post["url"])
            fe.title(post["title"])
            fe.link(href=post["url"])
            fe.published(post["published"])
            fe.updated(post["published"])
            fe.description(post["summary"] or post["title"])
            fe.content(post["html"], type="html")
        (out / folder).mkdir(parents=True, exist_ok=True)
        fg.rss_file(str(out / folder / "rss.xml"), pretty=True)
        fg.atom_file(str(out / folder / "atom.xml"), pretty=True)
        items = [
            {"id": p["url"], "url": p["url"], "title": p["title"], "content_html": p["html"],
             "date_published": p["published"].isoformat()}
            for p in members
        ]
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": folder or "site", "items": items}
        (out / folder / "feed.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return len(posts)


if __name__ == "__main__":
    print(f"{build(Path(sys.argv[1]))} posts published (baseline)")
