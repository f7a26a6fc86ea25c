"""The mTLS verdict of every workload: which mesh carries it, and each port's mode.

An Istio sidecar is looked for first, then Istio ambient (which never captures a pod that
has a sidecar), then Linkerd, then Cilium mutual authentication. A definite answer from
any of them wins over "unknown", which only stands when no mesh can be confirmed or
ruled out because a namespace's labels are not in the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from zt_audit.analysis.mesh import cilium, istio_dataplane, linkerd
from zt_audit.analysis.mesh.common import workload_ports
from zt_audit.analysis.mesh.model import (
    DataPlane,
    DataPlaneVerdict,
    Decision,
    Mesh,
    Mode,
    PortMode,
    WorkloadMtls,
)
from zt_audit.analysis.mesh.peer_authentication import PeerAuthIndex, PeerAuthResolution
from zt_audit.analysis.mesh.pods import PodIndex
from zt_audit.inventory import Inventory, Workload

MESHED = (DataPlane.VERIFIED, DataPlane.INTENDED)


class MeshAnalysis:
    """Built once per scan and shared by the MTLS checks, the posture and ``mtls``."""

    def __init__(
        self, inventory: Inventory, workloads: Iterable[Workload], root_namespace: str
    ) -> None:
        self.inventory = inventory
        self.root_namespace = root_namespace
        self.peer_auth = PeerAuthIndex(inventory, root_namespace)
        self.linkerd = linkerd.LinkerdPolicy(inventory)
        self.cilium = cilium.read_config(inventory)
        self.pods = PodIndex(inventory)
        self.peer_details: dict[str, PeerAuthResolution] = {}
        self.linkerd_details: dict[str, linkerd.LinkerdPorts] = {}
        self.results: dict[str, WorkloadMtls] = {}
        for workload in workloads:
            self.results[workload_key(workload)] = self._resolve(workload)

    def __iter__(self) -> Iterator[WorkloadMtls]:
        return iter(self.results[key] for key in sorted(self.results))

    def get(self, workload: Workload) -> WorkloadMtls:
        return self.results[workload_key(workload)]

    def _resolve(self, workload: Workload) -> WorkloadMtls:
        pods = self.pods.pods(workload)
        verdicts = [
            istio_dataplane.sidecar_verdict(workload, self.inventory, pods),
            istio_dataplane.ambient_verdict(workload, self.inventory),
            linkerd.dataplane_verdict(workload, self.inventory, pods),
        ]
        encryption = self.cilium.encryption
        missing = verdicts[0] if verdicts[0].state is DataPlane.MISSING else None
        for verdict in verdicts:
            if verdict.state in MESHED and verdict.mesh is not None and missing is None:
                return self._meshed(workload, verdict, encryption)

        cilium_verdict = self._cilium(workload)
        if cilium_verdict is not None and missing is None:
            return cilium_verdict

        if missing is not None:
            # Asked for, but not there: the traffic is not in the mesh.
            state = DataPlaneVerdict(None, DataPlane.MISSING, missing.decided_by)
            decided, notes = missing.decided_by, ()
        elif any(v.state is DataPlane.UNKNOWN for v in verdicts):
            state = DataPlaneVerdict(None, DataPlane.UNKNOWN, verdicts[0].decided_by)
            decided, notes = state.decided_by, self._if_injected(workload)
        else:
            decided = tuple(d for v in verdicts for d in v.decided_by)
            state, notes = DataPlaneVerdict(None, DataPlane.ABSENT, decided), ()
        mode = Mode.UNKNOWN if state.state is DataPlane.UNKNOWN else Mode.NONE
        ports = _plain_ports(workload, mode, decided or (Decision("no mesh selects it"),))
        return WorkloadMtls(workload, state, ports, notes, encryption)

    def _meshed(
        self, workload: Workload, verdict: DataPlaneVerdict, encryption: str | None
    ) -> WorkloadMtls:
        key = workload_key(workload)
        assert verdict.mesh is not None
        if verdict.mesh is Mesh.LINKERD:
            details = self.linkerd.resolve(workload)
            self.linkerd_details[key] = details
            return WorkloadMtls(
                workload, verdict, tuple(details.ports), tuple(details.notes), encryption
            )
        resolution = self.peer_auth.resolve(workload, verdict.mesh)
        self.peer_details[key] = resolution
        notes = [*resolution.notes]
        notes.extend(
            f"{len(d.ignored)} more {d.level}-level PeerAuthentication(s) ignored: "
            f"{d.winner.ref} is the oldest"
            for d in resolution.duplicates
        )
        ports = resolution.ports
        if verdict.mesh is Mesh.ISTIO:
            ports = _bypassed(workload, ports)
        if istio_dataplane.is_gateway(workload):
            notes.append("Istio gateway: its external listeners follow Gateway TLS settings")
        return WorkloadMtls(workload, verdict, tuple(ports), tuple(notes), encryption)

    def _cilium(self, workload: Workload) -> WorkloadMtls | None:
        if not self.cilium.mutual_auth:
            return None
        decision = cilium.mutual_auth_decision(self.inventory, workload)
        if decision is None:
            return None
        verdict = DataPlaneVerdict(Mesh.CILIUM, DataPlane.INTENDED, (decision,))
        ports = _plain_ports(workload, Mode.STRICT, (decision,))
        notes = () if self.cilium.encryption else ("mutual authentication without encryption",)
        return WorkloadMtls(workload, verdict, ports, notes, self.cilium.encryption)

    def _if_injected(self, workload: Workload) -> tuple[str, ...]:
        """What PeerAuthentication would give if Istio did inject the workload."""
        resolution = self.peer_auth.resolve(workload, Mesh.ISTIO)
        modes = sorted({p.mode.value for p in resolution.ports})
        return (f"if Istio injects it, PeerAuthentication gives {'/'.join(modes)}",)


def _plain_ports(
    workload: Workload, mode: Mode, decided: tuple[Decision, ...]
) -> tuple[PortMode, ...]:
    ports = workload_ports(workload)
    if not ports:
        return (PortMode(0, None, mode, decided),)
    return tuple(PortMode(p.number, p.name, mode, decided) for p in ports)


def _bypassed(workload: Workload, ports: list[PortMode]) -> list[PortMode]:
    """Ports the sidecar does not intercept accept plaintext whatever the policy says."""
    declared = {p.port for p in ports if p.port}
    bypass = istio_dataplane.inbound_bypass(workload, declared)
    if not bypass:
        return ports
    by_number = {p.port: p for p in ports}
    for number, decision in bypass.items():
        name = by_number[number].name if number in by_number else None
        by_number[number] = PortMode(number, name, Mode.DISABLE, (decision,))
    return [by_number[number] for number in sorted(by_number)]


def workload_key(workload: Workload) -> str:
    return f"{workload.kind}/{workload.namespace}/{workload.name}"
