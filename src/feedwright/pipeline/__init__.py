"""The build's stages, in order: pure functions over frozen values, with no cache, pool or lock in sight.

collect (content/ -> Post) -> normalise (front matter -> fields) -> history (first-seen dates) -> plan (which
feeds carry which posts) -> render (body -> safe HTML) -> serialise (RSS / Atom / JSON Feed bytes) -> pages
(browser view) -> publish (atomic output/) -> announce (WebSub).
"""
