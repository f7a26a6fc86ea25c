"""The policy model every dialect is normalised into.

A policy selects subjects (pods, through a namespace scope and a pod selector), may
isolate them for ingress and for egress, and carries ordered rules. A rule has an action,
peers and ports. Kubernetes NetworkPolicy only allows, in any order; Calico, Cilium and
AdminNetworkPolicy add deny and pass actions and precedence, expressed by ``tier`` and
``order``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from zt_audit.analysis.netpol.ports import NamedPorts, PortSpec
from zt_audit.analysis.selectors import EVERYTHING, Selector
from zt_audit.inventory import FieldPath, Resource, Workload

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
INGRESS, EGRESS = "ingress", "egress"
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
DIRECTIONS = (INGRESS, EGRESS)


class Action(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    PASS = "pass"  # skip the rest of this tier (Calico Pass, AdminNetworkPolicy Pass)


class Tier(StrEnum):
    """Evaluation tiers, in order: admin policies, namespace policies, baseline."""

    ADMIN = "admin"
    NAMESPACE = "namespace"
    BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class IPBlock:
    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if address.version != self.cidr.version or address not in self.cidr:
            return False
        return not any(address in cut for cut in self.excepts)

    @property
    def everything(self) -> bool:
        return self.cidr.prefixlen == 0 and not self.excepts

    def may_hold_cluster_addresses(self) -> bool:
        """Whether the block leaves some private range open, where pods and nodes live.

        Pod and node addresses are not in manifests, so a block that overlaps a private
        range may or may not cover them.
        """
        for private in PRIVATE_RANGES:
            if private.version != self.cidr.version or not self.cidr.overlaps(private):
                continue
            if not any(
                private.subnet_of(cut) for cut in self.excepts if cut.version == private.version
            ):
                return True
        return False

    def __str__(self) -> str:
        if not self.excepts:
            return str(self.cidr)
        return f"{self.cidr} except {', '.join(str(c) for c in self.excepts)}"


@dataclass(frozen=True, slots=True)
class Peer:
    """One entry of ``from``/``to``: pods by namespace and labels, or an address block.

    ``namespaces`` is None for the policy's own namespace (``home``); ``any_peer`` matches
    every source or destination, in the cluster or outside it.
    """

    pods: Selector | None = None
    namespaces: Selector | None = None
    home: str | None = None
    ip_block: IPBlock | None = None
    any_peer: bool = False
    namespace_names: frozenset[str] | None = None  # Cilium/ANP name lists; None: no limit
    external_only: bool = False  # an address block that never matches cluster endpoints

    @property
    def selects_pods(self) -> bool:
        return self.ip_block is None and not self.any_peer

    def describe(self) -> str:
        if self.any_peer:
            return "any peer"
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        pods = "all pods" if self.pods is None or self.pods.empty else f"pods {self.pods}"
        if self.namespaces is None:
            where = f"namespace {self.home}" if self.home else "the same namespace"
        elif self.namespaces.empty:
            where = "all namespaces"
        else:
            where = f"namespaces {self.namespaces}"
        if self.namespace_names is not None:
            where += f" named {', '.join(sorted(self.namespace_names))}"
        return f"{pods} in {where}"


ANY_PEER = Peer(any_peer=True)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. ``peers`` empty means no peer; ``ports`` None means every port."""

    action: Action
    peers: tuple[Peer, ...]
    ports: tuple[PortSpec, ...] | None
    path: FieldPath
    index: int


@dataclass(eq=False)
class Policy:
    """One normalised policy. Identity is the object: two policies are never equal."""

    resource: Resource
    tier: Tier
    order: float
    namespace: str | None  # None: cluster-wide subjects, chosen by ``subject_namespaces``
    subject_pods: Selector
    subject_namespaces: Selector | None = None
    subject_namespace_names: frozenset[str] | None = None
    isolates: dict[str, bool] = field(default_factory=dict)
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what normalisation approximated

    @cached_property
    def name(self) -> str:
        ref = self.resource.ref
        return (
            f"{ref.kind} {ref.namespace}/{ref.name}"
            if ref.namespace
            else (f"{ref.kind} {ref.name}")
        )

    def affects(self, direction: str) -> bool:
        return self.isolates.get(direction, False)

    def rules_for(self, direction: str) -> list[Rule]:
        return self.rules.get(direction, [])


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A workload's pods as policies see them: where they run and how they are labelled."""

    index: int
    workload: Workload
    namespace: str
    labels: dict[str, str]
    named_ports: NamedPorts
    host_network: bool

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.workload.name}"

    @property
    def kind(self) -> str:
        return self.workload.kind


def parse_network(value: object) -> IPNetwork | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


__all__ = [
    "ANY_PEER",
    "DIRECTIONS",
    "EGRESS",
    "EVERYTHING",
    "INGRESS",
    "Action",
    "Endpoint",
    "IPBlock",
    "Peer",
    "Policy",
    "Rule",
    "Tier",
]
