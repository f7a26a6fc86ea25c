"""What evidence a scan could see, so that missing data never reads as a pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SourceStatus(StrEnum):
    AVAILABLE = "available"
    ABSENT = "absent"  # looked for, and there is none
    NOT_IN_BUNDLE = "not_in_bundle"  # manifests need not contain everything
    FORBIDDEN = "forbidden"  # the credentials may not list it
    CRD_ABSENT = "crd_absent"  # the API is not installed: the tool is missing
    MANAGED_CONTROL_PLANE = "managed_control_plane"


@dataclass
class EvidenceSources:
    """How the inventory was collected, and which kinds could not be."""

    mode: str = "manifests"  # manifests, cluster or snapshot
    # The input holds every object of the cluster. A cluster scan limited to some
    # namespaces (or a snapshot of one) is not complete: absence there proves nothing.
    complete: bool = False
    forbidden: dict[str, str] = field(default_factory=dict)  # kind -> missing permission
    missing_apis: set[str] = field(default_factory=set)  # kinds whose API is not served

    def kind_status(self, kind: str, present: bool) -> SourceStatus:
        if kind in self.forbidden:
            return SourceStatus.FORBIDDEN
        if present:
            return SourceStatus.AVAILABLE
        if kind in self.missing_apis:
            return SourceStatus.CRD_ABSENT
        if not self.complete:
            return SourceStatus.NOT_IN_BUNDLE
        return SourceStatus.ABSENT

    def describe(self, kind: str, status: SourceStatus) -> str:
        if status is SourceStatus.FORBIDDEN:
            return f"{kind} could not be listed ({self.forbidden[kind]})"
        if status is SourceStatus.NOT_IN_BUNDLE and self.mode != "manifests":
            return f"no {kind} objects in the namespaces scanned (scan with -A to see them all)"
        if status is SourceStatus.NOT_IN_BUNDLE:
            return f"no {kind} objects in the input (pass --bundle-is-complete if there are none)"
        if status is SourceStatus.CRD_ABSENT:
            return f"the {kind} API is not installed"
        if status is SourceStatus.ABSENT:
            return f"no {kind} objects exist"
        return f"{kind} objects were collected"
