"""Jekyll's URL language: styles, every placeholder, escaping, slugify; expected values from Jekyll's own tests
(test/test_url.rb, test/test_utils.rb, features/permalinks.feature) and, where installed, from Ruby itself."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.jekyll import permalink
from feedwright.jekyll.permalink import Document, PermalinkError, escape_path, generate, sanitize_url
from feedwright.jekyll.slugify import slugify, titleize_slug

# features/permalinks.feature: "Custom Permalink Schema", category stuff, 2009-03-27 22:31:07 UTC.
DOC = Document(
    date=datetime(2009, 3, 27, 22, 31, 7, tzinfo=UTC),
    slug="custom-permalink-schema",
    basename="2009-03-27-custom-permalink-schema",
    categories=("stuff",),
    path="/2009-03-27-custom-permalink-schema",
    output_ext=".html",
)


def _values(**values: str | None) -> dict:
    return {k: (lambda v=v: v or "") for k, v in values.items()}


@pytest.mark.parametrize(("style", "expected"), [
    ("none", "/stuff/custom-permalink-schema.html"),
    ("date", "/stuff/2009/03/27/custom-permalink-schema.html"),
    ("pretty", "/stuff/2009/03/27/custom-permalink-schema/"),
    ("ordinal", "/stuff/2009/086/custom-permalink-schema.html"),
    ("weekdate", "/stuff/2009/W13/Fri/custom-permalink-schema.html"),
    ("/blog/:year/:month/:day/:title/", "/blog/2009/03/27/custom-permalink-schema/"),
    ("/:categories/:title.html", "/stuff/custom-permalink-schema.html"),
    ("/:month-:day-:year/:title.html", "/03-27-2009/custom-permalink-schema.html"),
    ("/:year:month:day:hour:minute:second.html", "/20090327223107.html"),
])
def test_styles_and_templates_from_jekylls_features(style: str, expected: str) -> None:
    assert permalink.url(permalink.style_to_permalink(style), DOC) == expected


@pytest.mark.parametrize(("placeholder", "expected"), [
    ("year", "2009"), ("month", "03"), ("i_month", "3"), ("day", "27"), ("i_day", "27"), ("short_year", "09"),
    ("hour", "22"), ("minute", "31"), ("second", "07"), ("y_day", "086"), ("short_month", "Mar"),
    ("long_month", "March"), ("week", "13"), ("w_year", "2009"), ("w_day", "5"), ("short_day", "Fri"),
    ("long_day", "Friday"), ("title", "custom-permalink-schema"), ("slug", "custom-permalink-schema"),
    ("name", "2009-03-27-custom-permalink-schema"), ("categories", "stuff"), ("slugified_categories", "stuff"),
    ("path", "2009-03-27-custom-permalink-schema"), ("output_ext", ".html"), ("collection", "posts"),
])
def test_every_placeholder(placeholder: str, expected: str) -> None:
    assert permalink.url(f"/x/:{placeholder}", DOC) == f"/x/{expected}".replace("//", "/")


def test_week_based_values_at_the_turn_of_the_year() -> None:
    # 2021-01-01 is a Friday in ISO week 53 of 2020 (UrlDrop#w_year, #week: strftime %G, %V).
    doc = Document(datetime(2021, 1, 1, tzinfo=UTC), "a", "2021-01-01-a", (), "/a", ".html")
    assert permalink.url("/:w_year/W:week/:w_day/:y_day/:i_day/:i_month", doc) == "/2020/W53/5/001/1/1"


def test_dates_are_the_sites_local_time() -> None:
    moment = datetime(2009, 3, 27, 22, 31, 7, tzinfo=UTC).astimezone(ZoneInfo("Asia/Seoul"))
    doc = Document(moment, "a", "a", (), "/a", ".html")
    assert permalink.url("/:year/:month/:day/:hour/", doc) == "/2009/03/28/07/"


def test_categories_are_lower_cased_and_kept_whole() -> None:
    # The case: Jekyll keeps "C++ games" (escaped), where slugifying would give "c-games".
    doc = Document(DOC.date, "x", "x", ("C++ games", "News", "news"), "/x", ".html")
    assert permalink.url("/:categories/:title/", doc) == "/c++%20games/news/x/"
    assert permalink.url("/:slugified_categories/:title/", doc) == "/c-games/news/x/"
    assert permalink.url("/:categories/:title/", Document(DOC.date, "x", "x", (), "/x", "")) == "/x/"


def test_cased_file_names_and_underscores_keep_their_case_in_title_not_in_slug() -> None:
    # features/permalinks.feature: pretty + "Pretty-Permalink-Schema"; :slug of "Custom-Schema"; "Custom_Schema".
    cased = Document(DOC.date, "Pretty-Permalink-Schema", "2009-03-27-Pretty-Permalink-Schema", (), "/p", ".html")
    assert permalink.url(permalink.STYLES["pretty"], cased) == "/2009/03/27/Pretty-Permalink-Schema/"
    slug = Document(DOC.date, "Custom-Schema", "2009-03-27-Custom-Schema", (), "/c", ".html")
    assert permalink.url("/:year/:month/:day/:slug/", slug) == "/2009/03/27/custom-schema/"
    under = Document(DOC.date, "Custom_Schema", "2009-03-27-Custom_Schema", (), "/c", ".html")
    assert permalink.url(permalink.STYLES["pretty"], under) == "/2009/03/27/Custom_Schema/"


def test_a_posts_own_permalink_wins_and_may_use_placeholders() -> None:
    assert permalink.url(permalink.STYLES["date"], DOC, "/custom/posts/1/") == "/custom/posts/1/"
    assert permalink.url(permalink.STYLES["date"], DOC, "/custom/posts/some.html") == "/custom/posts/some.html"
    assert permalink.url(permalink.STYLES["date"], DOC, "/:year/:title/") == "/2009/custom-permalink-schema/"


# test/test_url.rb ------------------------------------------------------------------------------------------


def test_url_rb_replaces_repeated_and_nil_placeholders() -> None:
    assert generate("/:x/:y", _values(x="foo", y="bar")) == "/foo/bar"
    assert generate("/:x/:y/:x/", _values(x="foo", y="bar")) == "/foo/bar/foo/"
    assert generate("/:x/:y/:z/", _values(x="foo", y="bar", z=None)) == "/foo/bar/"
    assert generate("/:x/:y/", _values(x="foo", y="foo bar:foobar")) == "/foo/foo%20bar:foobar/"


def test_url_rb_escapes_a_documents_title_and_name() -> None:
    doc = Document(DOC.date, "escape-+ #%20[]", "escape-+ #%20[]", (), "/escape-+ #%20[]", ".html")
    assert permalink.url("/methods/:title/:name:output_ext", doc) == "/methods/escape-+-20/escape-20.html"


def test_url_rb_key_without_trailing_underscore() -> None:
    doc = Document(DOC.date, "configuration", "configuration", (), "/configuration", ".html")
    assert permalink.url("/methods/:name-:slug_:collection_:title", doc) == (
        "/methods/configuration-configuration_posts_configuration"
    )


def test_url_rb_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(PermalinkError, match=":headline"):
        permalink.url("/methods/:headline", DOC)


def test_sanitize_url_never_climbs() -> None:
    assert sanitize_url("../../etc/passwd") == "/etc/passwd"
    assert sanitize_url("a//b/./c") == "/a/b/c"


def test_document_id_is_jekyll_feeds() -> None:
    assert permalink.document_id("/news/2022/10/26/jekyll-4-3-1-released/", "jekyll-4-3-1-released") == (
        "/news/2022/10/26/jekyll-4-3-1-released"
    )
    assert permalink.document_id("/2009/03/27/x.html", "x") == "/2009/03/27/x"
    assert permalink.document_id("/x/", "x") == "/x"


def test_absolute_url_is_addressable_normalised() -> None:
    assert permalink.absolute_url("https://Ex.ORG", "/blog/", "/a%7e/%c3%a9/") == "https://ex.org/blog/a~/%C3%A9/"
    assert permalink.absolute_url("", "", "/x/") == "/x/"
    # NFKC: a full-width letter becomes its plain form.
    assert permalink.normalize("https://ex.org/\uff21/") == "https://ex.org/A/"


# test/test_utils.rb ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "mode", "cased", "expected"), [
    ("Working with drafts", None, False, "working-with-drafts"),
    ("Basic   Usage", None, False, "basic-usage"),
    ("  Working with drafts   ", None, False, "working-with-drafts"),
    ("So what is Jekyll, exactly?", None, False, "so-what-is-jekyll-exactly"),
    ("كيف حالك؟", None, False, "كيف-حالك"),
    ("Pre-releases", None, False, "pre-releases"),
    ("The _config.yml file", None, False, "the-config-yml-file"),
    ("Customizing Git - Git Hooks", None, False, "customizing-git-git-hooks"),
    ("5時〜6時 三・一四", None, False, "5時-6時-三-一四"),
    ("மல்லிப்பூ வகைகள்", None, False, "மல்லிப்பூ-வகைகள்"),
    ("மல்லிப்பூ வகைகள்", "pretty", False, "மல்லிப்பூ-வகைகள்"),
    ("The _config.yml file?", "default", False, "the-config-yml-file"),
    ("The _config.yml file?", "pretty", False, "the-_config.yml-file"),
    ("The _config.yml file?", "ascii", False, "the-config-yml-file"),
    ("fürtive glance!!!!", "ascii", False, "f-rtive-glance"),
    ("The _config.yml file?", "latin", False, "the-config-yml-file"),
    ("fürtive glance!!!!", "latin", False, "furtive-glance"),
    ("àáçèéíïòóúü", "latin", False, "aaceeiioouu"),
    ("Aあわれ鬱господинZ", "latin", False, "a-z"),
    ("The _config.yml file?", "raw", False, "the-_config.yml-file?"),
    ("The _config.yml file?", "none", False, "the _config.yml file?"),
    ("Working with drafts", None, True, "Working-with-drafts"),
    ("So what is Jekyll, exactly?", None, True, "So-what-is-Jekyll-exactly"),
    ("The _config.yml file?", "pretty", True, "The-_config.yml-file"),
    ("The _config.yml file?", "raw", True, "The-_config.yml-file?"),
    ("The _config.yml file?", "none", True, "The _config.yml file?"),
    ("💎", None, False, ""),
])
def test_slugify_as_jekylls_test_utils(text: str, mode: str | None, cased: bool, expected: str) -> None:
    assert slugify(text, mode, cased) == expected


def test_slugify_nil_and_titleize() -> None:
    assert slugify(None) is None
    assert titleize_slug("jekyll-4-3-1-released") == "Jekyll 4 3 1 Released"
    assert titleize_slug("my-ABC-post-") == "My Abc Post"


# Ruby itself, on many strings ----------------------------------------------------------------------------

_RUBY = """
require "jekyll"; require "json"
STDIN.each_line do |line|
  s = JSON.parse(line)
  out = begin; Jekyll::URL.escape_path(s); rescue StandardError; nil; end
  slugs = %w(default pretty ascii raw).map { |m| Jekyll::Utils.slugify(s, :mode => m) }
  puts JSON.generate([out, slugs, Jekyll::Utils.slugify(s, :mode => "pretty", :cased => true)])
end
"""
_ALPHABET = "aZ09 -_.~!$&'()*+,;=:@/?#[]%<>\"{}|\\^`\t\u00e9\u00fc\ud55c\uae00\u6642\u3001\u00a0\u2014\u0301\uff21"


def _samples(n: int = 400) -> list[str]:
    rng = random.Random(9)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 14))) for _ in range(n)]


@pytest.mark.skipif(shutil.which("ruby") is None or shutil.which("jekyll") is None,
                    reason="Ruby with Jekyll is not installed (apt-get install jekyll; .ci/run does)")
def test_escape_path_and_slugify_agree_with_ruby() -> None:
    samples = _samples()
    done = subprocess.run(["ruby", "-e", _RUBY], input="\n".join(json.dumps(s) for s in samples) + "\n",
                          capture_output=True, text=True, timeout=120, check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(samples)
    wrong = []
    for text, (escaped, slugs, pretty_cased) in zip(samples, answers, strict=True):
        ours = [slugify(text, mode) for mode in ("default", "pretty", "ascii", "raw")]
        if escaped is not None and escape_path(text) != escaped:
            wrong.append(("escape_path", text, escape_path(text), escaped))
        if ours != slugs or slugify(text, "pretty", True) != pretty_cased:
            wrong.append(("slugify", text, ours, slugs))
    assert wrong == []


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(slug=_TEXT, basename=_TEXT, categories=st.lists(_TEXT, max_size=3), own=st.none() | _TEXT,
       style=st.sampled_from([*permalink.STYLES, "/:categories/:slug/:name/:path/:i_month-:short_month/"]))
def test_any_post_gets_a_uri_under_the_site(slug: str, basename: str, categories: list[str], own: str | None,
                                            style: str) -> None:
    doc = Document(DOC.date, slug, basename, tuple(categories), "/" + basename, ".html")
    try:
        path = permalink.url(permalink.style_to_permalink(style), doc, own or None)
    except PermalinkError:
        assert own is not None and re.search(r":[a-z_]+", own)
        return
    assert path.startswith("/") and "//" not in path and ".." not in path
    link = permalink.normalize("https://ex.org/blog" + path)
    assert link.startswith("https://ex.org/blog/")
    assert re.fullmatch(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%#]*", link), link
