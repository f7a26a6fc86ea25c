"""Linkerd: proxy injection, the default inbound policy, and per-port policy resources.

As Linkerd documents it: meshed pods always talk mTLS to each other, but whether a
pod *accepts* plaintext depends on its inbound policy. The default policy comes from the
proxy's own setting when it is visible, else the pod's (template's)
``config.linkerd.io/default-inbound-policy`` annotation, else the namespace's, else the
cluster default chosen at install (``proxy.defaultInboundPolicy``, itself
``all-unauthenticated`` unless changed). A ``Server`` selecting a port replaces the
default for that port: traffic is denied unless an ``AuthorizationPolicy`` or
``ServerAuthorization`` allows it, or its ``accessPolicy`` says otherwise. Ports listed
in ``config.linkerd.io/skip-inbound-ports`` bypass the proxy, and so mTLS, entirely.
Opaque ports are still mTLS between meshed pods; they only skip protocol detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from zt_audit.analysis.mesh.common import port_number, port_set, workload_ports
from zt_audit.analysis.mesh.model import (
    DataPlane,
    DataPlaneVerdict,
    Decision,
    Mesh,
    Mode,
    PortMode,
)
from zt_audit.analysis.mesh.pods import has_container
from zt_audit.analysis.selectors import parse_selector
from zt_audit.inventory import Inventory, Resource, Workload

INJECT = "linkerd.io/inject"
DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
SKIP_INBOUND = "config.linkerd.io/skip-inbound-ports"
OPAQUE_PORTS = "config.linkerd.io/opaque-ports"
PROXY_NAME = "linkerd-proxy"
POLICY_ENV = "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY"
GROUP = "policy.linkerd.io"
INSTALL_DEFAULT = "all-unauthenticated"

AUTHENTICATED_POLICIES = frozenset({"all-authenticated", "cluster-authenticated", "deny"})
UNAUTHENTICATED_POLICIES = frozenset({"all-unauthenticated", "cluster-unauthenticated", "audit"})
KNOWN_POLICIES = AUTHENTICATED_POLICIES | UNAUTHENTICATED_POLICIES


def proxy_container(workload: Workload) -> dict[str, Any] | None:
    for container in workload.containers():
        if container.name != PROXY_NAME:
            continue
        native = container.list_name == "initContainers" and (
            container.spec.get("restartPolicy") == "Always"
        )
        if container.list_name == "containers" or native:
            return container.spec
    return None


def dataplane_verdict(
    workload: Workload, inventory: Inventory, pods: Sequence[Resource] = ()
) -> DataPlaneVerdict:
    resource = workload.resource
    if proxy_container(workload) is not None:
        reason = Decision(f"{resource.ref}: runs a {PROXY_NAME} container", resource)
        return DataPlaneVerdict(Mesh.LINKERD, DataPlane.VERIFIED, (reason,))
    if pods and all(has_container(pod, PROXY_NAME) for pod in pods):
        text = f"{len(pods)} running pod(s) run {PROXY_NAME}, e.g. {pods[0].ref}"
        return DataPlaneVerdict(Mesh.LINKERD, DataPlane.VERIFIED, (Decision(text, pods[0]),))
    if workload.host_network:
        return DataPlaneVerdict(None, DataPlane.ABSENT, ())
    value = workload.pod_annotations.get(INJECT)
    if value is not None:
        path = (*workload.spec_path[:-1], "metadata", "annotations", INJECT)
        return _intent(value, Decision(f"{resource.ref}: {INJECT}={value}", resource, path))
    namespace = inventory.namespaces.get(workload.namespace)
    if namespace is None:
        reason = Decision(f"Namespace/{workload.namespace} is not in the input")
        return DataPlaneVerdict(None, DataPlane.UNKNOWN, (reason,))
    value = namespace.annotations.get(INJECT)
    if value is None:
        return DataPlaneVerdict(None, DataPlane.ABSENT, ())
    path = ("metadata", "annotations", INJECT)
    return _intent(value, Decision(f"{namespace.ref}: {INJECT}={value}", namespace, path))


def _intent(value: str, decision: Decision) -> DataPlaneVerdict:
    if value.strip() in ("enabled", "ingress"):
        return DataPlaneVerdict(Mesh.LINKERD, DataPlane.INTENDED, (decision,))
    return DataPlaneVerdict(None, DataPlane.ABSENT, (decision,))


@dataclass
class LinkerdPorts:
    """The modes of a Linkerd-meshed workload's ports, and whether identities are listed."""

    ports: list[PortMode]
    identity_ports: int = 0  # ports where only named mesh identities are allowed
    allow_everyone: list[Decision] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class LinkerdPolicy:
    """The cluster default and the policy resources of an inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.cluster_default, self.cluster_decision = _cluster_default(inventory)
        self.servers = inventory.of_kind("Server", group=GROUP)
        self.authorizations = inventory.of_kind("AuthorizationPolicy", group=GROUP)
        self.server_authorizations = inventory.of_kind("ServerAuthorization", group=GROUP)
        self.routes = inventory.of_kind("HTTPRoute", "GRPCRoute")

    def default_policy(self, workload: Workload) -> tuple[str, Decision]:
        resource = workload.resource
        proxy = proxy_container(workload)
        env = proxy.get("env") if proxy else None
        for entry in env if isinstance(env, list) else []:
            if isinstance(entry, dict) and entry.get("name") == POLICY_ENV:
                value = str(entry.get("value", ""))
                return value, Decision(f"{resource.ref}: proxy {POLICY_ENV}={value}", resource)
        value = workload.pod_annotations.get(DEFAULT_POLICY)
        if value is not None:
            path = (*workload.spec_path[:-1], "metadata", "annotations", DEFAULT_POLICY)
            return value, Decision(f"{resource.ref}: {DEFAULT_POLICY}={value}", resource, path)
        namespace = self.inventory.namespaces.get(workload.namespace)
        if namespace is not None and DEFAULT_POLICY in namespace.annotations:
            value = namespace.annotations[DEFAULT_POLICY]
            path = ("metadata", "annotations", DEFAULT_POLICY)
            return value, Decision(f"{namespace.ref}: {DEFAULT_POLICY}={value}", namespace, path)
        return self.cluster_default, self.cluster_decision

    def resolve(self, workload: Workload) -> LinkerdPorts:
        policy, policy_decision = self.default_policy(workload)
        result = LinkerdPorts([])
        if policy not in KNOWN_POLICIES:
            result.notes.append(
                f"unknown default inbound policy {policy!r}: read as all-unauthenticated"
            )
        skipped = self._skipped(workload)
        opaque = _annotation(workload, self.inventory, OPAQUE_PORTS)
        if opaque:
            result.notes.append(f"opaque ports {opaque[0]}: still mTLS between meshed pods")

        declared = workload_ports(workload)
        numbers = {p.number: p.name for p in declared}
        for number in sorted(skipped[0]):
            if number in numbers or len(skipped[0]) <= 16:
                numbers.setdefault(number, None)
        if not numbers:
            mode = _default_mode(policy)
            result.ports.append(PortMode(0, None, mode, (policy_decision,)))
            if policy == "deny":
                result.identity_ports += 1
            return result
        for number in sorted(numbers):
            name = numbers[number]
            if number in skipped[0]:
                result.skipped.append(number)
                decision = skipped[1]
                result.ports.append(PortMode(number, name, Mode.DISABLE, (decision,)))
                continue
            result.ports.append(self._port(workload, number, name, policy, policy_decision, result))
        return result

    def _skipped(self, workload: Workload) -> tuple[set[int], Decision]:
        found = _annotation(workload, self.inventory, SKIP_INBOUND)
        if not found:
            return set(), Decision("")
        value, decision = found
        return port_set(value), decision

    def _port(
        self,
        workload: Workload,
        number: int,
        name: str | None,
        policy: str,
        policy_decision: Decision,
        result: LinkerdPorts,
    ) -> PortMode:
        server = self._server(workload, number, name)
        if server is None:
            if policy == "deny":
                result.identity_ports += 1
            elif policy in UNAUTHENTICATED_POLICIES or policy not in KNOWN_POLICIES:
                result.allow_everyone.append(policy_decision)
            return PortMode(number, name, _default_mode(policy), (policy_decision,))

        access = server.spec.get("accessPolicy", "deny")
        access = access if isinstance(access, str) else "deny"
        decisions = [Decision(f"{server.ref}: accessPolicy={access}", server, ("spec",))]
        grants = self._grants(server)
        open_grants = [grant for grant in grants if grant[1] == "unauthenticated"]
        decisions.extend(grant[0] for grant in grants)
        if access in UNAUTHENTICATED_POLICIES or open_grants:
            result.allow_everyone.extend(grant[0] for grant in open_grants)
            if access in UNAUTHENTICATED_POLICIES:
                result.allow_everyone.append(decisions[0])
            return PortMode(number, name, Mode.PERMISSIVE, tuple(decisions))
        if access == "deny" and all(grant[1] == "identity" for grant in grants):
            result.identity_ports += 1
        return PortMode(number, name, Mode.STRICT, tuple(decisions))

    def _server(self, workload: Workload, number: int, name: str | None) -> Resource | None:
        for server in sorted(self.servers, key=lambda r: r.name):
            if server.namespace != workload.namespace:
                continue
            if not parse_selector(server.spec.get("podSelector")).matches(workload.pod_labels):
                continue
            port = server.spec.get("port")
            if port_number(port) == number or (name is not None and port == name):
                return server
        return None

    def _grants(self, server: Resource) -> list[tuple[Decision, str]]:
        """Authorizations of a Server, each classed identity / any-meshed / unauthenticated."""
        grants = []
        route_names = self._routes_of(server)
        for policy in sorted(self.authorizations, key=lambda r: r.name):
            if policy.namespace != server.namespace or not self._targets(
                policy, server, route_names
            ):
                continue
            grants.append((Decision(f"{policy.ref}: authorizes", policy), self._ap_class(policy)))
        for authz in sorted(self.server_authorizations, key=lambda r: r.name):
            if authz.namespace == server.namespace and _authz_selects(authz, server):
                grants.append((Decision(f"{authz.ref}: authorizes", authz), _sa_class(authz)))
        return grants

    def _routes_of(self, server: Resource) -> set[str]:
        names = set()
        for route in self.routes:
            if route.namespace != server.namespace:
                continue
            parents = route.spec.get("parentRefs")
            for parent in parents if isinstance(parents, list) else []:
                if (
                    isinstance(parent, dict)
                    and parent.get("kind") == "Server"
                    and parent.get("name") == server.name
                ):
                    names.add(route.name)
        return names

    @staticmethod
    def _targets(policy: Resource, server: Resource, routes: set[str]) -> bool:
        target = policy.spec.get("targetRef")
        if not isinstance(target, dict):
            return False
        kind, name = target.get("kind"), target.get("name")
        if kind == "Server":
            return name == server.name
        if kind == "Namespace":
            return name == server.namespace
        return kind in ("HTTPRoute", "GRPCRoute") and name in routes

    def _ap_class(self, policy: Resource) -> str:
        refs = policy.spec.get("requiredAuthenticationRefs")
        refs = [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
        classes = []
        for ref in refs:
            kind = ref.get("kind")
            if kind == "ServiceAccount":
                classes.append("identity")
            elif kind == "MeshTLSAuthentication":
                namespace = ref.get("namespace") or policy.namespace
                name = ref.get("name")
                target = self.inventory.get("MeshTLSAuthentication", namespace, str(name), GROUP)
                classes.append(_mesh_tls_class(target))
        # All references must match: one mesh identity requirement makes the policy mTLS-only.
        if "identity" in classes:
            return "identity"
        if "any-meshed" in classes:
            return "any-meshed"
        return "unauthenticated"


def _mesh_tls_class(authn: Resource | None) -> str:
    if authn is None:
        return "any-meshed"  # still requires a mesh identity, whichever it is
    identities = authn.spec.get("identities")
    if isinstance(identities, list) and "*" in identities:
        return "any-meshed"
    return "identity"


def _authz_selects(authz: Resource, server: Resource) -> bool:
    ref = authz.spec.get("server")
    if not isinstance(ref, dict):
        return False
    if "name" in ref:
        return ref.get("name") == server.name
    return parse_selector(ref.get("selector")).matches(server.labels)


def _sa_class(authz: Resource) -> str:
    client = authz.spec.get("client")
    if not isinstance(client, dict) or client.get("unauthenticated") is True:
        return "unauthenticated"
    mesh_tls = client.get("meshTLS")
    if not isinstance(mesh_tls, dict) or mesh_tls.get("unauthenticatedTLS") is True:
        return "unauthenticated"
    identities = mesh_tls.get("identities")
    if isinstance(identities, list) and "*" in identities:
        return "any-meshed"
    return "identity"


def _default_mode(policy: str) -> Mode:
    return Mode.STRICT if policy in AUTHENTICATED_POLICIES else Mode.PERMISSIVE


def _annotation(workload: Workload, inventory: Inventory, key: str) -> tuple[str, Decision] | None:
    """A Linkerd config annotation from the pod (template), else from its namespace."""
    resource = workload.resource
    value = workload.pod_annotations.get(key)
    if value is not None:
        path = (*workload.spec_path[:-1], "metadata", "annotations", key)
        return value, Decision(f"{resource.ref}: {key}={value}", resource, path)
    namespace = inventory.namespaces.get(workload.namespace)
    if namespace is not None and key in namespace.annotations:
        value = namespace.annotations[key]
        path = ("metadata", "annotations", key)
        return value, Decision(f"{namespace.ref}: {key}={value}", namespace, path)
    return None


def _cluster_default(inventory: Inventory) -> tuple[str, Decision]:
    """``proxy.defaultInboundPolicy`` from the ``linkerd-config`` ConfigMap, if present."""
    for config in inventory.of_kind("ConfigMap", group=""):
        if config.name != "linkerd-config":
            continue
        data = config.obj.get("data")
        text = data.get("values") if isinstance(data, dict) else None
        try:
            values = yaml.safe_load(text) if isinstance(text, str) else None
        except yaml.YAMLError:
            values = None
        proxy = values.get("proxy") if isinstance(values, dict) else None
        policy = proxy.get("defaultInboundPolicy") if isinstance(proxy, dict) else None
        if isinstance(policy, str):
            detail = f"proxy.defaultInboundPolicy={policy}"
            return policy, Decision(f"{config.ref}: {detail}", config, ("data", "values"))
    text = f"Linkerd install default: {INSTALL_DEFAULT}"
    return INSTALL_DEFAULT, Decision(text)
