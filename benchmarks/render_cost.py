"""Cost of rendering one post (Liquid, Markdown, sanitiser, summary): CPU milliseconds per post, by kind of post.

    .venv/bin/python benchmarks/render_cost.py [--posts 300]

Kinds: ``plain`` (the generated benchmark posts: Markdown, a table, raw HTML, no Liquid) and ``liquid`` (the same
posts with a Jekyll-style block added: post_url, an include with parameters, a loop over site.data, filters).
CPU time of this process (``time.process_time``), so other load on the machine matters less than for wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from feedwright.config import load_site
from feedwright.pipeline.collect import assemble, find, read, read_body
from feedwright.pipeline.history import State
from feedwright.pipeline.render import render

LIQUID = """
Previous: [post]({% post_url 2014-01-01-post-0 %}), repo {{ site.repository }}, {{ page.date | date_to_string }}.

{% include note.html text="Read this" who=page.title %}

{% for d in site.data.downloads %}* <{{ d.url }}> {{ d.size }} `{{ d.sha256 }}`
{% endfor %}
Tags: {{ page.tags | array_to_sentence_string }}; {{ page.title | slugify }}; {{ "/x/" | absolute_url }}
"""


def _site(n: int, work: Path) -> Path:
    import subprocess
    import sys

    generator = str(Path(__file__).parent / "generate.py")
    subprocess.run([sys.executable, generator, str(work), str(n), "--plain"], check=True)
    (work / "_includes").mkdir(exist_ok=True)
    (work / "_includes" / "note.html").write_text('<p class="note">{{ include.text }} ({{ include.who }})</p>\n')
    (work / "_data").mkdir(exist_ok=True)
    (work / "_data" / "downloads.yml").write_text(
        "".join(f"- url: https://ex.org/r-{i}.tar.gz\n  size: {i * 1000}\n  sha256: {'ab' * 32}\n" for i in range(4))
    )
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = _site(args.posts, Path(tmp) / "site")
        site = load_site(root)
        site = replace(site, variables={"repository": "ruby/ruby"})
        files, found = find(site, [])
        tasks = [(rel, path, None, None) for rel, path in files]
        now = datetime.now(UTC)
        outcomes = read(site, now, State.load(root / "none.json"), tasks, time.time_ns())
        posts = assemble(site, files, [outcome for outcome, _ in outcomes], found).posts
        bodies = [read_body(site, p)[0] for p in posts]
        kinds = {"plain": posts, "liquid": [replace(p, body=b + LIQUID) for p, b in zip(posts, bodies, strict=True)]}
        for kind, items in kinds.items():
            render(items[0], site)  # imports, Markdown set-up, Liquid environment
            started = time.process_time()
            for post in items:
                render(post, site)
            ms = (time.process_time() - started) * 1000 / len(items)
            print(f"{kind:7} {len(items):5} posts  {ms:6.2f} ms CPU per post")


if __name__ == "__main__":
    main()
