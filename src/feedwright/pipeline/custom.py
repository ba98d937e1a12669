"""Custom feeds (``[[feeds]]``): which posts one carries, and the warnings for a filter that matches nothing.

A post matches a custom feed when, for every filter the table gives, it has one of the filter's values: the same
category, tag or author name as written (as the category feeds tell ``News`` from ``news``), or a language the
filter's tag covers (RFC 4647 basic filtering, case-insensitive: ``en`` covers ``en-GB``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import CONFIG_NAME, Site, did_you_mean
from ..feeds_config import SECTION, CustomFeed
from .collect import Post

if TYPE_CHECKING:
    from .plan import Feed  # plan imports this module

# Filter key (a CustomFeed and a Post field alike) -> what a warning calls one of its values.
_NAME_FILTERS = {
    "categories": "category",
    "tags": "tag",
    "authors": "author",
}


def _language_matches(wanted: tuple[str, ...], language: str | None) -> bool:
    if not language:
        return False
    language = language.lower()
    return any(language == tag or language.startswith(tag + "-") for tag in wanted)


def matches(spec: CustomFeed, post: Post) -> bool:
    """Whether ``post`` belongs in the custom feed ``spec``: every filter given has one of its values."""
    for key in _NAME_FILTERS:
        wanted = getattr(spec, key)
        if wanted and not any(value in wanted for value in getattr(post, key)):
            return False
    return not spec.languages or _language_matches(spec.languages, post.language)


def unmatched(site: Site, posts: Iterable[Post], feeds: Iterable[Feed]) -> list[str]:
    """One warning per filter value that no post has (with a suggestion: a typo is likelier than a feed waiting
    for its first post), else per custom feed of ``feeds`` that carries no post.

    Warnings, not errors: a new site may have no such post yet, and its feed is written empty until it has."""
    if not site.feeds:
        return []
    posts = list(posts)
    seen = {key: {value for post in posts for value in getattr(post, key)} for key in _NAME_FILTERS}
    languages = {post.language for post in posts}  # a handful, however many posts
    where = Path(site.root, CONFIG_NAME)
    carried = {feed.folder: len(feed.posts) for feed in feeds if feed.kind == "custom"}
    warnings: list[str] = []
    for number, spec in enumerate(site.feeds, 1):
        said = []
        for key, noun in _NAME_FILTERS.items():
            known = sorted(seen[key])
            said += [f"{where}: {SECTION}[{number}].{key}: no post has the {noun} {value!r}"
                     f"{did_you_mean(value, known)}" for value in getattr(spec, key) if value not in seen[key]]
        said += [f"{where}: {SECTION}[{number}].languages: no post is in {tag!r}" for tag in spec.languages
                 if not any(_language_matches((tag,), language) for language in languages)]
        if not said and not carried.get(spec.folder):
            said.append(f"{where}: {SECTION}[{number}] ({spec.name!r}): no published post matches it yet; its feed "
                        "is written empty")
        warnings += said
    return warnings
