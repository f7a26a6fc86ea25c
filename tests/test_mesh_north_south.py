"""North-south TLS (MTLS-06), case by case.

- [ingress]: Kubernetes "Ingress" concept page, TLS section: hosts in ``spec.tls`` are
  served with the named Secret; a TLS entry without hosts takes the controller's wildcard;
  ingress-nginx "force-ssl-redirect" / "ssl-redirect" annotations; GCE "allow-http".
- [gateway-api]: Gateway API listeners (``protocol``, ``tls.mode``, ``certificateRefs``)
  and the HTTP redirect guide (``RequestRedirect`` filter with ``scheme: https``).
- [istio-gateway]: Istio Gateway reference, ``ServerTLSSettings`` (``httpsRedirect``,
  ``credentialName``, modes).
"""

from __future__ import annotations

from typing import Any

import pytest

from zt_audit.analysis.mesh.north_south import exposures
from zt_audit.inventory import Inventory, Resource


def ingress(
    tls: Any = None, hosts: tuple = ("shop.example.com",), annotations: dict | None = None
) -> dict:
    spec: dict[str, Any] = {
        "rules": [{"host": h, "http": {"paths": []}} for h in hosts],
    }
    if tls is not None:
        spec["tls"] = tls
    metadata: dict[str, Any] = {"name": "web", "namespace": "app"}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def gateway(*listeners: dict) -> dict:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": "app"},
        "spec": {"gatewayClassName": "istio", "listeners": list(listeners)},
    }


def route(name: str, section: str | None, redirect: bool) -> dict:
    parent: dict[str, Any] = {"name": "edge"}
    if section:
        parent["sectionName"] = section
    rule: dict[str, Any] = {"backendRefs": [{"name": "web", "port": 80}]}
    if redirect:
        rule = {
            "filters": [
                {
                    "type": "RequestRedirect",
                    "requestRedirect": {"scheme": "https", "statusCode": 301},
                }
            ]
        }
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "app"},
        "spec": {"parentRefs": [parent], "rules": [rule]},
    }


def istio_gateway(*servers: dict) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": "app"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": list(servers)},
    }


HTTP = {"name": "http", "port": 80, "protocol": "HTTP"}
HTTPS = {
    "name": "https",
    "port": 443,
    "protocol": "HTTPS",
    "tls": {"mode": "Terminate", "certificateRefs": [{"name": "edge-cert"}]},
}
SECRET = [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]

CASES = [
    ("ingress-no-tls", "ingress", [ingress()], ["fail: has no spec.tls"]),
    ("ingress-tls", "ingress", [ingress(SECRET)], []),
    (
        "ingress-host-outside-tls",
        "ingress",
        [ingress(SECRET, hosts=("shop.example.com", "admin.example.com"))],
        ["fail: hosts admin.example.com have no TLS entry"],
    ),
    (
        "ingress-tls-without-hosts-covers-all",
        "ingress",
        [ingress([{"secretName": "wild"}], hosts=("a.example.com", "b.example.com"))],
        [],
    ),
    (
        "ingress-wildcard-tls-host",
        "ingress",
        [ingress([{"hosts": ["*.example.com"], "secretName": "wild"}], hosts=("a.example.com",))],
        [],
    ),
    (
        "ingress-tls-without-secret",
        "ingress",
        [ingress([{"hosts": ["shop.example.com"]}])],
        ["warn: TLS entry 0 names no secretName"],
    ),
    (
        "ingress-force-redirect",
        "ingress",
        [ingress(annotations={"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"})],
        [],
    ),
    (
        "ingress-ssl-redirect-off",
        "ingress",
        [ingress(SECRET, annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"})],
        ["fail: ssl-redirect is off"],
    ),
    (
        "ingress-gce-http-off",
        "ingress",
        [ingress(annotations={"kubernetes.io/ingress.allow-http": "false"})],
        [],
    ),
    (
        "gateway-http-listener",
        "gateway-api",
        [gateway(HTTP)],
        ["fail: listener http serves HTTP without an HTTPS redirect"],
    ),
    (
        "gateway-http-redirected",
        "gateway-api",
        [gateway(HTTP, HTTPS), route("redirect", "http", True)],
        [],
    ),
    (
        "gateway-redirect-and-plain-route",
        "gateway-api",
        [gateway(HTTP), route("redirect", "http", True), route("plain", None, False)],
        ["fail: listener http serves HTTP without an HTTPS redirect"],
    ),
    (
        "gateway-https-without-certificate",
        "gateway-api",
        [
            gateway(
                {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"mode": "Terminate"}}
            )
        ],
        ["warn: listener https terminates TLS without certificateRefs"],
    ),
    (
        "gateway-tls-passthrough",
        "gateway-api",
        [gateway({"name": "tls", "port": 443, "protocol": "TLS", "tls": {"mode": "Passthrough"}})],
        [],
    ),
    (
        "istio-http-server",
        "istio-gateway",
        [
            istio_gateway(
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}
            )
        ],
        ["fail: server http serves HTTP without tls.httpsRedirect"],
    ),
    (
        "istio-http-redirect",
        "istio-gateway",
        [
            istio_gateway(
                {
                    "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                    "hosts": ["*"],
                    "tls": {"httpsRedirect": True},
                }
            )
        ],
        [],
    ),
    (
        "istio-https-without-credential",
        "istio-gateway",
        [
            istio_gateway(
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["*"],
                    "tls": {"mode": "SIMPLE"},
                }
            )
        ],
        ["warn: server https terminates TLS without credentialName"],
    ),
    (
        "istio-passthrough",
        "istio-gateway",
        [
            istio_gateway(
                {
                    "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                    "hosts": ["*"],
                    "tls": {"mode": "PASSTHROUGH"},
                }
            )
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    ("rule", "objects", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_exposure(rule, objects, expected):
    assert rule
    inventory = Inventory([Resource(o) for o in objects])
    found = [f"{e.level}: {e.message.split(': ', 1)[1]}" for e in exposures(inventory)]
    assert len(found) == len(expected)
    for text, prefix in zip(found, expected, strict=True):
        assert text.startswith(prefix)
