"""Objects as the API returns them, made into what zt-audit keeps.

Lists from the API leave ``kind`` and ``apiVersion`` off their items; ``managedFields``
is bookkeeping; and ``kubectl.kubernetes.io/last-applied-configuration`` is a verbatim
copy of the object as last applied, which for a Secret holds its data. None of that is
kept, from any object.
"""

from __future__ import annotations

from typing import Any

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Deeper than any real object, and well within what the inventory loader accepts (one
# hostile custom resource must not make the whole collection unreadable).
MAX_DEPTH = 100
# Metadata fields worth keeping from a metadata-only Secret.
SECRET_METADATA = (
    "name",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "ownerReferences",
    "creationTimestamp",
)


def normalise(
    item: Any, api_version: str, kind: str, *, metadata_only: bool, secret_type: str | None
) -> dict[str, Any] | None:
    """The object to keep, or None when the item is not a named object at all."""
    if not isinstance(item, dict) or too_deep(item):
        return None
    raw = item.get("metadata")
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None  # an API server never stores an object without a name
    metadata = _metadata(raw)
    if metadata_only:
        metadata = {k: metadata[k] for k in SECRET_METADATA if k in metadata}
        kept: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
        if secret_type is not None:
            kept["type"] = secret_type
        return kept
    rest = {k: v for k, v in item.items() if k not in ("apiVersion", "kind", "metadata")}
    if kind == "CustomResourceDefinition":
        rest = _without_schemas(rest)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **rest}


def _without_schemas(crd: dict[str, Any]) -> dict[str, Any]:
    """A CRD's OpenAPI schemas are most of its size and no check reads them."""
    spec = crd.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("versions"), list):
        return crd
    versions = [
        {k: v for k, v in version.items() if k != "schema"}
        if isinstance(version, dict)
        else version
        for version in spec["versions"]
    ]
    return {**crd, "spec": {**spec, "versions": versions}}


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in value.items() if k != "managedFields"}
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        kept = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        if kept:
            metadata["annotations"] = kept
        else:
            del metadata["annotations"]
    return metadata


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests mappings and lists more than ``limit`` levels deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
