"""Network exposure (NET-08): workloads reachable on addresses outside NetworkPolicy.

Load balancers open to every address, NodePorts, ``externalIPs``, ``hostPort`` and the
ports of hostNetwork pods put a workload on an external or node address that no
NetworkPolicy governs.
"""

from __future__ import annotations

from zt_audit.engine.context import ScanContext, from_findings, not_applicable
from zt_audit.engine.model import CheckResult, Finding, Status
from zt_audit.inventory import Resource, Workload

SERVICE_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}
OPEN_RANGES = ("0.0.0.0/0", "::/0")


def _internal(service: Resource) -> bool:
    annotations = {k.lower(): v.lower() for k, v in service.annotations.items()}
    return any(annotations.get(k) in values for k, values in INTERNAL_LB_ANNOTATIONS.items())


def _source_ranges(service: Resource) -> list[str]:
    ranges = service.spec.get("loadBalancerSourceRanges")
    found = [r for r in ranges if isinstance(r, str)] if isinstance(ranges, list) else []
    annotation = service.annotations.get(SERVICE_SOURCE_RANGES)
    if annotation:
        found += [r.strip() for r in annotation.split(",") if r.strip()]
    return found


def _service_findings(ctx: ScanContext, service: Resource) -> list[Finding]:
    findings = []
    spec = service.spec
    name = f"Service {service.namespace}/{service.name}"
    external_ips = spec.get("externalIPs")
    if isinstance(external_ips, list) and external_ips:
        findings.append(
            ctx.finding(
                service,
                ("spec", "externalIPs"),
                f"{name} sets externalIPs, which lets it claim any address "
                "(CVE-2020-8554); enable the DenyServiceExternalIPs admission plugin",
            )
        )
    kind = spec.get("type")
    if kind == "LoadBalancer" and not _internal(service):
        ranges = _source_ranges(service)
        open_ranges = [r for r in ranges if r.strip() in OPEN_RANGES]
        if not ranges or open_ranges:
            findings.append(
                ctx.finding(
                    service,
                    ("spec", "type"),
                    f"{name} is an external load balancer open to every address "
                    "(no loadBalancerSourceRanges)",
                    status=Status.WARN,
                )
            )
    elif kind == "NodePort":
        findings.append(
            ctx.finding(
                service,
                ("spec", "type"),
                f"{name} opens a port on every node, which no source range restricts",
                status=Status.WARN,
            )
        )
    return findings


def _workload_findings(ctx: ScanContext, workload: Workload) -> list[Finding]:
    """hostPort bindings, and ports a hostNetwork pod opens on its node's addresses."""
    findings = []
    for container in workload.containers():
        ports = container.spec.get("ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            if not isinstance(port, dict):
                continue
            host_port = port.get("hostPort")
            subject = f"container {container.name} of {workload.kind} {workload.key}"
            if workload.host_network:
                number = port.get("containerPort")
                findings.append(
                    ctx.finding(
                        workload.resource,
                        (*container.path, "ports", index),
                        f"{subject} listens on port {number} of its node's addresses, "
                        "outside NetworkPolicy (hostNetwork)",
                        status=Status.WARN,
                    )
                )
            elif isinstance(host_port, int) and not isinstance(host_port, bool) and host_port > 0:
                findings.append(
                    ctx.finding(
                        workload.resource,
                        (*container.path, "ports", index, "hostPort"),
                        f"{subject} binds host port {host_port} on its node",
                    )
                )
    return findings


def exposure(ctx: ScanContext) -> CheckResult:
    services = [s for s in ctx.inventory.of_kind("Service", group="") if ctx.in_scope(s.namespace)]
    findings: list[Finding] = []
    for service in services:
        findings.extend(_service_findings(ctx, service))
    for workload in ctx.workloads:
        findings.extend(_workload_findings(ctx, workload))
    evaluated = len(services) + len(ctx.workloads)
    if evaluated == 0:
        return not_applicable("no Services or workloads in scope")
    return from_findings(
        findings,
        evaluated=evaluated,
        unit="Services and workloads",
        clean="no open external exposure in {ratio}",
        nothing="no Services or workloads in scope",
    )
