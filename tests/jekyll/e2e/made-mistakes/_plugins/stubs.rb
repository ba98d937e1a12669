# Plugins made-mistakes uses; feedwright leaves plugin tags out, so block tags keep their content here too and
# the others render nothing.
Liquid::Template.register_tag("include_cached", Jekyll::Tags::IncludeTag)
class StubBlock < Liquid::Block
  def render(context) = super
end
class StubTag < Liquid::Tag
  def render(_context) = ""
end
%w[figure notice].each { |name| Liquid::Template.register_tag(name, StubBlock) }
%w[youtube vimeo picture lazyload asset_source].each { |name| Liquid::Template.register_tag(name, StubTag) }
