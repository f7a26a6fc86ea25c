"""What the mesh analysis concludes about each workload: its data plane and mTLS modes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from zt_audit.inventory import FieldPath, Resource, Workload


class Mode(StrEnum):
    """The inbound mTLS mode a workload's port actually gets."""

    STRICT = "STRICT"  # only mutually authenticated connections are accepted
    PERMISSIVE = "PERMISSIVE"  # mTLS from meshed peers, plaintext from anyone else
    DISABLE = "DISABLE"  # plaintext, even between meshed peers
    NONE = "none"  # no mesh data plane: plaintext unless the application does TLS
    UNKNOWN = "unknown"  # the input does not show whether a data plane runs

    @property
    def rank(self) -> int:
        """Weakness order: a workload is as weak as its weakest port."""
        return _RANKS[self]


_RANKS = {Mode.STRICT: 0, Mode.UNKNOWN: 1, Mode.PERMISSIVE: 2, Mode.DISABLE: 3, Mode.NONE: 4}


class Mesh(StrEnum):
    ISTIO = "istio"  # sidecar mode
    ISTIO_AMBIENT = "istio-ambient"
    LINKERD = "linkerd"
    CILIUM = "cilium"  # mutual authentication in the CNI, no proxy


class DataPlane(StrEnum):
    """How sure the analysis is that a proxy handles the workload's traffic."""

    VERIFIED = "verified"  # the proxy container is in the pod spec
    INTENDED = "intended"  # labels or annotations ask for one at pod creation
    MISSING = "missing"  # asked for, yet a running pod has none
    ABSENT = "absent"  # nothing asks for one
    UNKNOWN = "unknown"  # the namespace's labels are not in the input


@dataclass(frozen=True)
class Decision:
    """One object (or default) that shaped a verdict, with the field that did it."""

    text: str  # "PeerAuthentication/foo/default: mtls.mode=STRICT"
    resource: Resource | None = None
    path: FieldPath = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class DataPlaneVerdict:
    mesh: Mesh | None
    state: DataPlane
    decided_by: tuple[Decision, ...] = ()
    revision: str | None = None


@dataclass(frozen=True)
class PortMode:
    """The effective mode of one workload port. ``port`` 0 stands for "every other port"."""

    port: int
    name: str | None
    mode: Mode
    decided_by: tuple[Decision, ...] = ()

    @property
    def label(self) -> str:
        if self.port == 0:
            return "*"
        return f"{self.port}/{self.name}" if self.name else str(self.port)


@dataclass(frozen=True)
class WorkloadMtls:
    """Everything ``zt-audit mtls`` prints about one workload."""

    workload: Workload
    data_plane: DataPlaneVerdict
    ports: tuple[PortMode, ...]
    notes: tuple[str, ...] = ()
    encryption: str | None = None  # node-level encryption (WireGuard, IPsec) if any

    @property
    def mesh(self) -> Mesh | None:
        return self.data_plane.mesh

    @property
    def mode(self) -> Mode:
        """The weakest mode over the workload's ports."""
        if not self.ports:
            return Mode.NONE
        return max((p.mode for p in self.ports), key=lambda m: m.rank)

    @property
    def mutually_authenticated(self) -> bool:
        """Every port accepts only mutually authenticated connections."""
        return bool(self.ports) and all(p.mode is Mode.STRICT for p in self.ports)

    def as_facts(self) -> dict[str, Any]:
        return {
            "mesh": self.mesh.value if self.mesh else None,
            "data_plane": self.data_plane.state.value,
            "mode": self.mode.value,
            "ports": [
                {
                    "port": p.label,
                    "mode": p.mode.value,
                    "decided_by": [d.text for d in p.decided_by],
                }
                for p in self.ports
            ],
            "decided_by": [d.text for d in self.data_plane.decided_by],
            "encryption": self.encryption,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Port:
    """A port a workload serves: a container port, or one that a policy names."""

    number: int
    name: str | None = None
    path: FieldPath = ()


@dataclass
class Duplicate:
    """Several policies at one precedence level: only the oldest counts."""

    level: str
    winner: Resource
    ignored: list[Resource] = field(default_factory=list)
