"""Liquid in post bodies (feedwright.pipeline.liquid): Jekyll's tags and filters, site/page, lax errors, limits."""

from __future__ import annotations

import importlib
import json
import pickle
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_site, output_files, write_post
from feedwright.build import build
from feedwright.config import Site, load_site
from feedwright.incremental import parallel
from feedwright.pipeline.collect import Post
from feedwright.pipeline.liquid import DeferredLinks, Links, PostRef, front_matter, render_liquid
from feedwright.pipeline.liquid.environment import JekyllEnvironment
from feedwright.pipeline.liquid.links import WHOLE, answer
from feedwright.pipeline.render import render

build_module = importlib.import_module("feedwright.build")

URL = "https://ex.org/blog/"
WHEN = datetime(2024, 6, 26, 9, 30, tzinfo=UTC)
NOW = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A Jekyll-shaped site: _posts/ (two folders), _includes/, _data/; posts are under the site root."""
    root = tmp_path / "site"
    for folder in ("_posts/2020", "news/_posts", "_includes/parts", "_data/releases", "docs"):
        (root / folder).mkdir(parents=True)
    (root / "_includes" / "note.html").write_text('<p class="note">{{ include.text }} ({{ include.who }})</p>\n')
    (root / "_includes" / "parts" / "sig.md").write_text("-- {{ site.author }}")
    (root / "_includes" / "loop.html").write_text("x{% include loop.html %}")
    (root / "_data" / "links.yml").write_text("- name: Ruby\n  url: https://www.ruby-lang.org/\n- name: Jekyll\n"
                                              "  url: https://jekyllrb.com/\n")
    (root / "_data" / "releases" / "v3.json").write_text('{"version": "3.3.0", "size": 22068888}')
    (root / "_data" / "sizes.csv").write_text("name,bytes\nsmall,10\nbig,99\n")
    (root / "docs" / "guide.md").write_text("---\ntitle: Guide\npermalink: /guide/\n---\nText\n")
    (root / "docs" / "notes.md").write_text("---\ntitle: Notes\n---\nText\n")
    (root / "docs" / "data.txt").write_text("plain")
    (root / "_posts" / "snippet.txt").write_text("from {{ page.title }}")
    variables = {"url": "https://ex.org", "baseurl": "/blog", "author": "Ana", "repository": "ruby/ruby"}
    return Site(root=root, url=URL, content=Path("."), variables=variables)


REFS = (
    PostRef("_posts/2020/2020-01-02-hello.md", URL + "2020/01/02/hello.html", "Hello", WHEN, ("a",), ("x",)),
    PostRef("news/_posts/2021-03-04-launch.md", URL + "news/2021/03/04/launch.html", "Launch", WHEN, ("news",)),
    PostRef("_posts/2019-05-06-old.md", URL + "2019/05/06/old.html", "Old", WHEN),
)
LINKS = Links(REFS, WHEN)


def post(site: Site, body: str = "", front: str = "title: Here\n", source: str = "_posts/2024-06-26-here.md") -> Post:
    path = site.root / site.content / source
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return Post(
        source=source, title="Here", published=WHEN, updated=WHEN, url=URL + "2024/06/26/here.html",
        id=URL + "2024/06/26/here.html", categories=("cat",), tags=("t1", "t2"), summary=None, image=None,
        authors=(), draft=False, body=body, markup="markdown",
    )


def liquid(site: Site, body: str, front: str = "title: Here\n", links: Links = LINKS) -> tuple[str, tuple[str, ...]]:
    p = post(site, body, front)
    meta, offset = front_matter(site, p)
    result = render_liquid(site, p, body, links, meta, offset)
    return result.text, result.warnings


def out(site: Site, body: str, **kw: object) -> str:
    text, warnings = liquid(site, body, **kw)  # type: ignore[arg-type]
    assert warnings == ()
    return text


# --- site and page -----------------------------------------------------------------------------------------


def test_site_variables_url_and_baseurl(site: Site) -> None:
    assert out(site, "{{ site.url }}{{ site.baseurl }} {{ site.repository }}") == "https://ex.org/blog ruby/ruby"
    assert out(site, "https://github.com/{{ site.repository }}/issues/9156") == "https://github.com/ruby/ruby/issues/9156"


def test_site_url_from_feedwright_url_without_config(site: Site) -> None:
    plain = replace(site, variables={})
    assert out(plain, "{{ site.url }}|{{ site.baseurl }}|{{ site.title }}") == "https://ex.org|/blog|Untitled site"


def test_site_data_yaml_json_csv_and_folders(site: Site) -> None:
    body = "{% for l in site.data.links %}[{{ l.name }}]({{ l.url }}) {% endfor %}"
    assert out(site, body) == "[Ruby](https://www.ruby-lang.org/) [Jekyll](https://jekyllrb.com/) "
    assert out(site, "{{ site.data.releases.v3.version }} {{ site.data.releases.v3.size }}") == "3.3.0 22068888"
    assert out(site, "{{ site.data.sizes | map: 'bytes' | join: ',' }}") == "10,99"


def test_bad_data_file_is_a_warning_not_a_failure(site: Site) -> None:
    (site.root / "_data" / "broken.yml").write_text("a: [unclosed\n")
    text, warnings = liquid(replace(site, title="other"), "{{ site.data.links.size }}")
    assert text == "2"
    assert len(warnings) == 1 and "_data/broken.yml" in warnings[0]


def test_site_posts_newest_first(site: Site) -> None:
    assert out(site, "{% for p in site.posts %}{{ p.title }}:{{ p.url }} {% endfor %}") == (
        "Hello:/2020/01/02/hello.html Launch:/news/2021/03/04/launch.html Old:/2019/05/06/old.html "
    )


def test_site_categories_and_tags_map_names_to_posts(site: Site) -> None:
    # made-mistakes: {% for post in site.categories.paperfaces limit:15 %} ... {{ site.categories.paperfaces | size }}
    assert out(site, "{{ site.categories.a | map: 'title' | join }} {{ site.categories.news.size }} "
                     "{{ site.tags.x | map: 'url' | join }} {{ site.categories.none | size }}") == (
        "Hello 1 /2020/01/02/hello.html 0"
    )


def test_page_front_matter_and_computed_fields(site: Site) -> None:
    front = "title: Here\nversion: 3.3.0\nextra:\n  k: v\n"
    body = "{{ page.version }} {{ page.extra.k }} {{ page.title }} {{ page.url }} {{ page.path }} " \
           "{{ page.categories | join: ',' }} {{ page.tags | join: ',' }} {{ page.date | date: '%Y-%m-%d' }}"
    assert out(site, body, front=front) == (
        "3.3.0 v Here /2024/06/26/here.html _posts/2024-06-26-here.md cat t1,t2 2024-06-26"
    )


def test_render_with_liquid_false_leaves_the_text_alone(site: Site) -> None:
    body = "Write {{ page.title }} and {% post_url nope %}."
    assert out(site, body, front="title: Here\nrender_with_liquid: false\n") == body


def test_raw_and_comment(site: Site) -> None:
    assert out(site, "a {% raw %}{{ x }} {% if %}{% endraw %} b") == "a {{ x }} {% if %} b"
    assert out(site, "keep {% comment %}secret {{ x }}{% endcomment %}this") == "keep this"


def test_text_without_liquid_is_returned_as_it_is(site: Site) -> None:
    text = "No liquid: {braces} and 100% sure {#x}"
    assert render_liquid(site, post(site, text), text, LINKS, {}).text == text


# --- post_url and link -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "url"),
    [
        ("{% post_url 2020/2020-01-02-hello %}", "/blog/2020/01/02/hello.html"),  # _posts/2020/...
        ("{% post_url news/2021-03-04-launch %}", "/blog/news/2021/03/04/launch.html"),  # news/_posts/...
        ("{% post_url 2019-05-06-old %}", "/blog/2019/05/06/old.html"),
        ("{% post_url /2019-05-06-old %}", "/blog/2019/05/06/old.html"),
    ],
)
def test_post_url_across_folders(site: Site, tag: str, url: str) -> None:
    assert out(site, f"[x]({tag})") == f"[x]({url})"


def test_post_url_unknown_post_is_one_warning_and_the_rest_renders(site: Site) -> None:
    text, warnings = liquid(site, "a\n\n[x]({% post_url 2000-01-01-none %}) {{ site.author }}")
    assert text == "a\n\n[x]() Ana"
    assert warnings == (
        "_posts/2024-06-26-here.md:6: Liquid tag {% post_url %}: post_url: no post '2000-01-01-none'; left out",
    )


def test_link_to_posts_pages_and_files(site: Site) -> None:
    assert out(site, "{% link news/_posts/2021-03-04-launch.md %}") == "/blog/news/2021/03/04/launch.html"
    assert out(site, "{% link docs/guide.md %}|{% link docs/notes.md %}|{% link docs/data.txt %}") == (
        "/blog/guide/|/blog/docs/notes.html|/blog/docs/data.txt"
    )
    text, warnings = liquid(site, "{% link docs/missing.md %}")
    assert text == "" and "link: no document 'docs/missing.md'" in warnings[0]


# --- include -----------------------------------------------------------------------------------------------


def test_include_with_parameters(site: Site) -> None:
    body = '{% include note.html text="Read me" who=page.title %}'
    assert out(site, body) == '<p class="note">Read me (Here)</p>\n'
    assert out(site, "{% include parts/sig.md %}") == "-- Ana"
    assert out(site, "{% assign f = 'note.html' %}{% include {{ f }} text='v' %}") == '<p class="note">v ()</p>\n'


def test_include_relative_reads_beside_the_post(site: Site) -> None:
    assert out(site, "{% include_relative snippet.txt %}") == "from Here"


def test_missing_include_is_one_warning_and_the_rest_renders(site: Site) -> None:
    text, warnings = liquid(site, "before\n{% include nope.html %}\nafter {{ page.title }}")
    assert text == "before\n\nafter Here"
    assert warnings == (
        "_posts/2024-06-26-here.md:5: Liquid tag {% include %}: include 'nope.html' not found in _includes; left out",
    )


@pytest.mark.parametrize(
    "tag",
    [
        "{% include ../../etc/passwd %}",
        "{% include /etc/passwd %}",
        "{% include ../_config.yml %}",
        "{% include_relative ../../../../../../etc/passwd %}",
        "{% include_relative /etc/passwd %}",
    ],
)
def test_include_cannot_read_outside_the_site(site: Site, tag: str) -> None:
    text, warnings = liquid(site, f"a{tag}b")
    assert text == "ab"
    assert len(warnings) == 1 and "root:" not in text


def test_include_through_a_symlink_out_of_the_site_is_refused(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    (site.root / "_includes" / "leak.html").symlink_to(secret)
    text, warnings = liquid(site, "{% include leak.html %}")
    assert "TOP SECRET" not in text and len(warnings) == 1


def test_self_including_include_is_bounded(site: Site) -> None:
    started = time.monotonic()
    text, warnings = liquid(site, "start {% include loop.html %} end")
    assert time.monotonic() - started < 10
    assert text.startswith("start x") and text.endswith(" end")
    assert text.count("x") <= 40
    assert any("context depth" in w for w in warnings)


def test_huge_loop_is_bounded(site: Site) -> None:
    started = time.monotonic()
    text, warnings = liquid(site, "a{% for i in (1..100000000) %}{{ i }}{% endfor %}b")
    assert time.monotonic() - started < 10
    assert text == "ab"
    assert warnings and "loop iteration limit" in warnings[0]


def test_nested_loops_are_bounded_together(site: Site) -> None:
    body = "{% for i in (1..1000) %}{% for j in (1..1000) %}.{% endfor %}{% endfor %}"
    text, warnings = liquid(site, body)
    assert len(text) < 1_000_000 and warnings


def test_output_is_bounded(site: Site) -> None:
    body = "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..90000) %}{{ s }}{{ s }}{{ s }}{{ s }}{{ s }}{{ s }}" \
           "{{ s }}{{ s }}{% endfor %}"
    text, warnings = liquid(site, body)
    assert len(text) <= 5 * 1024 * 1024 and warnings


def test_no_code_runs(site: Site) -> None:
    # Liquid has no way to call Python: attribute access to dunders resolves to nothing.
    text, _ = liquid(site, "{{ site.__class__ }}{{ page.__init__.__globals__ }}{{ ''.__class__.__mro__ }}")
    assert text == ""


# --- lax errors --------------------------------------------------------------------------------------------


def test_unknown_tag_is_removed_with_a_warning_naming_file_line_and_tag(site: Site) -> None:
    text, warnings = liquid(site, "one\ntwo {% gist 12345 %} three")
    assert text == "one\ntwo  three"
    assert warnings == ("_posts/2024-06-26-here.md:5: Liquid tag {% gist %}: unknown tag 'gist' "
                        "(a Jekyll plugin's? feedwright runs no plugins); left out",)


def test_stray_end_tag_of_a_known_block_is_a_mistake_not_a_plugin(site: Site) -> None:
    _, warnings = liquid(site, "a {% endif %} b")
    assert warnings == ("_posts/2024-06-26-here.md:4: Liquid tag {% endif %}: unexpected tag 'endif'; left out",)


def test_unknown_filter_is_ignored_like_jekyll(site: Site) -> None:
    assert out(site, "{{ 'x' | no_such_filter }}") == "x"


def test_failing_filter_removes_only_its_output(site: Site) -> None:
    text, warnings = liquid(site, "a {{ 'not a date' | date_to_string }} b {{ page.title }}")
    assert text == "a  b Here"
    assert len(warnings) == 1 and "date_to_string" in warnings[0]


def test_unclosed_block_is_a_warning(site: Site) -> None:
    text, warnings = liquid(site, "a {% if true %} b")
    assert "a" in text and warnings


# --- highlight ---------------------------------------------------------------------------------------------


def test_highlight_is_escaped_code_in_one_line(site: Site) -> None:
    body = "{% highlight ruby linenos %}\ndef x\n  1 < 2\n\nend\n{% endhighlight %}"
    assert out(site, body) == (
        '<pre><code class="language-ruby" data-lang="ruby">def x&#10;  1 &lt; 2&#10;&#10;end</code></pre>'
    )


def test_highlight_survives_markdown_and_the_sanitiser(site: Site) -> None:
    body = "Intro\n\n{% highlight c %}\nint main() {\n\n  return 0; // <b>\n}\n{% endhighlight %}\n\nAfter"
    html = render(post(site, body), site, LINKS).html
    assert '<pre><code class="language-c">int main() {\n\n  return 0; // &lt;b&gt;\n}</code></pre>' in html
    assert html.startswith("<p>Intro</p>") and html.endswith("<p>After</p>")


# --- filters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ '/about/' | relative_url }}", "/blog/about/"),
        ("{{ 'about/' | relative_url }}", "/blog/about/"),
        ("{{ '/about/' | absolute_url }}", "https://ex.org/blog/about/"),
        ("{{ 'https://o.org/x' | absolute_url }}", "https://o.org/x"),
        ("{{ page.date | date_to_string }}", "26 Jun 2024"),
        ("{{ page.date | date_to_string: 'ordinal', 'US' }}", "Jun 26th, 2024"),
        ("{{ page.date | date_to_long_string: 'ordinal' }}", "26th June 2024"),
        ("{{ page.date | date_to_long_string }}", "26 June 2024"),
        ("{{ page.date | date_to_xmlschema }}", "2024-06-26T09:30:00+00:00"),
        ("{{ page.date | date_to_rfc822 }}", "Wed, 26 Jun 2024 09:30:00 +0000"),
        ("{{ '2024-01-02' | date_to_string }}", "02 Jan 2024"),
        ("{{ 'a < b & \"c\"' | xml_escape }}", "a &lt; b &amp; &quot;c&quot;"),
        ("{{ 'foo, bar; baz?' | cgi_escape }}", "foo%2C+bar%3B+baz%3F"),
        ("{{ 'foo, bar \\baz?' | uri_escape }}", "foo,%20bar%20%5Cbaz?"),
        ("{{ page.tags | jsonify }}", '["t1","t2"]'),
        ("{{ site.data.releases.v3 | jsonify }}", '{"version":"3.3.0","size":22068888}'),
        ("{{ 'The _config.yml file' | slugify }}", "the-config-yml-file"),
        ("{{ 'The _config.yml file' | slugify: 'pretty' }}", "the-_config.yml-file"),
        ("{{ 'The _cönfig.yml file' | slugify: 'ascii' }}", "the-c-nfig-yml-file"),
        ("{{ 'The _cönfig.yml file' | slugify: 'latin' }}", "the-config-yml-file"),
        ("{{ 'Hello World' | slugify: 'raw' }}", "hello-world"),
        ("{{ 'one two  three' | number_of_words }}", "3"),
        ("{{ '你好 hello' | number_of_words: 'cjk' }}", "3"),
        ("{{ page.tags | push: 't3' | array_to_sentence_string }}", "t1, t2, and t3"),
        ("{{ page.tags | array_to_sentence_string: 'or' }}", "t1 or t2"),
        ("{{ '  a \n b  ' | normalize_whitespace }}", "a b"),
        ('{{ "Hi -- it\'s" | smartify }}', "Hi &ndash; it&rsquo;s"),
        ("{{ '**b**' | markdownify }}", "<p><strong>b</strong></p>\n"),
        ("{{ page.tags | pop | join: ',' }}", "t1"),
        ("{{ page.tags | shift | join: ',' }}", "t2"),
        ("{{ page.tags | unshift: 't0' | join: ',' }}", "t0,t1,t2"),
        ("{{ page.tags | inspect }}", "[&quot;t1&quot;, &quot;t2&quot;]"),
        ("{{ site.posts | where: 'title', 'Launch' | map: 'url' | first }}", "/news/2021/03/04/launch.html"),
        ("{{ site.posts | where: 'categories', 'a' | size }}", "1"),
        ("{{ site.posts | where_exp: 'p', \"p.title contains 'L'\" | map: 'title' | join }}", "Launch"),
        ("{{ site.posts | find: 'title', 'Old' | map: 'url' }}", "/2019/05/06/old.html"),
        ("{{ site.posts | find_exp: 'p', \"p.title == 'Hello'\" | map: 'title' }}", "Hello"),
        ("{{ site.posts | sort: 'title' | map: 'title' | join: ',' }}", "Hello,Launch,Old"),
        ("{{ site.data.sizes | sort: 'bytes' | last | map: 'name' }}", "big"),
        ("{{ site.posts | group_by: 'title' | size }}", "3"),
        ("{% assign g = site.data.sizes | group_by_exp: 's', 's.bytes | size' %}{{ g | map: 'name' | join }}",
         "2"),
        ("{{ '3' | to_integer | plus: 1 }}", "4"),
    ],
)
def test_filter(site: Site, template: str, expected: str) -> None:
    assert out(site, template) == expected


def test_sample_is_stable_between_builds(site: Site) -> None:
    outputs = {out(site, "{{ site.data.sizes | sample: 1 | map: 'name' }}") for _ in range(5)}
    assert len(outputs) == 1


def test_date_filters_use_the_site_time_zone(site: Site) -> None:
    from zoneinfo import ZoneInfo

    seoul = replace(site, timezone=ZoneInfo("Asia/Seoul"))
    assert out(seoul, "{{ page.date | date_to_xmlschema }}") == "2024-06-26T18:30:00+09:00"


# --- in a build --------------------------------------------------------------------------------------------


def _jekyll_site(root: Path) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "feedwright.toml").write_text('[site]\ntitle = "T"\nurl = "https://ex.org/"\n', encoding="utf-8")
    return root


def test_build_resolves_post_url_and_reports_warnings(tmp_path: Path) -> None:
    root = _jekyll_site(tmp_path / "s")
    (root / "content" / "2024-01-01-first.md").write_text("---\ntitle: First\n---\nFirst post.\n")
    (root / "content" / "2024-01-02-second.md").write_text(
        "---\ntitle: Second\n---\nSee [first]({% post_url 2024-01-01-first %}).\n\n{% include gone.html %}\n"
    )
    report = build(load_site(root), now=datetime(2024, 2, 1, tzinfo=UTC))
    feed = (root / "output" / "feed.json").read_text()
    assert 'href=\\"https://ex.org/2024-01-01-first/\\"' in feed
    assert [w for w in report.warnings if "gone.html" in w] == [
        "content/2024-01-02-second.md:6: Liquid tag {% include %}: include 'gone.html' not found in _includes; left out"
    ]


def _render_workers_site(root: Path, body: str) -> Path:
    site = make_site(root, "[build]\nlimit = 10\n")
    for i in range(8):
        write_post(site, f"2024-01-0{i + 1}-p{i}.md", {"title": f"P{i}", "date": f"2024-01-0{i + 1}"},
                   f"{body} ({i})\n\nMore.\n")
    return site


@pytest.mark.parametrize(
    ("body", "asked"),
    [
        ("{{ page.title }}, {{ site.title }}, {{ site.time | date: '%Y' }}, {{ site.data | size }}", set()),
        ("{{ site.posts | size }} posts, newest {{ site.posts.first.title }}", {WHOLE}),
        ("{{ site.categories | size }} {{ site | size }}", {WHOLE}),
        ("[first]({% post_url 2024-01-01-p0 %})", {("by_stem", "2024-01-01-p0")}),
        ("[first]({% link content/2024-01-01-p0.md %})", {("by_source", "content/2024-01-01-p0.md")}),
    ],
)
def test_render_workers_ask_for_the_posts_only_when_a_template_looks_at_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, asked: set
) -> None:
    """Workers get the build's time and files, not every live post: a template that lists the posts has them
    asked of the parent (once per worker), a post_url or link only the post it names; the feeds are those of a
    build in one process."""
    here = _render_workers_site(tmp_path / "here", body)
    expected = build(load_site(here), now=NOW)
    there = _render_workers_site(tmp_path / "there", body)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_RENDERS", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    questions: list[tuple[int, Any]] = []
    answer_request = parallel.Workers._answer_request

    def counted(self: parallel.Workers, worker: Any, question: Any) -> None:
        questions.append((worker.proc.pid, question))
        answer_request(self, worker, question)

    monkeypatch.setattr(parallel.Workers, "_answer_request", counted)
    report = build(load_site(there), now=NOW)
    assert {q for _, q in questions} == asked
    assert len(questions) == len(set(questions)) <= 2, questions  # once per worker
    assert report.warnings == expected.warnings == []
    assert output_files(there / "output") == output_files(here / "output")


def _site_drops(site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    from feedwright.pipeline.liquid.context import site_drop

    made: list[int] = []

    def load(question: Any) -> Any:
        made.append(1)
        return answer(LINKS, question)

    lazy = site_drop(site, DeferredLinks(WHEN, "", load), {"d": 1})
    assert not made
    return lazy, site_drop(site, LINKS, {"d": 1})


@pytest.mark.parametrize(
    "look",
    [
        lambda d: d["posts"], lambda d: d["tags"], lambda d: list(d), lambda d: len(d), lambda d: "posts" in d,
        lambda d: json.dumps(d, default=str), lambda d: repr(d), lambda d: f"{d}", lambda d: dict(d),
        lambda d: {**d}, lambda d: d.get("categories"), lambda d: list(d.items()), lambda d: list(d.values()),
        lambda d: d.copy(), lambda d: d == {}, lambda d: list(reversed(d)), lambda d: pickle.loads(pickle.dumps(d)),
    ],
)
def test_site_made_on_first_use_is_the_site_in_every_way(site: Site, look: Any) -> None:
    lazy, eager = _site_drops(site)
    assert look(lazy) == look(eager)
    assert dict.__len__(lazy) == len(eager) and list(dict.keys(lazy)) == list(eager)  # made whole, in order


def test_site_values_other_than_the_posts_do_not_make_them(site: Site) -> None:
    lazy, eager = _site_drops(site)
    for key in ("title", "url", "baseurl", "time", "data", "author"):
        assert lazy[key] == eager[key]
    with pytest.raises(KeyError):
        lazy["nothing"]
    assert dict.__len__(lazy) == len(eager) - 3  # posts, categories and tags not made yet
    env = JekyllEnvironment(site)
    text = env.from_string("{{ site.title }} {{ site.author }} {{ site.baseurl }}").render(site=lazy)
    assert text == f"{site.title} Ana /blog" and dict.__len__(lazy) == len(eager) - 3
    assert env.from_string("{{ site.posts | map: 'title' | join: ',' }}").render(site=lazy) == "Hello,Launch,Old"


# --- excerpts ----------------------------------------------------------------------------------------------


def _summary(site: Site, body: str, front: str = "title: Here\n") -> str:
    return render(post(site, body, front), site, LINKS).summary


def test_excerpt_is_the_text_up_to_the_first_blank_line(site: Site) -> None:
    body = "First line\nstill the *first* paragraph.\n\nSecond paragraph."
    assert _summary(site, body) == "First line still the first paragraph."


def test_excerpt_separator_from_front_matter_and_from_config(site: Site) -> None:
    body = "Intro one.\n\nIntro two.\n<!--more-->\nThe rest."
    assert _summary(site, body, "title: Here\nexcerpt_separator: <!--more-->\n") == "Intro one. Intro two."
    configured = replace(site, variables={**site.variables, "excerpt_separator": "<!--more-->"})
    assert _summary(configured, body) == "Intro one. Intro two."
    assert _summary(site, body) == "Intro one."


def test_excerpt_is_rendered_liquid_and_keeps_reference_links(site: Site) -> None:
    body = "Release of Ruby {{ page.version }}, see [notes][n] and {{ site.data.releases.v3.size }} bytes.\n\n" \
           "More.\n\n[n]: https://ex.org/notes\n"
    p = post(site, body, "title: Here\nversion: 3.3.0\n")
    entry = render(p, site, LINKS)
    assert entry.summary == "Release of Ruby 3.3.0, see notes and 22068888 bytes."


def test_excerpt_cut_inside_a_liquid_block_is_closed(site: Site) -> None:
    body = "{% if page.title %}Shown\n\n{% endif %}Rest"
    assert _summary(site, body) == "Shown"


def test_excerpt_from_front_matter_wins(site: Site) -> None:
    p = replace(post(site, "Body one.\n\nBody two."), summary="Given")
    assert render(p, site, LINKS).summary == "Given"


def test_excerpt_without_text_falls_back_to_the_first_paragraph_with_some(site: Site) -> None:
    assert _summary(site, "![x](x.png)\n\nBody **text**.\n") == "Body text."


def test_include_parameter_literals_are_values_as_in_ruby(site: Site) -> None:
    assert out(site, "{% include note.html text=19000 who=true %}") == '<p class="note">19000 (true)</p>\n'


def test_dot_folders_are_not_readable(site: Site) -> None:
    (site.root / ".feedwright").mkdir()
    (site.root / ".feedwright" / "state.json").write_text("{}")
    (site.root / "_posts" / ".secret").write_text("hidden")
    for tag in ("{% link .feedwright/state.json %}", "{% include_relative .secret %}"):
        text, warnings = liquid(site, tag)
        assert text == "" and len(warnings) == 1


def test_render_with_liquid_false_from_config_defaults(site: Site) -> None:
    defaults = [
        {"scope": {"path": ""}, "values": {"license": "CC"}},
        {"scope": {"path": "_posts", "type": "posts"}, "values": {"render_with_liquid": False}},
        {"scope": {"path": "_posts/other"}, "values": {"render_with_liquid": True}},
        {"scope": {"path": "", "type": "pages"}, "values": {"license": "no"}},
    ]
    configured = replace(site, variables={**site.variables, "defaults": defaults})
    assert out(configured, "{{ page.title }}") == "{{ page.title }}"
    assert out(configured, "{{ page.license }} {{ page.title }}", front="title: Here\nrender_with_liquid: true\n") == (
        "CC Here"
    )


_PIECES = st.sampled_from([
    "{{", "}}", "{%", "%}", "{% if x %}", "{% endif %}", "{% for i in (1..3) %}", "{% endfor %}", "{% raw %}",
    "{% endraw %}", "{% comment %}", "{% endcomment %}", "{% include note.html x=1 %}", "{% include ", "{{ page.",
    "{% post_url 2020/2020-01-02-hello %}", "{% highlight ruby %}", "{% endhighlight %}", "| where: 'a', 1",
    "{{ site.data.links | sort: 'name' | first }}", "{% assign a = ", "\n", "\n\n", "'", '"', "-", "|", "text ",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=25))
def test_any_text_renders_without_raising(site: Site, pieces: list[str]) -> None:
    body = "".join(pieces)
    p = post(site, body)
    result = render_liquid(site, p, body, LINKS, {"title": "Here"}, 3)
    assert isinstance(result.text, str)
    assert all(w.startswith("_posts/2024-06-26-here.md") and "\n" not in w for w in result.warnings)


def test_cached_render_follows_includes_data_and_other_posts(tmp_path: Path) -> None:
    root = _jekyll_site(tmp_path / "s")
    (root / "_includes").mkdir()
    (root / "_data").mkdir()
    (root / "_includes" / "sig.html").write_text("signed v1")
    (root / "_data" / "v.yml").write_text("version: 1.0\n")
    (root / "content" / "2024-01-01-first.md").write_text("---\ntitle: First\n---\nPlain post.\n")
    (root / "content" / "2024-01-02-second.md").write_text(
        "---\ntitle: Second\n---\n{% include sig.html %} {{ site.data.v.version }} {% post_url 2024-01-01-first %}\n"
    )
    now = datetime(2024, 2, 1, tzinfo=UTC)

    def second() -> str:
        build(load_site(root), now=now)
        feed = json.loads((root / "output" / "feed.json").read_text())
        return next(i["content_html"] for i in feed["items"] if i["title"] == "Second")

    assert second() == "<p>signed v1 1.0 /2024-01-01-first/</p>"
    assert second() == "<p>signed v1 1.0 /2024-01-01-first/</p>"  # from the cache
    (root / "_includes" / "sig.html").write_text("signed v2")
    assert second() == "<p>signed v2 1.0 /2024-01-01-first/</p>"
    (root / "_data" / "v.yml").write_text("version: 2.0\n")
    assert second() == "<p>signed v2 2.0 /2024-01-01-first/</p>"
    (root / "content" / "2024-01-01-first.md").write_text("---\ntitle: First\npermalink: /moved/\n---\nPlain.\n")
    assert second() == "<p>signed v2 2.0 /moved/</p>"


def test_error_inside_an_include_names_the_post_line_and_the_include(site: Site) -> None:
    (site.root / "_includes" / "bad.html").write_text("ok\n{{ 'x' | date_to_string }}\n")
    text, warnings = liquid(site, "one\n{% include bad.html %}")
    assert text == "one\nok\n\n"
    assert warnings == (
        "_posts/2024-06-26-here.md:5: Liquid output {{ 'x' | date_to_string }} (in include bad.html, line 2): "
        "invalid date 'x'; left out",
    )


@pytest.mark.parametrize(
    "refs",
    [
        (),
        (PostRef("a.md", URL + "a/", "A", WHEN),),
        REFS,
        (PostRef("a.md", URL + "a/", "A", WHEN, ("",), ("x", "")), PostRef("b.md", URL + "b/", "", WHEN, (), ("",))),
        (PostRef("a.md", URL + "a/", "A \x01 B", WHEN, ("c",)),),
        (PostRef("a.md", URL + "a/", "A", WHEN, ("c\x00d",)),),
        (PostRef("a.md", URL + "a/", "A", WHEN, (), ("c\x01d", "e")),),  # names are joined by \x01: as they are
        (PostRef("a\x00.md", URL, "A", datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))),),
    ],
)
def test_links_travel_to_render_workers_unchanged(refs: tuple[PostRef, ...]) -> None:
    links = Links(refs, WHEN, "digest")
    back = pickle.loads(pickle.dumps(links, pickle.HIGHEST_PROTOCOL))
    assert back == links
    fields = ("source", "url", "title", "date", "categories", "tags")
    assert [[type(getattr(r, f)) for f in fields] for r in back.posts] == [
        [type(getattr(r, f)) for f in fields] for r in refs
    ]
    assert [r.date.tzinfo for r in back.posts] == [r.date.tzinfo for r in refs]
    assert back.by_stem == links.by_stem and back.by_source == links.by_source
    assert back.digest == links.digest  # the Liquid cache key of the posts that refer to them


_OFFSETS = st.sampled_from([timedelta(0), timedelta(hours=9), timedelta(hours=-5, minutes=-30)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)), _OFFSETS,
                          st.sampled_from(["a.md", "b.md", "c/d.md"])), max_size=12))
def test_links_list_the_live_posts_newest_first_by_instant_then_path(site: Site, rows: list) -> None:
    """build_links orders by the time since the epoch: the order of the aware dates themselves (same instant in
    two zones: by path), to the microsecond, in any year."""
    posts = [replace(post(site), source=f"{i}/{name}", published=when.replace(tzinfo=timezone(offset)))
             for i, (when, offset, name) in enumerate(rows)]
    late = datetime(9999, 12, 31, tzinfo=UTC)
    expected = sorted(posts, key=lambda p: (p.published, p.source), reverse=True)
    assert [r.source for r in build_module.build_links(site, posts, late).posts] == [p.source for p in expected]
