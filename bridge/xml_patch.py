"""Editing an XML document in place: remove some elements and insert new ones, every other byte kept.

Regenerating an FCP7 XML or FCPXML document through its OTIO adapter loses what the adapter does not model
(transitions, filters, asset metadata, Premiere's own fields). A round trip that must change only markers finds
the byte offsets of elements with expat (the parser under ElementTree, which reports where each tag starts and
ends) and splices text in and out of the original bytes. Documents reach this module only after
`reading` has refused entity declarations (defusedxml), so offsets are those of the text as written.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field


@dataclass
class Element:
    """Where one element lies in the document, and what it holds."""

    tag: str
    attributes: dict[str, str]
    start: int
    """Byte offset of `<tag`."""
    parent: int | None
    """Index of the enclosing element in the list `elements` returns."""
    close: int = -1
    """Byte offset of `</tag>` (of the `/>` of an empty `<tag/>`)."""
    end: int = -1
    """Byte offset just after the element."""
    text: str = ""
    """Character data directly inside (for leaf elements such as `<comment>`)."""
    children: list[int] = field(default_factory=list)


def elements(data: bytes) -> list[Element]:
    """Every element of `data` in document order, with byte offsets."""
    parser = xml.parsers.expat.ParserCreate()
    found: list[Element] = []
    stack: list[int] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        parent = stack[-1] if stack else None
        found.append(Element(tag, attributes, parser.CurrentByteIndex, parent))
        if parent is not None:
            found[parent].children.append(len(found) - 1)
        stack.append(len(found) - 1)

    def end(tag: str) -> None:
        element = found[stack.pop()]
        at = parser.CurrentByteIndex
        if data.startswith(b"</", at):
            element.close, element.end = at, data.index(b">", at) + 1
        else:  # <tag/>: the end event comes at the start tag
            element.end = _tag_end(data, element.start) + 1
            element.close = element.end - 2

    def text(content: str) -> None:
        if stack:
            found[stack[-1]].text += content

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.Parse(data, True)
    return found


def _tag_end(data: bytes, start: int) -> int:
    """Offset of the `>` that ends the start tag at `start` (attribute values may hold `>`)."""
    quote = None
    for index in range(start, len(data)):
        char = data[index : index + 1]
        if quote:
            quote = None if char == quote else quote
        elif char in (b'"', b"'"):
            quote = char
        elif char == b">":
            return index
    raise ValueError("unterminated start tag")


def child_text(document: list[Element], element: Element, tag: str) -> str | None:
    child = next((document[index] for index in element.children if document[index].tag == tag), None)
    return None if child is None else child.text


def newline_of(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data else b"\n"


def line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def indent_at(data: bytes, offset: int) -> bytes:
    """The whitespace before the tag at `offset`, when nothing else precedes it on its line."""
    before = data[line_start(data, offset) : offset]
    return before if not before.strip() else b""


def child_indent(data: bytes, document: list[Element], element: Element) -> bytes:
    """How the element's children are indented (its own indent plus one step, when it has none)."""
    if element.children:
        return indent_at(data, document[element.children[-1]].start)
    own = indent_at(data, element.start)
    return own + (b"\t" if b"\t" in own or not own else b" " * 4)


def whole_lines(data: bytes, element: Element) -> tuple[int, int]:
    """The element's range widened to its lines, when it stands alone on them (so no blank line is left)."""
    start, end = element.start, element.end
    if not indent_at(data, start) and data[line_start(data, start) : start]:
        return start, end
    rest = data[end : end + 2]
    if rest.startswith(b"\r\n"):
        return line_start(data, start), end + 2
    if rest.startswith(b"\n"):
        return line_start(data, start), end + 1
    return start, end


def splice(data: bytes, removals: list[tuple[int, int]], insertions: list[tuple[int, bytes]]) -> bytes:
    """`data` without the byte ranges in `removals` and with each insertion's bytes added before its offset."""
    edits = sorted([(start, end, b"") for start, end in removals] + [(at, at, text) for at, text in insertions],
                   key=lambda edit: (edit[0], edit[1]))  # fmt: skip
    out, cursor = [], 0
    for start, end, text in edits:
        if start < cursor:
            continue  # inside a removed range
        out.append(data[cursor:start])
        out.append(text)
        cursor = end
    out.append(data[cursor:])
    return b"".join(out)
