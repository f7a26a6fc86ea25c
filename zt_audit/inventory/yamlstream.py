"""Building Python data straight from YAML parser events.

PyYAML's usual path composes a node tree for a whole document before constructing any
data. A ``kubectl get -A -o yaml`` export is one document holding every object, so that
tree costs gigabytes. Here each event goes straight into the data, strings repeated
across objects are shared, and the limits that keep hostile input harmless (nesting
depth, alias expansion, recursive aliases) are enforced as the events arrive.

Documents that use rarer YAML features (merge keys, complex keys, explicit tags beyond
the core schema) are handed back for PyYAML's own constructor, which also explains what
is invalid about them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 2_000_000

_CORE = "tag:yaml.org,2002:"
_TEXT_TAGS = frozenset({_CORE + "str", _CORE + "timestamp", _CORE + "binary"})
_BUILDERS = {
    _CORE + "int": SafeConstructor.construct_yaml_int,
    _CORE + "bool": SafeConstructor.construct_yaml_bool,
    _CORE + "float": SafeConstructor.construct_yaml_float,
}
_NULL = _CORE + "null"
_MAP_TAGS = frozenset({None, "!", _CORE + "map"})
_SEQ_TAGS = frozenset({None, "!", _CORE + "seq"})
SHARED_STRING_LENGTH = 64


@dataclass
class Document:
    """One YAML document: its data, or why it was refused, and where its objects are."""

    start: yaml.Mark
    end: yaml.Mark | None = None
    data: Any = None
    problem: str | None = None  # the document is refused, with this reason
    unusual: bool = False  # PyYAML's constructor must build it
    spans: dict[int, tuple[yaml.Mark, yaml.Mark]] = field(default_factory=dict)


class _Frame:
    """A mapping or sequence being filled."""

    __slots__ = ("anchor", "container", "key", "mapping", "size_at_start", "start")

    def __init__(self, container: Any, mapping: bool, start: yaml.Mark, anchor: Any, size: int):
        self.container = container
        self.mapping = mapping
        self.key: Any = _NO_KEY
        self.start = start
        self.anchor = anchor
        self.size_at_start = size


_NO_KEY = object()


class _Refused(Exception):
    """The document breaks a limit; its remaining events are skipped."""


def documents(loader: Any) -> Iterator[Document]:
    """Documents of a stream parsed by ``loader`` (a CSafeLoader), in order.

    ``yaml.MarkedYAMLError`` propagates: after a syntax error the parser cannot go on.
    """
    builder = _Builder(loader)
    loader.get_event()  # StreamStartEvent
    while True:
        event = loader.get_event()
        if isinstance(event, StreamEndEvent):
            return
        yield builder.document(event.start_mark)


class _Builder:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.strings: dict[str, str] = {}
        self.scalars: dict[tuple[str, str], Any] = {}
        self.constructor = SafeConstructor()

    def document(self, start: yaml.Mark) -> Document:
        document = Document(start)
        try:
            self._fill(document)
        except _Refused as refusal:
            document.problem = str(refusal)
            document.data = None
            self._skip_to_end(document)
        return document

    def _skip_to_end(self, document: Document) -> None:
        while True:
            event = self.loader.get_event()
            if isinstance(event, DocumentEndEvent):
                document.end = event.end_mark
                return

    def _fill(self, document: Document) -> None:
        get_event = self.loader.get_event
        stack: list[_Frame] = []
        anchors: dict[str, tuple[Any, int]] = {}
        size = 0
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                size += 1
                value = self._scalar(event, document)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                size += 1
                mapping = kind is MappingStartEvent
                if event.tag not in (_MAP_TAGS if mapping else _SEQ_TAGS):
                    document.unusual = True
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(f"document nested deeper than {MAX_DEPTH} levels; skipped")
                container: Any = {} if mapping else []
                stack.append(_Frame(container, mapping, event.start_mark, event.anchor, size))
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                value = frame.container
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, size - frame.size_at_start + 1)
                if frame.mapping and len(stack) in (0, 2):
                    # Objects are documents (depth 0) or items of a List (depth 2).
                    document.spans[id(value)] = (frame.start, event.end_mark)
            elif kind is AliasEvent:
                target = anchors.get(event.anchor)
                if target is None:
                    raise _Refused("alias refers to an anchor not yet complete (recursive?)")
                value, expansion = target
                size += expansion
                if size > MAX_EXPANDED_NODES:
                    raise _Refused("document expands to too many nodes (alias bomb?); skipped")
            elif kind is DocumentEndEvent:
                document.end = event.end_mark
                return
            else:  # pragma: no cover - the parser emits no other event inside a document
                raise _Refused(f"unexpected YAML event {kind.__name__}")
            if not stack:
                document.data = value
                continue
            frame = stack[-1]
            if not frame.mapping:
                frame.container.append(value)
            elif frame.key is _NO_KEY:
                if isinstance(value, dict | list):
                    # A complex key; merge keys ("<<") are flagged by _scalar.
                    document.unusual = True
                    value = id(value)
                frame.key = value
            else:
                frame.container[frame.key] = value
                frame.key = _NO_KEY

    def _tag(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            return self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        return tag

    def _scalar(self, event: ScalarEvent, document: Document) -> Any:
        tag = self._tag(event)
        text = event.value
        if tag in _TEXT_TAGS:
            if len(text) <= SHARED_STRING_LENGTH:
                return self.strings.setdefault(text, text)
            return text
        if tag == _NULL:
            return None
        key = (tag, text)
        if key in self.scalars:
            return self.scalars[key]
        build = _BUILDERS.get(tag)
        if build is None:
            document.unusual = True
            return text
        value = build(self.constructor, yaml.ScalarNode(tag, text))
        self.scalars[key] = value
        return value
