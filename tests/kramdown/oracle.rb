# Real kramdown as Jekyll 4.3.1 configures it (GFM input, no hard wraps): a JSON array of Markdown texts on stdin,
# the JSON array of their HTML on stdout. One process per batch, so a corpus costs one Ruby start-up.
require "json"
require "kramdown"
require "kramdown-parser-gfm"

OPTIONS = { input: "GFM", hard_wrap: false, syntax_highlighter: "rouge", show_warnings: false }.freeze
texts = JSON.parse($stdin.read)
print JSON.generate(texts.map { |text| Kramdown::Document.new(text, OPTIONS).to_html })
