"""Near-miss front-matter keys: ``draf: true`` is a typo of ``draft``, not a key of its own.

A key that feedwright does not read, that is not a common Jekyll or theme key nor one the site lists in
``[build] known_keys``, and that is close to a key feedwright reads (``difflib``'s similarity, the standard
library's), is reported with its suggestion. The keys feedwright reads are ``normalise.READS``, next to the
normalisers that read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from typing import Any

# difflib ratio: "dtae"/"date" is 0.75, "imgae"/"image" 0.8; "teaser"/"header" (0.67) is a key of its own.
CUTOFF = 0.75

# Keys Jekyll, its plugins and common themes (Minimal Mistakes, Chirpy, ...) give a meaning: never typos, even
# when close to one feedwright reads. Extend freely.
JEKYLL_KEYS = frozenset({
    "layout", "permalink", "slug", "lang", "render_with_liquid", "excerpt_separator", "published", "date",
    "modified", "last_modified_at", "comments", "share", "toc", "toc_label", "toc_icon", "toc_sticky",
    "read_time", "header", "sidebar", "author_profile", "redirect_from", "redirect_to", "related", "classes",
    "search", "sitemap", "feed", "hidden", "pin", "math", "mermaid", "image_alt", "canonical_url", "locale",
    "ads", "og_image", "twitter", "seo", "robots", "noindex", "subtitle", "keywords", "series", "featured",
    "thumbnail", "teaser", "overlay_image", "overlay_filter", "caption", "link", "breadcrumbs", "words_per_minute",
    "type", "source", "tagline", "excerpt", "draft", "title", "tags", "categories", "category", "author",
    "description", "image", "menu", "weight", "aliases", "url", "id", "path", "collection", "output",
})


def near_misses(meta: Mapping[Any, Any], reads: frozenset[str], accepted: Iterable[str] = ()) -> tuple[
    tuple[str, str], ...
]:
    """(key, suggestion) for each key of ``meta`` that looks like a typo of one of ``reads``."""
    found = []
    for key in meta:
        if not isinstance(key, str) or key in reads or key in JEKYLL_KEYS or key in accepted:
            continue
        match = get_close_matches(key.lower(), reads, n=1, cutoff=CUTOFF)
        if match:
            found.append((key, match[0]))
    return tuple(found)


def describe(key: str, suggestion: str) -> str:
    """The reason shown for one near miss (after the file's path)."""
    return (f"front-matter key {key!r} is not one feedwright reads; did you mean {suggestion!r}? "
            "(list site-specific keys in [build] known_keys)")
