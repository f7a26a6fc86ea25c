"""Snapshots: a cluster's collection as one file that can be re-scored offline.

A snapshot is a ``kind: List`` whose annotations say where and when it was taken, which
kinds could not be collected and which APIs were absent. Any Kubernetes tool reads it as
a plain list; zt-audit also reads the annotations, so that a re-scan gives the verdicts
the live scan gave. A live scan reads its collection through the same text, so the line
numbers of its findings are the lines of a snapshot of that collection.

It is indented JSON (which is YAML too): it renders several times faster than YAML, and
every field still has a line of its own. A snapshot converted to YAML is read as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zt_audit import __version__
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.errors import SourceError
from zt_audit.inventory import Inventory, load_text
from zt_audit.sources.collect import Collection

FORMAT_VERSION = "1"
PREFIX = "zt-audit.io/"
MARKER = f"{PREFIX}snapshot-version"
LIVE_SOURCE = "<cluster>"
HEADER_BYTES = 256 * 1024  # the annotations come first; they are never this long


@dataclass(frozen=True)
class SnapshotHeader:
    cluster_version: str
    collected_at: str
    source: str
    namespaces: tuple[str, ...] = ()
    not_collected: dict[str, str] = field(default_factory=dict)
    missing_apis: frozenset[str] = frozenset()

    @classmethod
    def of(cls, collection: Collection) -> SnapshotHeader:
        return cls(
            cluster_version=collection.server_version,
            collected_at=collection.collected_at,
            source=collection.source,
            namespaces=collection.namespaces,
            not_collected=dict(collection.not_collected),
            missing_apis=frozenset(collection.missing_apis),
        )

    def evidence(self, mode: str) -> EvidenceSources:
        return EvidenceSources(
            mode=mode,
            complete=not self.namespaces,
            forbidden=dict(self.not_collected),
            missing_apis=set(self.missing_apis),
        )

    def annotations(self) -> dict[str, str]:
        return {
            MARKER: FORMAT_VERSION,
            f"{PREFIX}tool-version": __version__,
            f"{PREFIX}cluster-version": self.cluster_version,
            f"{PREFIX}collected-at": self.collected_at,
            f"{PREFIX}source": self.source,
            f"{PREFIX}namespaces": ",".join(self.namespaces),
            f"{PREFIX}not-collected": json.dumps(self.not_collected, sort_keys=True),
            f"{PREFIX}missing-apis": json.dumps(sorted(self.missing_apis)),
        }


def render(collection: Collection) -> str:
    """The snapshot text of a collection: deterministic for the same cluster state."""
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"annotations": SnapshotHeader.of(collection).annotations()},
        "items": collection.objects,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def live_inventory(collection: Collection) -> tuple[Inventory, EvidenceSources]:
    """The inventory of a live scan, read through the snapshot text of its collection."""
    header = SnapshotHeader.of(collection)
    description = f"cluster: {collection.source}, Kubernetes {collection.server_version}"
    inventory = load_text(render(collection), LIVE_SOURCE, description=description)
    return inventory, header.evidence("cluster")


def read_header(path: Path) -> SnapshotHeader | None:
    """The snapshot header of a file, or None when the file is not a snapshot."""
    try:
        with path.open("rb") as stream:
            head = stream.read(HEADER_BYTES).decode("utf-8-sig", "replace")
    except OSError:
        return None  # the loader reports unreadable files
    if MARKER not in head:
        return None
    return _header(path, _preamble(path, head))


def _preamble(path: Path, head: str) -> Any:
    """The document without its items, parsed from the start of the file alone."""
    if head.lstrip().startswith("{"):
        preamble, separator, _ = head.partition('\n "items": [')
        text = preamble.rstrip().rstrip(",") + "}"
    else:
        preamble, separator, _ = head.partition("\nitems:")
        text = preamble
    if not separator:
        raise SourceError(f"{path}: snapshot header is not followed by its items")
    try:
        return yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as error:
        raise SourceError(f"{path}: snapshot header cannot be parsed") from error


def _header(path: Path, data: Any) -> SnapshotHeader:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    notes = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(notes, dict) or data.get("kind") != "List":
        raise SourceError(f"{path}: not a zt-audit snapshot (no List annotations)")
    if notes.get(MARKER) != FORMAT_VERSION:
        raise SourceError(f"{path}: unsupported snapshot version {notes.get(MARKER)!r}")
    try:
        not_collected = json.loads(notes.get(f"{PREFIX}not-collected") or "{}")
        missing = json.loads(notes.get(f"{PREFIX}missing-apis") or "[]")
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}: snapshot annotations are not valid JSON") from error
    if not isinstance(not_collected, dict) or not isinstance(missing, list):
        raise SourceError(f"{path}: snapshot annotations have the wrong shape")
    namespaces = str(notes.get(f"{PREFIX}namespaces") or "")
    return SnapshotHeader(
        cluster_version=str(notes.get(f"{PREFIX}cluster-version", "unknown")),
        collected_at=str(notes.get(f"{PREFIX}collected-at", "unknown")),
        source=str(notes.get(f"{PREFIX}source", "unknown")),
        namespaces=tuple(n for n in namespaces.split(",") if n),
        not_collected={str(k): str(v) for k, v in sorted(not_collected.items())},
        missing_apis=frozenset(str(item) for item in missing),
    )
