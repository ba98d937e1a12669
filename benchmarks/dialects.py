"""Cost per post of the kramdown dialect against plain Python-Markdown (``[build] markdown``), on real posts.

    .venv/bin/python benchmarks/dialects.py [FOLDER ...] [--repeats 5]

Every ``.md``/``.markdown`` file with front matter under the folders (default: ``../shared/corpora``) is read
once, its front matter and Liquid removed as ``tests/test_kramdown.py`` does; then each dialect converts all of
them ``--repeats`` times in this process (parser built and warmed first) and the best run is kept. Prints ms/post
for both dialects and the ratio, and the one-off cost of building each dialect's parser. Sanitising, which both
share, is not included.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

import kramdown_oracle  # noqa: E402  (front matter and Liquid stripping, shared with the differential test)
from feedwright.pipeline.markdown import DIALECTS, converter  # noqa: E402


def posts(folders: list[Path]) -> list[str]:
    found = sorted(
        p
        for folder in folders
        for p in folder.rglob("*")
        if p.suffix in (".md", ".markdown") and p.is_file() and p.read_bytes().lstrip(b"\xef\xbb\xbf")[:3] == b"---"
    )
    return [kramdown_oracle.body(p.read_text(encoding="utf-8")) for p in found]


def best_ms_per_post(dialect: str, texts: list[str], repeats: int) -> tuple[float, float]:
    """(ms to build the parser, best ms/post over ``repeats`` runs)."""
    start = time.perf_counter()
    convert = converter(dialect)
    convert("warm *up*\n")
    setup = (time.perf_counter() - start) * 1000
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            convert(text)
        runs.append((time.perf_counter() - start) * 1000 / len(texts))
    return setup, min(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[REPO.parent / "shared" / "corpora"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts = posts(args.folders)
    if not texts:
        print("no posts found", file=sys.stderr)
        return 1
    print(f"{len(texts)} posts, {sum(map(len, texts)) / len(texts) / 1024:.1f} KB of Markdown each on average")
    results = {dialect: best_ms_per_post(dialect, texts, args.repeats) for dialect in DIALECTS}
    for dialect, (setup, per_post) in results.items():
        print(f"{dialect:9} {per_post:7.2f} ms/post   (parser set-up {setup:.0f} ms)")
    print(f"ratio kramdown/markdown: {results['kramdown'][1] / results['markdown'][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
