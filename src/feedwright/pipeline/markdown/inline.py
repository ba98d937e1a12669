"""Python-Markdown's inline treeprocessor, trying only the inline patterns that can match a piece of text.

The stock ``inline`` treeprocessor tries every registered pattern on every text node (a regex search and a dozen
Python calls each): half of a post's Markdown time, though most text holds none of the characters most patterns
need (no `````, no ``\\``, no ``<``, no ``&``). :class:`TriggeredInline` does the same walk, in the same order
and with the same results, but first asks whether the text holds one of the strings every match of a pattern
needs (:data:`TRIGGERS`): when it holds none, the pattern could not match and is passed over, exactly as if it
had been tried and failed. A pattern whose regex is not in the table is always tried. The reference patterns
(``[text][id]``, ``![alt][id]``) are passed over too in a document that defines no reference.

It replaces the ``inline`` treeprocessor through Python-Markdown's public registry (:class:`InlineExtension`).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from typing import TYPE_CHECKING, Any

from markdown import Extension, util
from markdown import inlinepatterns as patterns
from markdown.treeprocessors import InlineProcessor

if TYPE_CHECKING:
    from markdown import Markdown

# An inline pattern's regex -> strings one of which is in any text it can match (its lookarounds included).
TRIGGERS: dict[str, tuple[str, ...]] = {
    patterns.BACKTICK_RE: ("`",),
    patterns.ESCAPE_RE: ("\\",),
    r"\[\^([^\]]*)\]": ("[^",),  # footnotes' reference (a local in its extendMarkdown)
    patterns.REFERENCE_RE: ("[",),  # also LINK_RE: the same "(?<!\!)\[" in Python-Markdown 3.x
    patterns.LINK_RE: ("[",),
    patterns.IMAGE_LINK_RE: ("![",),
    patterns.IMAGE_REFERENCE_RE: ("![",),
    patterns.AUTOLINK_RE: ("://",),
    patterns.AUTOMAIL_RE: ("@",),
    patterns.LINE_BREAK_RE: ("  \n",),
    patterns.HTML_RE: ("<",),
    patterns.ENTITY_RE: ("&",),
    r"\*|_": ("*", "_"),  # emphasis and strong (Python-Markdown's delimiter processor)
    r"\~": ("~",),  # pymdownx.tilde's strike-through
}

_PREFIX = util.INLINE_PLACEHOLDER_PREFIX


def triggers(pattern: Any) -> tuple[str, ...] | None:
    """The strings one of which text must hold for ``pattern`` to match it; None: try it on any text."""
    compiled = getattr(pattern, "compiled_re", None)
    return TRIGGERS.get(compiled.pattern) if compiled is not None else None


class TriggeredInline(InlineProcessor):
    """The ``inline`` treeprocessor, skipping the patterns that cannot match (see the module's notes).

    The walk is Python-Markdown's own (``InlineProcessor.run``): text nodes in document order, patterns by
    priority, a match stashed as a placeholder and its children processed from the next pattern on.
    """

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        found = list(self.md.inlinePatterns)
        if not all(isinstance(p, patterns.InlineProcessor) for p in found):
            return super().run(tree, ancestors)  # a legacy Pattern: the stock processor handles those
        # A reference pattern looks its id up in the document's link definitions: with none, it makes nothing.
        self._patterns = [(p, triggers(p)) for p in found
                          if self.md.references or not isinstance(p, patterns.ReferenceInlineProcessor)]
        self.stashed_nodes: dict[str, etree.Element | str] = {}
        tree_parents = [] if ancestors is None else ancestors[:]
        self.parent_map = {c: p for p in tree.iter() for c in p}
        self._ancestors_of(tree, tree_parents)
        stack = [(tree, tree_parents)]
        while stack:
            element, parents = stack.pop(0)
            self.ancestors = parents
            if element is not tree:
                self.ancestors.append(element.tag.lower())
            queue = []
            for child in element:
                if child.text and not isinstance(child.text, util.AtomicString):
                    self.ancestors.append(child.tag.lower())
                    text, child.text = child.text, None
                    found_nodes = self._placeholders(self._inline(text), child)
                    for item in found_nodes:
                        self.parent_map[item[0]] = child
                    stack += found_nodes
                    queue.append((child, found_nodes))
                    self.ancestors.pop()
                if child.tail:
                    self._tail(element, child)
                if len(child):
                    self.parent_map[child] = element
                    stack.append((child, self.ancestors[:]))
            for child, found_nodes in queue:
                for i, (node, _) in enumerate(found_nodes):
                    child.insert(i, node)
        return tree

    def _tail(self, element: etree.Element, child: etree.Element) -> None:
        tail = self._inline(child.tail or "")
        dummy = etree.Element("d")
        child.tail = None
        result = self._placeholders(tail, dummy, False)
        if dummy.tail:
            child.tail = dummy.tail
        pos = list(element).index(child) + 1
        for node, _ in reversed(result):
            self.parent_map[node] = element
            element.insert(pos, node)

    def _ancestors_of(self, parent: etree.Element | None, parents: list[str]) -> None:
        found = []
        while parent is not None:
            found.append(parent.tag.lower())
            parent = self.parent_map.get(parent)
        parents.extend(reversed(found))

    def _inline(self, data: str, index: int = 0) -> str:
        """``data`` with each pattern from ``index`` on applied in turn, its matches stashed as placeholders."""
        if isinstance(data, util.AtomicString):
            return data
        start = 0
        found = self._patterns
        count = len(found)
        while index < count:
            pattern, needs = found[index]
            if needs is not None:
                for needed in needs:
                    if needed in data:
                        break
                else:  # cannot match: as the stock processor after trying it and failing
                    index += 1
                    start = 0
                    continue
            data, matched, start = self._apply(pattern, data, index, start)
            if not matched:
                index += 1
        return data

    def _apply(self, pattern: patterns.InlineProcessor, data: str, index: int, start: int) -> tuple[str, bool, int]:
        for exclude in pattern.ANCESTOR_EXCLUDES:
            if exclude.lower() in self.ancestors:
                return data, False, 0
        match = None
        begin = end = None
        node: etree.Element | str | None = None
        for match in pattern.getCompiledRegExp().finditer(data, start):
            node, begin, end = pattern.handleMatch(match, data)
            if begin is None or end is None:
                match = None
                continue
            break
        if not match or begin is None or end is None:
            return data, False, 0
        if node is None:
            return data, True, end
        if not isinstance(node, str) and not isinstance(node.text, util.AtomicString):
            for child in [node, *node]:
                if child.text:
                    self.ancestors.append(child.tag.lower())
                    child.text = self._inline(child.text, index + 1)
                    self.ancestors.pop()
                if child.tail:
                    child.tail = self._inline(child.tail, index)
        key = f"{len(self.stashed_nodes):04d}"
        self.stashed_nodes[key] = node
        placeholder = util.INLINE_PLACEHOLDER % key
        return f"{data[:begin]}{placeholder}{data[end:]}", True, begin + len(placeholder)

    def _placeholders(
        self, data: str | None, parent: etree.Element, is_text: bool = True
    ) -> list[tuple[etree.Element, list[str]]]:
        """The stashed nodes ``data``'s placeholders stand for; the text between them goes to ``parent``."""
        result: list[tuple[etree.Element, list[str]]] = []

        def link_text(text: str | None) -> None:
            if not text:
                return
            if result:
                last = result[-1][0]
                last.tail = last.tail + text if last.tail else text
            elif not is_text:
                parent.tail = parent.tail + text if parent.tail else text
            else:
                parent.text = parent.text + text if parent.text else text

        start = 0
        while data:
            index = data.find(_PREFIX, start)
            if index == -1:
                text = data[start:]
                link_text(util.AtomicString(text) if isinstance(data, util.AtomicString) else text)
                break
            m = util.INLINE_PLACEHOLDER_RE.search(data, index)
            key, end = (m.group(1), m.end()) if m else (None, index + 1)
            if key not in self.stashed_nodes:  # not one of ours
                end = index + len(_PREFIX)
                link_text(data[start:end])
                start = end
                continue
            node = self.stashed_nodes[key]
            if index > 0:
                link_text(data[start:index])
            if isinstance(node, str):
                link_text(node)
                start = end
                continue
            for child in [node, *node]:
                if child.tail and child.tail.strip():
                    self._element_text(node, child, False)
                if child.text and child.text.strip():
                    self._element_text(child, child)
            start = end
            result.append((node, self.ancestors[:]))
        return result

    def _element_text(self, node: etree.Element, subnode: etree.Element, is_text: bool = True) -> None:
        if is_text:
            text, subnode.text = subnode.text, None
        else:
            text, subnode.tail = subnode.tail, None
        result = self._placeholders(text, subnode, is_text)
        pos = list(node).index(subnode) + 1 if not is_text and node is not subnode else 0
        for child, _ in reversed(result):
            node.insert(pos, child)


class InlineExtension(Extension):
    """Registers :class:`TriggeredInline` in place of Python-Markdown's ``inline`` treeprocessor."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.treeprocessors.register(TriggeredInline(md), "inline", 20)
