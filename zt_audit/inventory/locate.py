"""Finding the file and line of an object's field, lazily.

Keeping every YAML node of a large export in memory would cost more than the objects
themselves, so an object keeps only the character span of its own text. When a finding
points at a field, that span is parsed again and walked to the field.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

FieldPath = Sequence[str | int]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an input: ``source`` is the path as given, or ``<stdin>``."""

    source: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an object's text starts and ends in its input (character offsets)."""

    source: str
    line: int  # 1-based line of the object's first key
    column: int  # 0-based column of the object's first key
    start: int
    end: int


def format_path(path: FieldPath) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class Locator:
    """Resolves (origin, field path) to a line, re-reading input text on demand."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}  # in-memory inputs such as stdin
        self._paths: dict[str, Path] = {}
        self._text_cache: OrderedDict[str, str] = OrderedDict()
        self._node_cache: OrderedDict[tuple[str, int], yaml.Node | None] = OrderedDict()

    def register_text(self, source: str, text: str) -> None:
        self._texts[source] = text

    def register_path(self, source: str, path: Path) -> None:
        self._paths[source] = path

    def locate(self, origin: Origin | None, path: FieldPath = ()) -> Location | None:
        if origin is None:
            return None
        if not path:
            return Location(origin.source, origin.line)
        node = self._node(origin)
        if node is None:
            return Location(origin.source, origin.line)
        line = _walk(node, path)
        return Location(origin.source, origin.line + line)

    def _text(self, source: str) -> str | None:
        if source in self._texts:
            return self._texts[source]
        if source in self._text_cache:
            self._text_cache.move_to_end(source)
            return self._text_cache[source]
        path = self._paths.get(source)
        if path is None:
            return None
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
        self._text_cache[source] = text
        if len(self._text_cache) > 4:
            self._text_cache.popitem(last=False)
        return text

    def _node(self, origin: Origin) -> yaml.Node | None:
        key = (origin.source, origin.start)
        if key in self._node_cache:
            self._node_cache.move_to_end(key)
            return self._node_cache[key]
        node = None
        text = self._text(origin.source)
        if text is not None:
            # Indent the first line as it stood, so that a block mapping cut out of a
            # list parses on its own.
            snippet = " " * origin.column + text[origin.start : origin.end]
            try:
                node = yaml.compose(snippet, Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                node = None
        self._node_cache[key] = node
        if len(self._node_cache) > 512:
            self._node_cache.popitem(last=False)
        return node


def _walk(node: yaml.Node, path: FieldPath) -> int:
    """The 0-based line, relative to the snippet, of the deepest node on ``path``."""
    line = node.start_mark.line
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    child = value
                    line = key.start_mark.line
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line
        if child is None:
            break
        node = child
    return line
