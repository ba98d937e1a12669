"""Which files of a Jekyll site are posts, as ``Reader#read_directories`` and ``PostReader`` decide.

Every ``_posts`` folder at any depth whose parent folders Jekyll visits (none starts with ``.``, ``_``, ``#``
or ``~``, ends with ``~`` or is excluded), and ``_drafts`` folders with ``show_drafts``. Inside, a file is a
post when its name is Jekyll's ``YYYY-MM-DD-title.ext`` (any name with an extension for a draft); the others
are skipped and named with the reason.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from .settings import JekyllSettings

# Document::DATE_FILENAME_MATCHER and DATELESS_FILENAME_MATCHER, applied to the path under _posts/_drafts.
DATE_FILENAME = re.compile(r"^(?:.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")
DATELESS_FILENAME = re.compile(r"^(?:.+/)*(.*)(\.[^.]+)$")
_SPECIAL = (".", "_", "#", "~")
POSTS, DRAFTS = "_posts", "_drafts"


def _glob_include(patterns: tuple[str, ...], entry: str, is_dir: bool) -> bool:
    # EntryFilter#glob_include?: File.fnmatch? (wildcards cross "/"), a plain prefix, or "dir/" naming a folder.
    return any(
        fnmatchcase(entry, p) or entry.startswith(p) or (is_dir and p == entry + "/") for p in patterns
    )


def _included(settings: JekyllSettings, name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return _glob_include(settings.include, name, False) or _glob_include(settings.include, base, False)


def _filtered(settings: JekyllSettings, entry: str, rel_to_source: str, is_dir: bool) -> str | None:
    """EntryFilter#filter for one entry: None if Jekyll keeps it, else why not."""
    if entry.endswith("."):
        return "name ends with '.'"
    included = _included(settings, entry)
    excludes = tuple(p for p in settings.exclude if p not in settings.include)
    if not included and _glob_include(excludes, rel_to_source, is_dir):
        return "excluded by _config.yml exclude"
    if included:
        return None
    base = entry.rsplit("/", 1)[-1]
    if entry.startswith(_SPECIAL) or base.startswith(_SPECIAL):
        return f"name starts with {base[0] if base.startswith(_SPECIAL) else entry[0]!r}"
    if entry.endswith("~"):
        return "a backup file (name ends with '~')"
    return None


def classify(settings: JekyllSettings, rel: str) -> tuple[str | None, str | None]:
    """(kind, reason) for a site-relative POSIX path: kind ``"post"``/``"draft"`` when Jekyll reads it as one,
    else None with the reason when the file sits in a ``_posts``/``_drafts`` folder Jekyll reads (the user
    probably meant it as a post), or None with no reason for every other file."""
    parts = rel.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in (POSTS, DRAFTS):
            break
        # read_directories does not enter this folder.
        if _filtered(settings, part, "/".join(parts[: i + 1]), True):
            return None, None
    else:
        return None, None
    magic = parts[i]
    if magic == DRAFTS and not settings.show_drafts:
        return None, None
    entry = "/".join(parts[i + 1 :])
    reason = _filtered(settings, entry, rel, False)
    if reason:
        return None, f"{reason}; Jekyll does not read it"
    if entry.lower().endswith((".yml", ".yaml")):
        # Document#read loads a YAML file as data and gives it no content: PostReader drops it.
        return None, "a YAML file is data, not a post; Jekyll does not publish it"
    if magic == POSTS:
        if not DATE_FILENAME.match(entry):
            return None, "not a Jekyll post file name (YYYY-MM-DD-title.ext); Jekyll does not publish it"
        return "post", None
    if not DATELESS_FILENAME.match(entry):
        return None, "a draft needs a file name with an extension; Jekyll does not read it"
    return "draft", None


def posts(
    settings: JekyllSettings, files: list[tuple[str, str]], skipped: list[tuple[str, str]], output: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Of ``scan()``'s files and skips: the Jekyll posts and drafts, the skips that concern them (a symlink
    elsewhere in the site is none of feedwright's business), and the files of ``_posts``/``_drafts`` Jekyll
    would not read, each with the reason. ``output`` (feedwright's own output folder) is never content."""
    prefix = output.strip("/") + "/"
    kept, ignored = [], []
    for rel, path in files:
        if rel.startswith(prefix):
            continue
        kind, reason = classify(settings, rel)
        if kind:
            kept.append((rel, path))
        elif reason:
            ignored.append((rel, reason))
    relevant = [(rel, why) for rel, why in skipped if not rel.startswith(prefix) and classify(settings, rel)[0]]
    return kept, relevant, ignored
