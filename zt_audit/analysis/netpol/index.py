"""Indexes over endpoints: by namespace and by label, so selectors never scan the cluster.

Every workload becomes an endpoint. Selector results are cached per (namespace,
selector) and per peer, so thousands of policies that repeat the same selectors cost
little more than one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from zt_audit.analysis.netpol.bits import to_bits
from zt_audit.analysis.netpol.model import Endpoint, Peer, Policy
from zt_audit.analysis.netpol.ports import named_ports
from zt_audit.analysis.selectors import EVERYTHING, Match, Selector
from zt_audit.inventory import Inventory, Workload

METADATA_NAME = "kubernetes.io/metadata.name"
IMPLICIT_KEYS = frozenset({METADATA_NAME})


class EndpointIndex:
    """Endpoints of an inventory and the namespace and label indexes over them."""

    def __init__(self, inventory: Inventory, workloads: Iterable[Workload]) -> None:
        self.inventory = inventory
        self.endpoints: list[Endpoint] = []
        self._by_namespace: dict[str, list[int]] = {}
        self._by_label: dict[tuple[str, str, str], set[int]] = {}
        self._host: dict[str, list[int]] = {}
        for workload in workloads:
            self._add(workload)
        self.size = len(self.endpoints)
        self.all_bits = (1 << self.size) - 1
        self._pods: dict[tuple[str, Selector], frozenset[int]] = {}
        self._peer_bits: dict[Peer, int] = {}
        self._namespace_match: dict[tuple[Selector, str], Match] = {}
        self._selected_namespaces: dict[tuple, list[tuple[str, Match]]] = {}

    def _add(self, workload: Workload) -> None:
        index = len(self.endpoints)
        endpoint = Endpoint(
            index=index,
            workload=workload,
            namespace=workload.namespace,
            labels=workload.pod_labels,
            named_ports=named_ports(workload.pod_spec),
            host_network=workload.host_network,
        )
        self.endpoints.append(endpoint)
        self._by_namespace.setdefault(endpoint.namespace, []).append(index)
        if endpoint.host_network:
            # Policies never select hostNetwork pods, and whether a peer selector sees
            # their traffic is up to the plugin; they are kept apart from the label index.
            self._host.setdefault(endpoint.namespace, []).append(index)
            return
        for key, value in endpoint.labels.items():
            self._by_label.setdefault((endpoint.namespace, key, value), set()).add(index)

    # Namespaces

    @cached_property
    def namespaces(self) -> list[str]:
        """Every namespace declared or holding workloads, sorted."""
        return sorted(set(self.inventory.namespaces) | set(self._by_namespace))

    def namespace_labels(self, namespace: str) -> tuple[dict[str, str], frozenset[str] | None]:
        """The labels of a namespace and which keys are known (None: all of them).

        Without its Namespace object only the name label that Kubernetes always sets
        is certain; any other label may or may not be there.
        """
        labels = self.inventory.namespace_labels(namespace)
        if labels is None:
            return {METADATA_NAME: namespace}, IMPLICIT_KEYS
        return labels, None

    def namespace_match(self, selector: Selector, namespace: str) -> Match:
        key = (selector, namespace)
        if key not in self._namespace_match:
            labels, known = self.namespace_labels(namespace)
            self._namespace_match[key] = selector.match_partial(labels, known)
        return self._namespace_match[key]

    def unknown_namespaces(self) -> list[str]:
        return [ns for ns in self.namespaces if self.inventory.namespace_labels(ns) is None]

    # Pods

    def pods(self, namespace: str, selector: Selector) -> frozenset[int]:
        """Non-hostNetwork endpoints of ``namespace`` that ``selector`` picks."""
        key = (namespace, selector)
        cached = self._pods.get(key)
        if cached is not None:
            return cached
        if not selector.valid:
            found: frozenset[int] = frozenset()
        else:
            candidates: set[int] | None = None
            for label, value in selector.equality_labels().items():
                hits = self._by_label.get((namespace, label, value), set())
                candidates = set(hits) if candidates is None else candidates & hits
                if not candidates:
                    break
            if candidates is None:
                candidates = {
                    i
                    for i in self._by_namespace.get(namespace, ())
                    if not self.endpoints[i].host_network
                }
            found = frozenset(i for i in candidates if selector.matches(self.endpoints[i].labels))
        self._pods[key] = found
        return found

    def in_namespace(self, namespace: str) -> list[int]:
        return self._by_namespace.get(namespace, [])

    # Policies and peers

    def subject_namespaces(self, policy: Policy) -> list[str]:
        """The namespaces whose pods a policy can select.

        A cluster-wide policy selects a namespace only when its labels certainly match:
        a namespace of unknown labels is never assumed to be protected.
        """
        if policy.namespace is not None:
            return [policy.namespace]
        names = policy.subject_namespace_names
        selector = policy.subject_namespaces or EVERYTHING
        return [
            ns
            for ns in self.namespaces
            if (names is None or ns in names) and self.namespace_match(selector, ns) is Match.YES
        ]

    def subjects(self, policy: Policy) -> frozenset[int]:
        found: set[int] = set()
        for namespace in self.subject_namespaces(policy):
            found |= self.pods(namespace, policy.subject_pods)
        return frozenset(found)

    def peer_namespaces(self, peer: Peer) -> list[tuple[str, Match]]:
        """The namespaces a pod peer reaches into, with how certain each is."""
        if peer.namespaces is None:
            return [(peer.home, Match.YES)] if peer.home else []
        key = (peer.namespaces, peer.namespace_names)
        cached = self._selected_namespaces.get(key)
        if cached is None:
            cached = []
            for namespace in self.namespaces:
                if peer.namespace_names is not None and namespace not in peer.namespace_names:
                    continue
                match = self.namespace_match(peer.namespaces, namespace)
                if match:
                    cached.append((namespace, match))
            self._selected_namespaces[key] = cached
        return cached

    def peer_bits(self, peer: Peer) -> int:
        """Endpoints a peer may match; a namespace of unknown labels counts as a match."""
        cached = self._peer_bits.get(peer)
        if cached is not None:
            return cached
        if peer.any_peer:
            bits = self.all_bits
        elif peer.ip_block is not None:
            # Pod and node addresses are unknown: a private block may cover any of them.
            covers = not peer.external_only and peer.ip_block.may_hold_cluster_addresses()
            bits = self.all_bits if covers else 0
        elif not peer.selects_pods:
            bits = 0
        else:
            members: set[int] = set()
            selector = peer.pods or EVERYTHING
            for namespace, _ in self.peer_namespaces(peer):
                members |= self.pods(namespace, selector)
                members.update(
                    i
                    for i in self._host.get(namespace, ())
                    if selector.matches(self.endpoints[i].labels)
                )
            bits = to_bits(members, self.size)
        self._peer_bits[peer] = bits
        return bits

    def peer_match(self, peer: Peer, endpoint: Endpoint) -> Match:
        """Whether a peer matches one endpoint.

        Two answers are left to the network plugin by Kubernetes, and so are MAYBE here:
        whether an address block covers a pod (its address is not in the manifests) and
        whether a selector sees a hostNetwork pod's traffic as that pod's or the node's.
        """
        if peer.any_peer:
            return Match.YES
        if peer.ip_block is not None:
            if peer.external_only or not peer.ip_block.may_hold_cluster_addresses():
                return Match.NO
            return Match.MAYBE
        if not peer.selects_pods:
            return Match.NO
        if peer.pods is not None and not peer.pods.matches(endpoint.labels):
            return Match.NO
        if peer.namespaces is None:
            match = Match.YES if endpoint.namespace == peer.home else Match.NO
        elif peer.namespace_names is not None and endpoint.namespace not in peer.namespace_names:
            match = Match.NO
        else:
            match = self.namespace_match(peer.namespaces, endpoint.namespace)
        return match & Match.MAYBE if endpoint.host_network else match
