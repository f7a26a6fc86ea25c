"""A fast path for JSON input: ``kubectl get -o json`` dumps, snapshots, live collections.

JSON is YAML too, and the YAML loader reads it correctly, but Python's JSON decoder does it
several times faster. It still has to say where each object starts, so the top level of
the document is walked here and each object (or each item of a list) is decoded on its
own, its character span recorded. Anything unusual (a top-level array, a syntax error,
nesting deep enough to exhaust the decoder) returns None, and the YAML loader takes over
with its own limits and its one-line errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

from zt_audit.inventory.yamlstream import SHARED_STRING_LENGTH

# The same span as the YAML loader records: 1-based line, 0-based column, character span.
Span = tuple[int, int, int, int]

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class _NotPlain(Exception):
    """The text is not one plain JSON object."""


def load_json(text: str) -> tuple[dict[str, Any], dict[int, Span]] | None:
    """The document and the spans of itself and of its ``items``, or None to fall back."""
    try:
        return _Walker(text).document()
    except (_NotPlain, ValueError, RecursionError):
        return None


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: dict[int, Span] = {}
        self.strings: dict[str, str] = {}
        self._line, self._line_start, self._counted = 1, 0, 0

    def document(self) -> tuple[dict[str, Any], dict[int, Span]]:
        text = self.text
        start = self._skip(0)
        if not text.startswith("{", start):
            raise _NotPlain
        data: dict[str, Any] = {}
        at = self._skip(start + 1)
        while not text.startswith("}", at):
            if not text.startswith('"', at):
                raise _NotPlain
            key, at = json.decoder.scanstring(text, at + 1)
            at = self._expect(":", at)
            if key == "items" and text.startswith("[", at):
                data[key], at = self._items(at + 1)
            else:
                data[key], at = _DECODER.raw_decode(text, at)
            at = self._skip(at)
            if text.startswith(",", at):
                at = self._skip(at + 1)
            elif not text.startswith("}", at):
                raise _NotPlain
        end = at + 1
        if self._skip(end) != len(text):
            raise _NotPlain  # a second document: leave it to the YAML loader
        self.spans[id(data)] = self._span(start, end)
        return data, self.spans

    def _items(self, at: int) -> tuple[list[Any], int]:
        text = self.text
        items: list[Any] = []
        at = self._skip(at)
        while not text.startswith("]", at):
            item, end = _DECODER.raw_decode(text, at)
            item = self._share(item)
            if isinstance(item, dict):
                self.spans[id(item)] = self._span(at, end)
            items.append(item)
            at = self._skip(end)
            if text.startswith(",", at):
                at = self._skip(at + 1)
            elif not text.startswith("]", at):
                raise _NotPlain
        return items, at + 1

    def _share(self, value: Any) -> Any:
        """The value with its keys and short strings shared, as the YAML loader shares them:
        a hundred thousand objects repeat the same few thousand names and labels."""
        strings = self.strings
        if isinstance(value, dict):
            return {strings.setdefault(k, k): self._share(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._share(v) for v in value]
        if isinstance(value, str) and len(value) <= SHARED_STRING_LENGTH:
            return strings.setdefault(value, value)
        return value

    def _expect(self, char: str, at: int) -> int:
        at = self._skip(at)
        if not self.text.startswith(char, at):
            raise _NotPlain
        return self._skip(at + 1)

    def _skip(self, at: int) -> int:
        return _SPACE.match(self.text, at).end()  # type: ignore[union-attr]

    def _span(self, start: int, end: int) -> Span:
        """Spans are asked for in increasing order, so lines are counted once."""
        text = self.text
        newlines = text.count("\n", self._counted, start)
        if newlines:
            self._line += newlines
            self._line_start = text.rfind("\n", self._counted, start) + 1
        self._counted = start
        return (self._line, start - self._line_start, start, end)
