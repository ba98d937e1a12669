"""Regenerate the kramdown case files' expected HTML: ``tests/kramdown/*.md`` -> ``*.html`` by real kramdown.

Run by hand after adding or editing a case (needs ruby with kramdown and kramdown-parser-gfm):
``.venv/bin/python scripts/kramdown_cases.py``. The HTML is kramdown's, unedited; tests/test_kramdown.py compares
the dialect's output with it after normalising both.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import kramdown_oracle  # noqa: E402

CASES = Path(__file__).resolve().parents[1] / "tests" / "kramdown"


def main() -> int:
    reason = kramdown_oracle.missing()
    if reason:
        print(f"cannot run kramdown: {reason}", file=sys.stderr)
        return 1
    sources = sorted(CASES.glob("*.md"))
    for source, html in zip(sources, kramdown_oracle.kramdown([s.read_text("utf-8") for s in sources]), strict=True):
        source.with_suffix(".html").write_text(html, encoding="utf-8")
        print(source.with_suffix(".html").relative_to(CASES.parents[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
