"""Every feed of the example site is valid, carries the right posts, and is dated by its posts, never by the clock.

The seed post's first-seen date is pinned in the state file, so the newest update in the site feed (the reader
survey, 2025-04-08 11:00 +09:00) is well before ``NOW``: a feed dated ``NOW`` would be caught.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import etree

from conftest import DRAFT, FUTURE, NOW, REPO, SEED, copy_example_site, output_files, run_build, validate_feed
from feedwright.pipeline.pages import PAGES

ATOM = "{http://www.w3.org/2005/Atom}"
SEED_FIRST_SEEN = datetime(2024, 6, 25, 2, 30, tzinfo=UTC)
SURVEY_URL = "https://news.example.org/tech/2025-04-08-feed-reader-survey/"
NEWEST_UPDATE = datetime(2025, 4, 8, 2, 0, tzinfo=UTC)

# Counted by hand from content/: folder -> number of live posts.
EXPECTED_COUNTS = {
    "": 9,
    "categories/culture": 2,
    "categories/news": 5,
    "categories/opinion": 2,
    "categories/technology": 3,
    "categories/디지털-성범죄": 1,
    "tags/feeds": 2,
    "tags/open-data": 2,
    "tags/standards": 1,
    "tags/survey": 1,
    "tags/디지털-성범죄": 1,
    "tags/서울": 1,
    "tags/피해자-지원": 1,
}
FILES = sorted(f"{d}/{name}" if d else name for d in EXPECTED_COUNTS for name in ("rss.xml", "atom.xml", "feed.json"))


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = copy_example_site(tmp_path_factory.mktemp("conformance"))
    state = {"version": 1, "posts": {SEED: {"first_seen": SEED_FIRST_SEEN.isoformat()}}}
    (site / ".feedwright").mkdir()
    (site / ".feedwright" / "state.json").write_text(json.dumps(state), encoding="utf-8")
    report = run_build(site)
    assert not report.rejected and not report.warnings
    assert (report.live, report.drafts, report.scheduled) == (9, 1, 1)
    return site / "output"


def test_exactly_the_expected_files(output: Path) -> None:
    assert sorted(output_files(output)) == sorted([*FILES, *PAGES])  # the feeds, and the browser view's pages


@pytest.mark.parametrize("name", FILES)
def test_feed_is_valid_with_right_item_count(output: Path, name: str) -> None:
    parsed = validate_feed(output / name)
    items = parsed["items"] if name.endswith(".json") else parsed.entries
    assert len(items) == EXPECTED_COUNTS[name.rpartition("/")[0]]


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_enclosure_and_thumbnail_seen_by_feedparser(output: Path, name: str) -> None:
    parsed = validate_feed(output / name)
    entry = next(e for e in parsed.entries if e.link == SURVEY_URL)
    image = "https://news.example.org/images/seoul-night.svg"
    svg_size = (REPO / "content" / "images" / "seoul-night.svg").stat().st_size
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [(image, "image/svg+xml", str(svg_size))]
    assert [t["url"] for t in entry.media_thumbnail] == [image]
    assert [c["url"] for c in entry.media_content] == [image]
    # Posts without an image get no enclosure at all.
    no_image = next(e for e in parsed.entries if "slow-news" in e.link)
    assert not no_image.get("enclosures") and "media_thumbnail" not in no_image


def test_json_feed_image(output: Path) -> None:
    doc = json.loads((output / "feed.json").read_bytes())
    images = {item["url"]: item.get("image") for item in doc["items"]}
    assert images[SURVEY_URL] == "https://news.example.org/images/seoul-night.svg"
    assert sum(1 for url in images.values() if url) == 3


@pytest.mark.parametrize("post", [DRAFT, FUTURE])
def test_draft_and_future_posts_are_in_no_feed(output: Path, post: str) -> None:
    text = (REPO / "content" / post).read_text(encoding="utf-8")
    title = text.split("title:", 1)[1].split("\n", 1)[0].strip().strip('"')
    slug = Path(post).stem
    for name, data in output_files(output).items():
        body = data.decode("utf-8")
        assert slug not in body, f"{post} leaked into {name}"
        assert title not in body and json.dumps(title)[1:-1] not in body, f"{post} title leaked into {name}"


def _json_newest(output: Path, folder: str) -> datetime:
    doc = json.loads((output / folder / "feed.json").read_bytes())
    return max(datetime.fromisoformat(item["date_modified"]) for item in doc["items"])


@pytest.mark.parametrize("folder", list(EXPECTED_COUNTS))
def test_feed_date_is_newest_item_update_not_now(output: Path, folder: str) -> None:
    rss = etree.parse(str(output / folder / "rss.xml")).getroot()
    atom = etree.parse(str(output / folder / "atom.xml")).getroot()
    last_build = parsedate_to_datetime(rss.findtext("channel/lastBuildDate"))
    atom_updated = datetime.fromisoformat(atom.findtext(f"{ATOM}updated"))
    entry_updates = [datetime.fromisoformat(e.text) for e in atom.iterfind(f"{ATOM}entry/{ATOM}updated")]
    assert last_build == atom_updated == max(entry_updates) == _json_newest(output, folder)
    assert atom_updated < NOW


def test_site_feed_date_is_the_survey_update(output: Path) -> None:
    atom = etree.parse(str(output / "atom.xml")).getroot()
    assert datetime.fromisoformat(atom.findtext(f"{ATOM}updated")) == NEWEST_UPDATE


def test_seed_post_keeps_its_pinned_first_seen_date(output: Path) -> None:
    doc = json.loads((output / "feed.json").read_bytes())
    item = next(i for i in doc["items"] if i["url"].endswith("/news/seoul-un-award/"))
    assert datetime.fromisoformat(item["date_published"]) == SEED_FIRST_SEEN
