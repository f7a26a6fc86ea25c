"""Audit logging: API audit on (AUD-01), local retention (AUD-02), policy content (AUD-03),
off-cluster shipping (AUD-04), security events centralised (AUD-05)."""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.absence import COMPLETE_HINT, absence_unobservable
from zt_audit.analysis.agents import (
    coverage,
    daemonset_agents,
    is_control_plane,
    schedulable_nodes,
    workload_agents,
)
from zt_audit.analysis.auditpolicy import LEVELS, AuditPolicy, Probe, audit_policies
from zt_audit.analysis.forwarders import configured_outputs
from zt_audit.analysis.logsinks import sinks_of
from zt_audit.analysis.platform import ApiServerConfig, apiserver_configs, detect_platform
from zt_audit.analysis.signatures import Match
from zt_audit.engine.context import ScanContext, from_findings, not_applicable, not_observable
from zt_audit.engine.model import CheckResult, Finding, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Resource

MANAGED_HINTS = {
    "eks": "EKS: enable the 'audit' log type (aws eks describe-cluster --name CLUSTER "
    "--query cluster.logging.clusterLogging)",
    "gke": "GKE: Admin Activity audit logs are always on; check Data Access logs in the "
    "project's IAM audit configuration (gcloud projects get-iam-policy PROJECT)",
    "aks": "AKS: add a diagnostic setting with kube-audit or kube-audit-admin (az monitor "
    "diagnostic-settings list --resource CLUSTER_ID)",
}
APISERVER_HINT = (
    "include the kube-apiserver static pod (kubectl -n kube-system get pod "
    "-l component=kube-apiserver -o yaml) or the kubeadm-config ConfigMap"
)
BACKENDS = ("audit-log-path", "audit-webhook-config-file")
RETENTION = (
    ("audit-log-maxage", 30, "days"),
    ("audit-log-maxbackup", 10, "files"),
    ("audit-log-maxsize", 100, "MB"),
)


def _apiservers(ctx: ScanContext) -> list[ApiServerConfig] | CheckResult:
    """Every visible API server configuration, or the not-observable result instead."""
    platform = detect_platform(ctx.inventory)
    if platform.managed:
        hint = MANAGED_HINTS.get(platform.provider or "", platform.hint)
        return not_observable(
            f"{platform.provider_name} runs the API server ({platform.evidence}); its audit "
            "settings are not Kubernetes objects",
            hint=hint,
        )
    configs = apiserver_configs(ctx.inventory)
    if not configs:
        return not_observable("no kube-apiserver configuration in the input", hint=APISERVER_HINT)
    return configs


# AUD-01


def _audit_gap(ctx: ScanContext, config: ApiServerConfig) -> tuple[str, Finding] | None:
    """Why one API server records no audit events, as (short reason, finding)."""
    if not config.flags.get("audit-policy-file"):
        message = (
            "kube-apiserver has no --audit-policy-file: the API server records no audit "
            "events at all"
        )
        return "API audit logging is off", ctx.finding(config.resource, config.path(""), message)
    if not any(config.flags.get(f) for f in BACKENDS):
        message = (
            "--audit-policy-file is set but neither --audit-log-path nor "
            "--audit-webhook-config-file is: events go nowhere"
        )
        finding = ctx.finding(config.resource, config.path("audit-policy-file"), message)
        return "API audit has a policy but no backend", finding
    return None


def api_audit_on(ctx: ScanContext) -> CheckResult:
    configs = _apiservers(ctx)
    if isinstance(configs, CheckResult):
        return configs
    facts = {
        "api_servers": [
            {
                "object": str(c.resource.ref),
                "source": c.source,
                "policy_file": c.flags.get("audit-policy-file"),
                "backends": [f for f in BACKENDS if c.flags.get(f)],
            }
            for c in configs
        ]
    }
    gaps = [gap for c in configs if (gap := _audit_gap(ctx, c))]
    if gaps:
        # In an HA control plane, one unaudited API server is enough to act unseen.
        reason = (
            gaps[0][0]
            if len(configs) == 1
            else (f"{len(gaps)} of {len(configs)} API servers do not record audit events")
        )
        findings = tuple(sorted((f for _, f in gaps), key=Finding.sort_key))
        return CheckResult(Status.FAIL, reason, findings=findings, facts=facts)
    first = configs[0]
    backends = ", ".join("--" + b for b in BACKENDS if first.flags.get(b))
    policy = first.flags.get("audit-policy-file")
    servers = f" on all {len(configs)} API servers" if len(configs) > 1 else ""
    return CheckResult(
        Status.PASS,
        f"API audit logging is on{servers} (policy {policy}, backend {backends})",
        facts=facts,
    )


# AUD-02


def _retention_findings(ctx: ScanContext, config: ApiServerConfig) -> list[Finding]:
    findings = []
    for flag, minimum, unit in RETENTION:
        value = config.flags.get(flag)
        number = int(value) if value is not None and value.strip().isdigit() else None
        if number is None:
            message = f"--{flag} is not set (no rotation limit is configured)"
        elif number < minimum:
            message = f"--{flag}={number} is below {minimum} {unit}"
        else:
            continue
        findings.append(
            ctx.finding(config.resource, config.path(flag), message, status=Status.WARN)
        )
    return findings


def local_retention(ctx: ScanContext) -> CheckResult:
    configs = _apiservers(ctx)
    if isinstance(configs, CheckResult):
        return configs
    # Retention applies to a log file; stdout ("-") belongs to the container log pipeline.
    paths = [c.flags.get("audit-log-path") for c in configs]
    if not any(paths):
        return not_applicable("no audit log file (webhook-only or audit off)")
    files = [c for c, path in zip(configs, paths, strict=True) if path and path != "-"]
    if not files:
        return not_applicable("the audit log goes to stdout; retention is the log pipeline's")
    findings = [f for c in files for f in _retention_findings(ctx, c)]
    return from_findings(
        findings,
        evaluated=len(RETENTION) * len(files),
        affected=len(findings),
        unit="retention settings",
        clean="audit log retention meets 30 days, 10 files, 100 MB ({ratio})",
        nothing="no retention settings",
    )


# AUD-03

SENSITIVE = (("", "secrets"), ("", "configmaps"), ("authentication.k8s.io", "tokenreviews"))
SENSITIVE_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
IDENTITIES = (
    ("jane@example.com", ("system:authenticated", "developers")),
    (
        "system:serviceaccount:shop:default",
        ("system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"),
    ),
)
ACCESS_PROBES = (
    Probe("create", "", "pods", "exec"),
    Probe("create", "", "pods", "attach"),
    Probe("create", "", "pods", "portforward"),
    Probe("get", "", "pods", "proxy"),
    Probe("get", "", "services", "proxy"),
    Probe("get", "", "nodes", "proxy", namespace=""),
    Probe("create", "", "pods"),
    Probe("delete", "", "pods"),
)
RBAC_PROBES = tuple(
    Probe(
        verb,
        "rbac.authorization.k8s.io",
        resource,
        namespace="" if resource.startswith("cluster") else "default",
    )
    for resource in ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
    for verb in ("create", "update", "patch", "delete")
)
CATCH_ALL_PROBES = (
    Probe("create", "probes.zt-audit.example.com", "widgets"),
    Probe("get", path="/zt-audit-probe"),
)


def _as(probe: Probe, user: str, groups: tuple[str, ...]) -> Probe:
    return Probe(
        probe.verb,
        probe.group,
        probe.resource,
        probe.subresource,
        probe.namespace,
        probe.name,
        probe.path,
        user,
        groups,
    )


def _rule_note(index: int | None) -> str:
    return "no rule matches" if index is None else f"rule {index + 1} matches first"


def _summary(probes: list[Probe]) -> str:
    """``create, delete on pods, pods/exec``: the verbs and targets of some probes."""
    verbs = list(dict.fromkeys(p.verb for p in probes))
    targets = list(dict.fromkeys(p.describe().split(" ", 1)[1] for p in probes))
    return f"{', '.join(verbs)} on {', '.join(targets)}"


def _policy_findings(ctx: ScanContext, policy: AuditPolicy) -> list[Finding]:
    findings: list[Finding] = []

    def add(index: int | None, message: str, status: Status = Status.FAIL) -> None:
        findings.append(
            ctx.finding(policy.resource, policy.rule_path(index), message, status=status)
        )

    for probe in CATCH_ALL_PROBES:
        index, level = policy.decide(probe)
        if level < LEVELS["Metadata"]:
            add(
                index,
                f"no catch-all rule at Metadata or above: {probe.describe()} is not "
                f"logged ({_rule_note(index)})",
            )
            break
    for group, resource in SENSITIVE:
        bodies: list[int] = []  # rules that log request bodies
        unlogged: dict[int | None, set[str]] = {}
        namespace = "" if resource == "tokenreviews" else "default"
        for user, groups in IDENTITIES:
            for verb in SENSITIVE_VERBS:
                probe = Probe(verb, group, resource, namespace=namespace, user=user, groups=groups)
                index, level = policy.decide(probe)
                if level > LEVELS["Metadata"] and index is not None:
                    bodies.append(index)
                elif level < LEVELS["Metadata"]:
                    unlogged.setdefault(index, set()).add(verb)
        if bodies:
            add(
                min(bodies),
                f"{resource} are logged with request bodies: their values would "
                "be copied into the audit log (log them at Metadata)",
            )
        for index, verbs in sorted(
            unlogged.items(), key=lambda item: (item[0] is None, item[0] or 0)
        ):
            ordered = [v for v in SENSITIVE_VERBS if v in verbs]
            add(index, f"{', '.join(ordered)} of {resource} are not logged ({_rule_note(index)})")
    for probes, label in ((ACCESS_PROBES, "pod access"), (RBAC_PROBES, "RBAC changes")):
        missed: dict[int | None, list[Probe]] = {}
        for probe in probes:
            index, level = policy.decide(probe)
            if level < LEVELS["Metadata"]:
                missed.setdefault(index, []).append(probe)
        for index, found in sorted(missed.items(), key=lambda i: (i[0] is None, i[0] or 0)):
            add(index, f"{label} not logged ({_rule_note(index)}): {_summary(found)}", Status.WARN)
    return findings


def policy_content(ctx: ScanContext) -> CheckResult:
    policies = audit_policies(ctx.inventory)
    platform = detect_platform(ctx.inventory)
    if not policies and platform.managed:
        return not_observable(
            f"{platform.provider_name} sets the audit policy of its API servers",
            hint=MANAGED_HINTS.get(platform.provider or "", platform.hint),
        )
    if not policies:
        return not_observable(
            "the audit policy file is not in the input",
            hint="pass it with --audit-policy FILE (an audit.k8s.io/v1 Policy document)",
        )
    findings = [f for policy in policies for f in _policy_findings(ctx, policy)]
    return from_findings(
        findings,
        evaluated=len(policies),
        unit="audit policies",
        clean="{ratio} log every request, keep Secret values out and record exec and RBAC changes",
        nothing="no audit policy",
    )


# AUD-04


def _sink_gap(ctx: ScanContext, match: Match, name: str) -> Finding | None:
    report = sinks_of(ctx.inventory, match)
    resource = match.workload.resource
    if not report.readable:
        message = (
            f"{name}: its output configuration is not in the input, so the sink cannot be verified"
        )
        return ctx.finding(resource, match.workload.path("volumes"), message, status=Status.WARN)
    if not report.remote:
        message = f"{name} writes only to the node itself (no remote sink)"
    elif not report.remote_tls:
        message = f"{name} ships logs without TLS"
    else:
        return None
    return ctx.finding(report.source or resource, ("data",), message, status=Status.WARN)


def _shipper_gaps(
    ctx: ScanContext, match: Match, nodes: list[Resource], webhook: bool
) -> list[Finding]:
    """What keeps one shipper from carrying every node's logs (and the audit log) out."""
    name = f"{match.signature.product} DaemonSet {match.workload.key}"
    resource = match.workload.resource
    gaps = [gap] if (gap := _sink_gap(ctx, match, name)) else []
    if not nodes:
        message = (
            "no Node objects in the input: node coverage of the log shipper cannot be measured"
        )
        return [*gaps, ctx.finding(resource, ("spec",), message, status=Status.WARN)]

    # Coverage as for runtime sensors; the audit log lives on the control-plane nodes.
    cover = coverage(ctx, match)
    tolerations = match.workload.path("tolerations")
    if cover.eligible and cover.covered / cover.eligible < 0.95:
        message = f"{name} covers {cover.covered} of {cover.eligible} nodes"
        gaps.append(ctx.finding(resource, tolerations, message, status=Status.WARN))
    planes = [n.name for n in nodes if is_control_plane(n)]
    if planes and not webhook and not set(planes) & set(cover.schedulable):
        message = (
            f"{name} cannot run on the control-plane nodes ({', '.join(planes)}), "
            "where the audit log is written"
        )
        gaps.append(ctx.finding(resource, tolerations, message, status=Status.WARN))
    return gaps


def off_cluster_shipping(ctx: ScanContext) -> CheckResult:
    config = apiserver_configs(ctx.inventory)
    webhook = bool(config and config[0].flags.get("audit-webhook-config-file"))
    shippers = daemonset_agents(ctx, "log_shippers")
    if not shippers and not webhook:
        reason = absence_unobservable(ctx, "DaemonSet")
        if reason:
            return not_observable(
                f"no log shipper DaemonSet in the input ({reason})", hint=COMPLETE_HINT
            )
        return CheckResult(Status.FAIL, "no audit webhook and no node log shipper")

    facts: dict[str, Any] = {"audit_webhook": webhook, "shippers": []}
    for match in shippers:
        sinks = sinks_of(ctx.inventory, match).sinks
        facts["shippers"].append(
            {
                "object": str(match.workload.resource.ref),
                "sinks": [{"type": s.name, "remote": s.remote, "tls": s.tls} for s in sinks],
            }
        )
    if not shippers:
        return CheckResult(
            Status.WARN,
            "audit events go to a webhook; node logs are not shipped by any DaemonSet",
            facts=facts,
        )

    # One complete shipper is enough; otherwise every shipper's gaps are the findings.
    nodes = schedulable_nodes(ctx)
    gaps = {m.workload.key: _shipper_gaps(ctx, m, nodes, webhook) for m in shippers}
    complete = any(not found for found in gaps.values())
    problems = [] if complete else [f for found in gaps.values() for f in found]
    findings = tuple(sorted(problems, key=Finding.sort_key))
    platform = detect_platform(ctx.inventory)
    if platform.managed and not webhook:
        # The provider ships (or not) the audit log; nothing in the cluster shows which.
        extra = f"; {len(problems)} node shipping gap(s)" if problems else ""
        return CheckResult(
            Status.WARN,
            f"node logs are shipped; audit log shipping by {platform.provider_name} is not "
            f"observable{extra}",
            findings=findings,
            facts=facts,
            hint=MANAGED_HINTS.get(platform.provider or "", platform.hint),
        )
    if problems:
        return CheckResult(
            Status.WARN, f"{len(problems)} shipping gap(s)", findings=findings, facts=facts
        )
    return CheckResult(
        Status.PASS,
        "node and audit logs are shipped to a remote TLS sink from every node",
        facts=facts,
    )


# AUD-05


def security_events_centralised(ctx: ScanContext) -> CheckResult:
    sensors = daemonset_agents(ctx, "runtime")
    reports = ctx.inventory.of_kind("PolicyReport", "ClusterPolicyReport", group="wgpolicyk8s.io")
    if not sensors and not reports:
        reason = absence_unobservable(ctx, "DaemonSet", "PolicyReport")
        if reason:
            return not_observable(
                f"no security event source in the input ({reason})", hint=COMPLETE_HINT
            )
        return not_applicable("no runtime sensor or policy reports produce security events")

    routes = []
    for match in workload_agents(ctx, "responders"):
        outputs = configured_outputs(ctx.inventory, match)
        if outputs or match.signature.id == "kubearmor-relay":
            routes.append(f"{match.signature.product} ({', '.join(outputs) or 'relay'})")
    shipped = [
        m for m in daemonset_agents(ctx, "log_shippers") if sinks_of(ctx.inventory, m).remote
    ]
    routes += [f"{m.signature.product} DaemonSet {m.workload.key}" for m in shipped]
    facts = {
        "sources": sorted(m.signature.product for m in sensors)
        + (["PolicyReports"] if reports else []),
        "routes": sorted(routes),
    }
    if routes:
        return CheckResult(
            Status.PASS,
            f"security events leave the cluster through {'; '.join(sorted(routes))}",
            facts=facts,
        )
    return CheckResult(
        Status.WARN,
        "security events stay in the cluster: no forwarder with an "
        "output and no log shipper with a remote sink",
        facts=facts,
    )


CHECKS = [
    Implementation("AUD-01", api_audit_on),
    Implementation("AUD-02", local_retention),
    Implementation("AUD-03", policy_content),
    Implementation("AUD-04", off_cluster_shipping),
    Implementation("AUD-05", security_events_centralised),
]
