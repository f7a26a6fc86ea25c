"""Service mesh and encryption in transit: MTLS-01 to MTLS-07 and NET-07.

The per-workload reasoning lives in ``zt_audit.analysis.mesh``; the checks here turn
its verdicts into results with evidence.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from zt_audit.analysis.mesh import (
    DataPlane,
    Mesh,
    MeshAnalysis,
    Mode,
    WorkloadMtls,
    authorization,
    cilium,
    control_plane,
    destination_rules,
    istio_dataplane,
    north_south,
)
from zt_audit.analysis.mesh.model import PortMode
from zt_audit.analysis.platform import apiserver_configs, detect_platform
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    from_findings,
    not_applicable,
    not_observable,
)
from zt_audit.engine.evidence import SourceStatus
from zt_audit.engine.model import CheckResult, Finding, Ratio, Stage, Status
from zt_audit.engine.registry import Implementation

ISTIO = (Mesh.ISTIO, Mesh.ISTIO_AMBIENT)
NAMESPACE_HINT = "include the Namespace objects (their labels decide mesh injection)"


def mesh_of(ctx: ScanContext) -> MeshAnalysis:
    """The scan's mesh analysis, built once over the in-scope workloads."""
    return ctx.analysis(
        "mesh",
        lambda: MeshAnalysis(ctx.inventory, ctx.workloads, ctx.config.mesh_root_namespace),
    )


def _subject(result: WorkloadMtls) -> str:
    workload = result.workload
    return f"{workload.kind} {workload.key}"


def _port_finding(
    ctx: ScanContext, result: WorkloadMtls, port: PortMode, status: Status
) -> Finding:
    """A finding on the object that decided a port's mode (or the workload itself)."""
    decided = next((d for d in port.decided_by if d.resource is not None), None)
    resource = decided.resource if decided and decided.resource else result.workload.resource
    path = decided.path if decided and decided.resource else result.workload.path()
    reasons = "; ".join(d.text for d in port.decided_by)
    message = f"{_subject(result)} port {port.label}: {port.mode.value} ({reasons})"
    return ctx.finding(resource, path, message, status=status)


# MTLS-01


# The mesh's own machinery runs outside the data plane it provides, by design.
MESH_INFRASTRUCTURE = frozenset({"istiod", "ztunnel", "istio-cni-node", "istio-cni"})


def _infrastructure(result: WorkloadMtls) -> bool:
    labels = result.workload.pod_labels
    names = {labels.get("app"), labels.get("app.kubernetes.io/name"), labels.get("k8s-app")}
    return bool(names & MESH_INFRASTRUCTURE)


def mesh_coverage(ctx: ScanContext) -> CheckResult:
    every = list(mesh_of(ctx))
    results = [r for r in every if not _infrastructure(r)]
    excluded = sorted(_subject(r) for r in every if _infrastructure(r))
    if not results:
        return not_applicable("no workloads in scope")
    states = Counter(r.data_plane.state for r in results)
    if states[DataPlane.UNKNOWN] == len(results):
        return not_observable(
            f"the namespaces of all {len(results)} workloads are not in the input",
            hint=NAMESPACE_HINT,
        )
    covered = [r for r in results if r.mesh is not None]
    ratio = Ratio(len(covered), len(results), "workloads")
    status = Status.WARN if ratio.value >= 0.5 else Status.FAIL
    findings = []
    for result in results:
        state = result.data_plane.state
        if result.mesh is not None:
            continue
        resource, path = result.workload.resource, result.workload.path()
        if state is DataPlane.MISSING:
            missing = result.data_plane.decided_by[-1].text
            text = f"{_subject(result)} asks for a sidecar, but {missing}"
        elif state is DataPlane.UNKNOWN:
            text = f"{_subject(result)}: mesh membership unknown (namespace not in the input)"
        else:
            text = f"{_subject(result)} is outside any mesh"
        findings.append(ctx.finding(resource, path, text, status=status))
    authenticated = sum(1 for r in results if r.mutually_authenticated)
    facts = {
        "mesh_coverage": {
            "mutually_authenticated": authenticated,
            "workloads": len(results),
            "ratio": round(authenticated / len(results), 4),
        },
        "data_plane": {state.value: states[state] for state in sorted(states)},
        "meshes": dict(sorted(Counter(r.mesh.value for r in covered if r.mesh).items())),
        "mesh_infrastructure_excluded": excluded,
    }
    result = by_threshold(
        ratio, pass_at=0.95, warn_at=0.5, findings=findings, what="in a mesh", facts=facts
    )
    # Any verified mesh evidences the Initial stage; Advanced needs the coverage.
    initial = 1.0 if covered else 0.0
    score = result.effective_score() or 0.0
    return _with_stage_scores(result, {Stage.INITIAL: initial, Stage.ADVANCED: score})


def _with_stage_scores(result: CheckResult, scores: dict[Stage, float]) -> CheckResult:
    return CheckResult(
        result.status,
        result.reason,
        findings=result.findings,
        ratio=result.ratio,
        score=result.score,
        hint=result.hint,
        stage_scores=scores,
        facts=result.facts,
    )


# MTLS-02


def peer_authentication(ctx: ScanContext) -> CheckResult:
    analysis = mesh_of(ctx)
    # Gateways terminate external traffic; MTLS-06 judges their listeners.
    meshed = [r for r in analysis if r.mesh in ISTIO and not istio_dataplane.is_gateway(r.workload)]
    if not meshed:
        return not_applicable("no workload is in an Istio mesh")
    ports = [(r, p) for r in meshed for p in r.ports]
    weak = [(r, p) for r, p in ports if p.mode is not Mode.STRICT]
    disabled = any(p.mode is Mode.DISABLE for _, p in weak)
    too_many = len(weak) > 0.2 * len(ports)
    status = Status.FAIL if disabled or too_many else Status.WARN
    findings = [
        _port_finding(ctx, r, p, Status.FAIL if p.mode is Mode.DISABLE else status) for r, p in weak
    ]
    findings.extend(_duplicate_findings(ctx, analysis))

    ratio = Ratio(len(ports) - len(weak), len(ports), "ports")
    modes = Counter(p.mode.value for _, p in ports)
    facts: dict[str, Any] = {
        "modes": dict(sorted(modes.items())),
        "root_namespace": analysis.root_namespace,
        "workload_cert_ttl": _cert_ttl(ctx),
    }
    if not findings:
        return CheckResult(Status.PASS, f"all {ratio} are STRICT", ratio=ratio, facts=facts)
    reason = f"{len(weak)} of {len(ports)} Istio workload ports are not STRICT"
    if not weak:
        reason = "every port is STRICT, but several PeerAuthentications compete at one level"
    hint = None
    if not ctx.inventory.has_kind("PeerAuthentication"):
        reason += " (no PeerAuthentication in the input: Istio's default PERMISSIVE applies)"
        if ctx.kind_status("PeerAuthentication") is not SourceStatus.ABSENT:
            hint = "include PeerAuthentication objects of every namespace, or pass " + (
                "--bundle-is-complete if there are none"
            )
    # PERMISSIVE still evidences the Initial stage; DISABLE does not.
    stage_scores = {
        Stage.INITIAL: 0.0 if disabled else 1.0,
        Stage.ADVANCED: {Status.FAIL: 0.0, Status.WARN: 0.5}[status],
    }
    return CheckResult(
        status,
        reason,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        ratio=ratio,
        stage_scores=stage_scores,
        hint=hint,
        facts=facts,
    )


def _duplicate_findings(ctx: ScanContext, analysis: MeshAnalysis) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for details in analysis.peer_details.values():
        for duplicate in details.duplicates:
            for ignored in duplicate.ignored:
                message = (
                    f"{ignored.ref} is ignored: {duplicate.winner.ref} is the older "
                    f"{duplicate.level}-level PeerAuthentication"
                )
                seen[str(ignored.ref)] = ctx.finding(
                    ignored, ("spec",), message, status=Status.WARN
                )
    return [seen[key] for key in sorted(seen)]


def _cert_ttl(ctx: ScanContext) -> str:
    """Istio workload certificate lifetime: istiod's setting, else its 24h default."""
    root = ctx.config.mesh_root_namespace
    istiod = ctx.inventory.get("Deployment", root, "istiod", "apps")
    workload = next((w for w in ctx.inventory.workloads if w.resource is istiod), None)
    containers = workload.containers() if workload is not None else ()
    for container in (c.spec for c in containers):
        env = container.get("env")
        for entry in env if isinstance(env, list) else []:
            if isinstance(entry, dict) and entry.get("name") == "DEFAULT_WORKLOAD_CERT_TTL":
                return str(entry.get("value"))
    return "24h (Istio default)"


# MTLS-03


def destination_rule_downgrade(ctx: ScanContext) -> CheckResult:
    analysis = mesh_of(ctx)
    rules = ctx.inventory.of_kind("DestinationRule", group=destination_rules.GROUP)
    if not any(r.mesh in ISTIO for r in analysis) and not rules:
        return not_applicable("no workload is in an Istio mesh")
    findings = []
    uncertain = []
    for downgrade in destination_rules.downgrades(ctx.inventory, analysis.results):
        setting = downgrade.setting
        if not downgrade.confirmed:
            uncertain.append(f"{setting.rule.ref} ({setting.mode} toward {downgrade.host})")
            continue
        status = Status.FAIL if setting.mode == "DISABLE" else Status.WARN
        targets = ", ".join(downgrade.meshed)
        message = (
            f"{setting.rule.ref} sets tls.mode={setting.mode} ({setting.scope}) toward "
            f"{downgrade.host}, served by meshed {targets}"
        )
        findings.append(ctx.finding(setting.rule, setting.path, message, status=status))
    auto = destination_rules.auto_mtls_setting(ctx.inventory, ctx.config.mesh_root_namespace)
    if auto is not None:
        resource, path = auto
        message = f"{resource.ref} turns enableAutoMtls off: clients send plaintext by default"
        findings.append(ctx.finding(resource, path, message, status=Status.WARN))
    if uncertain and not findings:
        return not_observable(
            "client TLS settings toward hosts whose mesh membership is unknown: "
            + ", ".join(sorted(set(uncertain))),
            hint=NAMESPACE_HINT,
        )
    return from_findings(
        findings,
        evaluated=max(len(rules), 1),
        affected=len({f.object for f in findings}),
        unit="DestinationRules",
        clean="no DestinationRule downgrades mesh mTLS ({ratio} checked)",
        nothing="no DestinationRules",
    )


# MTLS-04


def linkerd_posture(ctx: ScanContext) -> CheckResult:
    analysis = mesh_of(ctx)
    meshed = [r for r in analysis if r.mesh is Mesh.LINKERD]
    if not meshed:
        return not_applicable("no workload is in a Linkerd mesh")
    findings = []
    for result in meshed:
        for port in result.ports:
            if port.mode is Mode.DISABLE:
                findings.append(_port_finding(ctx, result, port, Status.FAIL))
            elif port.mode is not Mode.STRICT:
                findings.append(_port_finding(ctx, result, port, Status.WARN))
    ports = sum(len(r.ports) for r in meshed)
    return from_findings(
        findings,
        evaluated=ports,
        affected=len(findings),
        unit="Linkerd ports",
        clean="all {ratio} accept only authenticated traffic",
        nothing="no Linkerd ports",
        facts={"cluster_default_policy": analysis.linkerd.cluster_default},
    )


# MTLS-05


def cilium_encryption(ctx: ScanContext) -> CheckResult:
    analysis = mesh_of(ctx)
    config = analysis.cilium
    if not config.present:
        return not_applicable("Cilium is not in the input")
    if config.config is None:
        return not_observable(
            "the cilium-config ConfigMap is not in the input",
            hint="include kube-system/cilium-config",
        )
    facts = {
        "wireguard": bool(config.wireguard),
        "ipsec": bool(config.ipsec),
        "mutual_auth": bool(config.mutual_auth),
    }
    path = ("data",)
    resource = config.config
    if config.encryption and config.mutual_auth:
        return CheckResult(
            Status.PASS,
            f"Cilium encrypts with {config.encryption} and authenticates mutually",
            facts=facts,
        )
    other_mesh = any(r.mesh in (*ISTIO, Mesh.LINKERD) for r in analysis)
    if not config.encryption and not config.mutual_auth and other_mesh:
        return not_applicable("a proxy mesh provides mTLS; Cilium is not the mechanism")
    if config.encryption:
        message = f"{resource.ref}: {config.encryption} encryption without mutual authentication"
    elif config.mutual_auth:
        message = f"{resource.ref}: mutual authentication without WireGuard or IPsec encryption"
    else:
        message = f"{resource.ref}: neither WireGuard/IPsec nor mutual authentication is enabled"
    status = Status.WARN if config.encryption or config.mutual_auth else Status.FAIL
    findings = [ctx.finding(resource, path, message, status=status)]
    if not config.mutual_auth:
        # Rules that require authentication cannot be honoured while the feature is off.
        for policy in cilium.policies(ctx.inventory):
            for _, rule_path in cilium.auth_rules(policy):
                text = f"{policy.ref} requires authentication, but mutual auth is not enabled"
                findings.append(ctx.finding(policy, rule_path, text, status=Status.WARN))
    ordered = tuple(sorted(findings, key=Finding.sort_key))
    return CheckResult(status, message, findings=ordered, facts=facts)


# MTLS-06


def north_south_tls(ctx: ScanContext) -> CheckResult:
    entries = north_south.entry_points(ctx.inventory)
    entries = [e for e in entries if ctx.in_scope(e.namespace)]
    if not entries:
        return not_applicable("no Ingress or Gateway objects in scope")
    findings = [
        ctx.finding(
            e.resource,
            e.path,
            e.message,
            status=Status.FAIL if e.level == north_south.FAIL else Status.WARN,
        )
        for e in north_south.exposures(ctx.inventory)
        if ctx.in_scope(e.resource.namespace)
    ]
    return from_findings(
        findings,
        evaluated=len(entries),
        unit="entry points",
        clean="all {ratio} serve TLS or redirect to HTTPS",
        nothing="no Ingress or Gateway objects in scope",
    )


# MTLS-07


def control_plane_tls(ctx: ScanContext) -> CheckResult:
    platform = detect_platform(ctx.inventory)
    if platform.managed:
        return not_observable(
            f"{platform.provider_name} manages the API server ({platform.evidence})",
            hint=platform.hint,
        )
    configs = apiserver_configs(ctx.inventory)
    if not configs:
        return not_observable(
            "no kube-apiserver pod or kubeadm-config in the input",
            hint="include the kube-system static pods or the kubeadm-config ConfigMap",
        )
    kubelets = control_plane.kubelet_configs(ctx.inventory)
    problems = [p for config in configs for p in control_plane.apiserver_problems(config)]
    problems.extend(p for kubelet in kubelets for p in control_plane.kubelet_problems(*kubelet))
    findings = [
        ctx.finding(p.resource, p.path, p.message, status=Status.FAIL if p.failing else Status.WARN)
        for p in problems
    ]
    return from_findings(
        findings,
        evaluated=len(configs) + len(kubelets),
        unit="API servers and kubelet configurations",
        clean="{ratio} use TLS on every control-plane connection",
        nothing="no API server configuration",
    )


# NET-07


def identity_authorization(ctx: ScanContext) -> CheckResult:
    analysis = mesh_of(ctx)
    index = authorization.AuthorizationIndex(ctx.inventory, ctx.config.mesh_root_namespace)
    postures = []
    for result in analysis:
        if result.mesh in ISTIO:
            postures.append(index.evaluate(result))
        elif result.mesh is Mesh.LINKERD:
            postures.append(authorization.linkerd_posture(analysis, result))
    if not postures:
        return not_applicable("no workload is in an Istio or Linkerd mesh")
    good = [p for p in postures if p.posture is authorization.Posture.IDENTITY]
    ratio = Ratio(len(good), len(postures), "meshed workloads")
    allow_all = [p for p in postures if p.posture is authorization.Posture.ALLOW_ALL]
    failing = bool(allow_all) or not good
    findings = []
    for posture in postures:
        if posture.posture is authorization.Posture.IDENTITY:
            continue
        subject = f"{posture.workload.kind} {posture.workload.key}"
        for decision in posture.allow_all:
            assert decision.resource is not None
            findings.append(ctx.finding(decision.resource, decision.path, f"{subject}: {decision}"))
        if posture.allow_all:
            continue
        text = {
            authorization.Posture.OPEN: "accepts any caller (no deny-by-default policy)",
            authorization.Posture.PARTIAL: "allows some callers without naming their identity",
            authorization.Posture.ANY_IDENTITY: "admits any mesh identity, not an allow-list",
        }[posture.posture]
        status = Status.FAIL if failing else Status.WARN
        resource = posture.workload.resource
        findings.append(
            ctx.finding(resource, posture.workload.path(), f"{subject} {text}", status=status)
        )
    facts = {
        "postures": dict(sorted(Counter(p.posture.value for p in postures).items())),
    }
    if failing:
        reason = f"{ratio} deny by default with identity allow-lists"
        if allow_all:
            reason += f"; {len(allow_all)} allow every request"
        return CheckResult(
            Status.FAIL,
            reason,
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            ratio=ratio,
            facts=facts,
        )
    return by_threshold(
        ratio,
        pass_at=0.95,
        warn_at=0.0,
        findings=findings,
        what="deny by default with identity allow-lists",
        facts=facts,
    )


CHECKS = [
    Implementation("MTLS-01", mesh_coverage),
    Implementation("MTLS-02", peer_authentication),
    Implementation("MTLS-03", destination_rule_downgrade),
    Implementation("MTLS-04", linkerd_posture),
    Implementation("MTLS-05", cilium_encryption),
    Implementation("MTLS-06", north_south_tls),
    Implementation("MTLS-07", control_plane_tls),
    Implementation("NET-07", identity_authorization),
]
