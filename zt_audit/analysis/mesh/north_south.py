"""North-south TLS: entry points that serve plain HTTP, or TLS without a certificate.

- Ingress: hosts outside ``spec.tls`` are served over HTTP. ingress-nginx redirects them
  to HTTPS only with ``force-ssl-redirect``; GCE drops HTTP with
  ``kubernetes.io/ingress.allow-http: "false"``; Traefik serves only HTTPS when the
  router's entry points are all ``websecure``.
- Gateway API: an ``HTTP`` listener is plaintext unless every HTTPRoute attached to it
  redirects to ``https``; an ``HTTPS`` or ``TLS`` listener that terminates TLS needs
  ``certificateRefs``.
- Istio Gateway: an ``HTTP`` server is plaintext unless ``tls.httpsRedirect`` is true;
  an ``HTTPS`` server in SIMPLE or MUTUAL mode needs ``credentialName`` (or file paths).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zt_audit.inventory import FieldPath, Inventory, Resource

GATEWAY_API = "gateway.networking.k8s.io"
ISTIO_NETWORKING = "networking.istio.io"
FAIL, WARN = "fail", "warn"


@dataclass(frozen=True)
class Exposure:
    resource: Resource
    path: FieldPath
    message: str
    level: str  # "fail" (plaintext) or "warn" (TLS without a certificate)


def entry_points(inventory: Inventory) -> list[Resource]:
    found = [
        *inventory.of_kind("Ingress", group="networking.k8s.io"),
        *inventory.of_kind("Ingress", group="extensions"),
        *inventory.of_kind("Gateway", group=GATEWAY_API),
        *inventory.of_kind("Gateway", group=ISTIO_NETWORKING),
    ]
    return sorted(found, key=lambda r: str(r.ref))


def exposures(inventory: Inventory) -> Iterator[Exposure]:
    for resource in entry_points(inventory):
        if resource.kind == "Ingress":
            yield from _ingress(resource)
        elif resource.group == GATEWAY_API:
            yield from _gateway_api(resource, inventory)
        else:
            yield from _istio_gateway(resource)


def _ingress(ingress: Resource) -> Iterator[Exposure]:
    notes = ingress.annotations
    if notes.get("kubernetes.io/ingress.allow-http") == "false":
        http_off = True
    else:
        entry = notes.get("traefik.ingress.kubernetes.io/router.entrypoints")
        http_off = entry is not None and {e.strip() for e in entry.split(",")} == {"websecure"}
    redirect = notes.get("nginx.ingress.kubernetes.io/force-ssl-redirect") == "true"

    tls = ingress.spec.get("tls")
    tls_hosts: set[str] = set()
    for index, entry in enumerate(tls if isinstance(tls, list) else []):
        if not isinstance(entry, dict):
            continue
        hosts = entry.get("hosts")
        if isinstance(hosts, list) and hosts:
            tls_hosts.update(h for h in hosts if isinstance(h, str))
        else:
            # Without hosts, the entry takes the controller's wildcard: every host.
            tls_hosts.add("*")
        if not entry.get("secretName"):
            yield Exposure(
                ingress,
                ("spec", "tls", index),
                f"{ingress.ref}: TLS entry {index} names no secretName; the controller's "
                "default certificate is served",
                WARN,
            )
    if http_off or redirect:
        return
    plain = [h for h in _ingress_hosts(ingress) if not _covered(h, tls_hosts)]
    if not isinstance(tls, list) or not tls:
        yield Exposure(
            ingress, ("spec",), f"{ingress.ref}: has no spec.tls, so it is served over HTTP", FAIL
        )
    elif plain:
        hosts = ", ".join(sorted(plain))
        yield Exposure(
            ingress, ("spec", "rules"), f"{ingress.ref}: hosts {hosts} have no TLS entry", FAIL
        )
    elif notes.get("nginx.ingress.kubernetes.io/ssl-redirect") == "false":
        yield Exposure(
            ingress,
            ("metadata", "annotations", "nginx.ingress.kubernetes.io/ssl-redirect"),
            f"{ingress.ref}: ssl-redirect is off, so HTTP is served beside HTTPS",
            FAIL,
        )


def _covered(host: str, tls_hosts: set[str]) -> bool:
    """A rule host is covered by an equal TLS host, ``*.domain`` one level up, or ``*``."""
    if "*" in tls_hosts or host in tls_hosts:
        return True
    _, dot, parent = host.partition(".")
    return bool(dot) and f"*.{parent}" in tls_hosts


def _ingress_hosts(ingress: Resource) -> list[str]:
    rules = ingress.spec.get("rules")
    hosts = []
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict):
            host = rule.get("host")
            hosts.append(host if isinstance(host, str) else "*")
    return hosts


def _gateway_api(gateway: Resource, inventory: Inventory) -> Iterator[Exposure]:
    listeners = gateway.spec.get("listeners")
    for index, listener in enumerate(listeners if isinstance(listeners, list) else []):
        if not isinstance(listener, dict):
            continue
        name = listener.get("name", index)
        protocol = listener.get("protocol")
        path = ("spec", "listeners", index)
        if protocol == "HTTP":
            if not _redirected(gateway, str(name), inventory):
                yield Exposure(
                    gateway,
                    (*path, "protocol"),
                    f"{gateway.ref}: listener {name} serves HTTP without an HTTPS redirect",
                    FAIL,
                )
        elif protocol in ("HTTPS", "TLS"):
            tls = listener.get("tls")
            tls = tls if isinstance(tls, dict) else {}
            if tls.get("mode", "Terminate") == "Terminate" and not tls.get("certificateRefs"):
                yield Exposure(
                    gateway,
                    path,
                    f"{gateway.ref}: listener {name} terminates TLS without certificateRefs",
                    WARN,
                )


def _redirected(gateway: Resource, listener: str, inventory: Inventory) -> bool:
    """Every HTTPRoute attached to the listener redirects to https (and one exists)."""
    attached = [
        r
        for r in inventory.of_kind("HTTPRoute", group=GATEWAY_API)
        if _attached(r, gateway, listener)
    ]
    return bool(attached) and all(_redirects(route) for route in attached)


def _attached(route: Resource, gateway: Resource, listener: str) -> bool:
    parents = route.spec.get("parentRefs")
    for parent in parents if isinstance(parents, list) else []:
        if not isinstance(parent, dict) or parent.get("name") != gateway.name:
            continue
        if parent.get("kind", "Gateway") != "Gateway":
            continue
        namespace = parent.get("namespace") or route.namespace
        section = parent.get("sectionName")
        if namespace == gateway.namespace and section in (None, listener):
            return True
    return False


def _redirects(route: Resource) -> bool:
    rules = route.spec.get("rules")
    if not isinstance(rules, list) or not rules:
        return False
    return all(_rule_redirects(rule) for rule in rules)


def _rule_redirects(rule: Any) -> bool:
    filters = rule.get("filters") if isinstance(rule, dict) else None
    for item in filters if isinstance(filters, list) else []:
        redirect = item.get("requestRedirect") if isinstance(item, dict) else None
        if isinstance(redirect, dict) and redirect.get("scheme") == "https":
            return True
    return False


def _istio_gateway(gateway: Resource) -> Iterator[Exposure]:
    servers = gateway.spec.get("servers")
    for index, server in enumerate(servers if isinstance(servers, list) else []):
        if not isinstance(server, dict):
            continue
        port = server.get("port")
        port = port if isinstance(port, dict) else {}
        protocol = str(port.get("protocol", "")).upper()
        tls = server.get("tls")
        tls = tls if isinstance(tls, dict) else {}
        path = ("spec", "servers", index)
        label = port.get("name") or port.get("number") or index
        if protocol in ("HTTP", "HTTP2", "GRPC") and tls.get("httpsRedirect") is not True:
            yield Exposure(
                gateway,
                (*path, "port", "protocol"),
                f"{gateway.ref}: server {label} serves {protocol} without tls.httpsRedirect",
                FAIL,
            )
        elif (
            protocol == "HTTPS"
            and tls.get("mode", "SIMPLE") in ("SIMPLE", "MUTUAL")
            and not (tls.get("credentialName") or tls.get("serverCertificate"))
        ):
            yield Exposure(
                gateway,
                (*path, "tls"),
                f"{gateway.ref}: server {label} terminates TLS without credentialName",
                WARN,
            )
