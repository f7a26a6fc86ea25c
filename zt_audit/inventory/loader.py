"""Reading Kubernetes objects from files, folders and standard input.

The loader is the first thing that touches untrusted text, so it is defensive: binary
files, bad encodings, alias bombs and absurd nesting are refused with a one-line reason,
and a broken document never costs the objects already read.
"""

from __future__ import annotations

import codecs
import gc
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from yaml.constructor import SafeConstructor

from zt_audit.gcpause import collector_paused
from zt_audit.inventory import yamlstream
from zt_audit.inventory.jsonfast import load_json
from zt_audit.inventory.locate import Locator, Origin
from zt_audit.inventory.model import InputProblem, Inventory, Resource

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"

# Limits well beyond any real manifest and well below what would hurt the machine.
MAX_DEPTH = yamlstream.MAX_DEPTH
MAX_EXPANDED_NODES = yamlstream.MAX_EXPANDED_NODES
MAX_FILE_BYTES = 512 * 1024 * 1024

_LEADING_SPACE = re.compile(r"[ \t\r\n]*")


class _Loader(yaml.CSafeLoader):
    """YAML 1.1 safe loading, but timestamps and binary stay text, as in JSON.

    The C parser asks Python to resolve the tag of every scalar; manifests repeat the same
    keys and values thousands of times, so answers are remembered.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._resolved: dict[tuple[Any, str], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (implicit, value)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 100_000:
                self._resolved[key] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path-based resolvers are registered; skip the bookkeeping."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
_Loader.add_constructor("tag:yaml.org,2002:binary", SafeConstructor.construct_yaml_str)


@dataclass
class LoadResult:
    resources: list[Resource] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    locator: Locator = field(default_factory=Locator)
    sources: list[str] = field(default_factory=list)


def load_inventory(paths: Iterable[str], *, stdin: TextIO | None = None) -> Inventory:
    """Read every path (``-`` is standard input) into one inventory."""
    # Loading makes millions of objects and no cycles: the collector would only walk them
    # again and again. It waits until they are frozen out of its reach (below).
    with collector_paused():
        return _load_inventory(paths, stdin)


def _load_inventory(paths: Iterable[str], stdin: TextIO | None) -> Inventory:
    result = LoadResult()
    for path in paths:
        if path == STDIN:
            stream = stdin if stdin is not None else sys.stdin
            _load_stdin(stream, result)
        else:
            for file in _expand(Path(path), result):
                _load_file(file, result)
    resources = _deduplicate(result.resources, result.problems)
    description = ", ".join(result.sources) if result.sources else "no input"
    # The objects live as long as the scan and hold no reference cycles: moving them out
    # of the collector's generations spares every later collection from rescanning them
    # (two thirds of the policy engine's build time on a 100k-object export).
    gc.freeze()
    return Inventory(
        resources, locator=result.locator, problems=result.problems, description=description
    )


def load_text(text: str, source: str, *, description: str | None = None) -> Inventory:
    """Read objects held in memory (a cluster's collection) under the name ``source``."""
    result = LoadResult(sources=[source])
    result.locator.register_text(source, text)
    with collector_paused():
        _load_text(text, source, result)
        inventory = Inventory(
            _deduplicate(result.resources, result.problems),
            locator=result.locator,
            problems=result.problems,
            description=description or source,
        )
        gc.freeze()  # as in load_inventory
    return inventory


def _expand(path: Path, result: LoadResult) -> Iterator[Path]:
    """Files under ``path`` with a manifest suffix, sorted, hidden folders skipped."""
    result.sources.append(str(path))
    if path.is_file():
        yield path
        return
    if not path.exists():
        result.problems.append(InputProblem(str(path), None, "no such file or directory"))
        return
    if not path.is_dir():
        result.problems.append(InputProblem(str(path), None, "not a regular file or directory"))
        return
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root, name) for name in files if name.lower().endswith(MANIFEST_SUFFIXES))
    yield from sorted(found)


def _load_stdin(stream: TextIO, result: LoadResult) -> None:
    result.sources.append(STDIN_NAME)
    buffer = getattr(stream, "buffer", None)
    data = buffer.read() if buffer is not None else stream.read().encode("utf-8", "replace")
    text = _decode(data, STDIN_NAME, result)
    if text is None:
        return
    result.locator.register_text(STDIN_NAME, text)
    _load_text(text, STDIN_NAME, result)


def _load_file(path: Path, result: LoadResult) -> None:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.problems.append(InputProblem(name, None, f"file too large ({size} bytes)"))
            return
        data = path.read_bytes()
    except OSError as error:
        result.problems.append(InputProblem(name, None, f"cannot read: {error.strerror}"))
        return
    text = _decode(data, name, result)
    if text is None:
        return
    result.locator.register_path(name, path)
    _load_text(text, name, result)


def _decode(data: bytes, name: str, result: LoadResult) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" in data[:8192]:
        result.problems.append(InputProblem(name, None, "binary file, not YAML or JSON"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        result.problems.append(
            InputProblem(name, line, f"not valid UTF-8 (byte 0x{data[error.start]:02x})")
        )
        return None


# An object's place in its input: 1-based line, 0-based column, character span.
Span = tuple[int, int, int, int]


def _load_text(text: str, name: str, result: LoadResult) -> None:
    if not _load_json(text, name, result):
        _load_yaml(text, name, result)


def _load_json(text: str, name: str, result: LoadResult) -> bool:
    """Read ``text`` as one JSON object if it is one; False leaves it to the YAML loader."""
    first = _LEADING_SPACE.match(text)
    if first is None or not text.startswith("{", first.end()):
        return False
    loaded = load_json(text)
    if loaded is None:
        return False
    data, spans = loaded
    _add_document(data, spans, spans[id(data)][0], name, result)
    return True


def _load_yaml(text: str, name: str, result: LoadResult) -> None:
    loader = _Loader(text)
    try:
        for document in yamlstream.documents(loader):
            line = document.start.line + 1
            if document.problem:
                result.problems.append(InputProblem(name, line, document.problem))
            elif document.unusual:
                _load_unusual(text, document, name, result)
            else:
                spans = {key: _span(start, end) for key, (start, end) in document.spans.items()}
                _add_document(document.data, spans, line, name, result)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        # The parser cannot resynchronise after a syntax error: the rest of the file is lost.
        result.problems.append(InputProblem(name, line, _syntax_error(error, text)))
    except yaml.YAMLError as error:
        result.problems.append(InputProblem(name, None, f"invalid YAML: {error}"))
    finally:
        loader.dispose()


def _syntax_error(error: yaml.MarkedYAMLError, text: str) -> str:
    reason = (error.problem or error.context or "invalid YAML").strip()
    if "{{" in text and "}}" in text:
        # Chart templates are the most common YAML that is not YAML yet.
        return (
            f"invalid YAML: {reason} (an unrendered Helm or Go template? scan the output "
            "of 'helm template', e.g. helm template NAME CHART | zt-audit scan -)"
        )
    return f"invalid YAML: {reason}"


def _span(start: yaml.Mark, end: yaml.Mark, shift: int = 0) -> Span:
    return (start.line + 1, start.column, start.index + shift, end.index + shift)


def _load_unusual(text: str, document: yamlstream.Document, name: str, result: LoadResult) -> None:
    """Build a document with merge keys, complex keys or explicit tags the PyYAML way.

    The document's text is parsed on its own, padded so that lines and columns match the
    file; character offsets are shifted back afterwards.
    """
    start, end = document.start, document.end
    assert end is not None
    padding = "\n" * start.line + " " * start.column
    shift = start.index - len(padding)
    loader = _Loader(padding + text[start.index : end.index])
    try:
        node = loader.get_single_node()
        if node is None:
            return
        problem = _hostile(node)
        if problem:
            result.problems.append(InputProblem(name, start.line + 1, problem))
            return
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else start.line + 1
        result.problems.append(InputProblem(name, line, _syntax_error(error, text)))
        return
    except yaml.YAMLError as error:
        result.problems.append(InputProblem(name, start.line + 1, f"invalid YAML: {error}"))
        return
    finally:
        loader.dispose()
    spans = {id(data): _span(node.start_mark, node.end_mark, shift)}
    items = data.get("items") if isinstance(data, dict) else None
    items_node = _mapping_value(node, "items")
    if isinstance(items, list) and isinstance(items_node, yaml.SequenceNode):
        for item, item_node in zip(items, items_node.value, strict=False):
            spans[id(item)] = _span(item_node.start_mark, item_node.end_mark, shift)
    _add_document(data, spans, start.line + 1, name, result)


def _hostile(root: yaml.Node) -> str | None:
    """Refuse a composed document that would exhaust memory or recursion downstream.

    A node reached twice is an alias; counting the expanded size with memoisation catches
    "billion laughs" documents without expanding them, and a node that contains itself is
    a recursive alias.
    """
    expanded: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            sizes = [expanded[id(child)] for child in _children(node)]
            if 0 in sizes:  # a child still being visited is an ancestor
                return "document contains a recursive alias; skipped"
            expanded[key] = 1 + sum(sizes)
            if expanded[key] > MAX_EXPANDED_NODES:
                return "document expands to too many nodes (alias bomb?); skipped"
            continue
        if key in expanded:
            continue
        if depth > MAX_DEPTH:
            return f"document nested deeper than {MAX_DEPTH} levels; skipped"
        expanded[key] = 0
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in expanded:
                stack.append((child, depth + 1, False))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _add_document(
    data: Any, spans: dict[int, Span], line: int, name: str, result: LoadResult
) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        result.problems.append(
            InputProblem(name, line, "document is not a mapping; skipped", level="warning")
        )
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        _add_list(data, spans, line, name, result)
        return
    _add_object(data, spans.get(id(data)), line, name, result)


def _add_list(
    data: dict[str, Any], spans: dict[int, Span], line: int, name: str, result: LoadResult
) -> None:
    """``kind: List`` and typed lists (``PodList``) carry their objects in ``items``."""
    list_kind = data["kind"][: -len("List")]
    list_api_version = data.get("apiVersion")
    for item in data["items"]:
        if not isinstance(item, dict):
            result.problems.append(
                InputProblem(name, line, "list item is not a mapping; skipped", level="warning")
            )
            continue
        if list_kind:
            # Lists fetched straight from the API leave kind and apiVersion off the items.
            item.setdefault("kind", list_kind)
            if isinstance(list_api_version, str):
                item.setdefault("apiVersion", list_api_version)
        _add_object(item, spans.get(id(item)), line, name, result)


def _add_object(
    data: dict[str, Any], span: Span | None, line: int, name: str, result: LoadResult
) -> None:
    if span is not None:
        line = span[0]
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if not (isinstance(kind, str) and kind and isinstance(api_version, str) and api_version):
        result.problems.append(
            InputProblem(
                name, line, "not a Kubernetes object (no kind/apiVersion); skipped", "warning"
            )
        )
        return
    if "metadata" in data and not isinstance(data["metadata"], dict):
        result.problems.append(
            InputProblem(name, line, f"{kind}: metadata is not a mapping; skipped", "warning")
        )
        return
    _drop_bulk(data)
    origin = None
    if span is not None:
        origin = Origin(source=name, line=span[0], column=span[1], start=span[2], end=span[3])
    result.resources.append(Resource(data, origin))


# Bookkeeping no check reads, which can double an object's size: server-side apply's
# field ownership, and kubectl's copy of the whole last applied object (a Secret's
# included).
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _drop_bulk(data: dict[str, Any]) -> None:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)


def _mapping_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None


def _deduplicate(resources: list[Resource], problems: list[InputProblem]) -> list[Resource]:
    """The same object given twice counts once; as with ``kubectl apply``, the last wins."""
    seen: dict[tuple[str, str, str | None, str], int] = {}
    kept: list[Resource | None] = []
    for resource in resources:
        if resource.name == "<unnamed>":
            kept.append(resource)
            continue
        key = (resource.group, resource.kind, resource.namespace, resource.name)
        if key in seen:
            earlier = kept[seen[key]]
            if earlier is not None and earlier.origin is not None and resource.origin is not None:
                problems.append(
                    InputProblem(
                        resource.origin.source,
                        resource.origin.line,
                        f"{resource.ref} also defined at "
                        f"{earlier.origin.source}:{earlier.origin.line}; the later one is used",
                        level="warning",
                    )
                )
            kept[seen[key]] = None
        seen[key] = len(kept)
        kept.append(resource)
    return [resource for resource in kept if resource is not None]
