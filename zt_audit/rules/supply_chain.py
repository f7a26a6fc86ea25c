"""Supply chain beyond the image reference: admission provenance (IMG-04), scanner
coverage (IMG-05), running vulnerabilities (IMG-06), SBOM and attestations (IMG-07)."""

from __future__ import annotations

from collections.abc import Iterator

from zt_audit.analysis.absence import COMPLETE_HINT, absence_unobservable
from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.admission.index import admission_index
from zt_audit.analysis.agents import workload_agents
from zt_audit.analysis.vulnreports import (
    GROUP as TRIVY_GROUP,
)
from zt_audit.analysis.vulnreports import (
    VulnReport,
    is_fresh,
    reference_time,
    reports_by_container,
    vulnerability_reports,
)
from zt_audit.engine.context import ScanContext, from_findings, not_applicable, not_observable
from zt_audit.engine.model import CheckResult, Finding, Ratio, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Container, Workload

POLICY_KINDS = (
    "ClusterPolicy",
    "ClusterImagePolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
)


def _containers(ctx: ScanContext) -> Iterator[tuple[Workload, Container]]:
    for workload in ctx.workloads:
        for container in workload.containers():
            if container.image:
                yield workload, container


def _subject(workload: Workload, container: Container) -> str:
    return f"container {container.name} of {workload.kind} {workload.key}"


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=Finding.sort_key))


# IMG-04


def _weakness(control: ImageControl) -> str | None:
    """Why a control does not count as enforced signature verification, or None."""
    if not control.verifies:
        return f"only restricts image names, tags or digests (mode {control.mode})"
    if not control.enforced:
        return f"verifies signatures in {control.mode} mode, which does not block"
    if control.fail_open:
        return "verifies signatures, but its webhook fails open (failurePolicy: Ignore)"
    return None


def _covering(ctx: ScanContext, controls: list[ImageControl], namespace: str) -> list:
    labels = ctx.inventory.namespace_labels(namespace)
    return [c for c in controls if c.strong and c.applies(namespace, labels) is True]


def _undecided(ctx: ScanContext, controls: list[ImageControl], namespace: str) -> bool:
    """Whether a strong control might cover the namespace, were its labels known."""
    labels = ctx.inventory.namespace_labels(namespace)
    return any(c.strong and c.applies(namespace, labels) is None for c in controls)


def _control_facts(control: ImageControl) -> dict[str, object]:
    return {
        "object": str(control.resource.ref),
        "engine": control.engine,
        "verifies": control.verifies,
        "enforced": control.enforced,
        "mode": control.mode,
        "fail_open": control.fail_open,
    }


def admission_provenance(ctx: ScanContext) -> CheckResult:
    containers = list(_containers(ctx))
    if not containers:
        return not_applicable("no container images in scope")
    controls = admission_index(ctx).controls
    if not controls:
        reason = absence_unobservable(ctx, *POLICY_KINDS)
        if reason:
            return not_observable(
                f"no image admission policy in the input ({reason})", hint=COMPLETE_HINT
            )
        return CheckResult(
            Status.FAIL,
            "no admission control verifies image signatures or restricts images",
            ratio=Ratio(0, len(containers), "containers"),
        )

    # Controls that would not stop an unsigned image are findings in themselves.
    findings = [
        ctx.finding(c.resource, c.path, f"{c.describe()} {weak}", status=Status.WARN)
        for c in controls
        if (weak := _weakness(c))
    ]

    # A container is covered when enforced verification reaches its namespace, its pod
    # (webhook objectSelectors) and its image.
    namespaces = sorted({w.namespace for w, _ in containers})
    by_namespace = {ns: _covering(ctx, controls, ns) for ns in namespaces}
    covered = 0
    for workload, container in containers:
        image = container.image or ""
        labels = workload.pod_labels
        if any(
            c.covers_image(image) and c.sees_pod(labels) for c in by_namespace[workload.namespace]
        ):
            covered += 1
            continue
        unknown = _undecided(ctx, controls, workload.namespace)
        note = " (its Namespace object, needed to decide, is not in the input)" if unknown else ""
        findings.append(
            ctx.finding(
                workload.resource,
                (*container.path, "image"),
                f"{_subject(workload, container)}: {image} is not signature-verified by an "
                f"enforcing admission policy{note}",
                status=Status.WARN,
            )
        )

    image_ratio = Ratio(covered, len(containers), "containers")
    namespace_ratio = Ratio(
        sum(1 for ns in namespaces if by_namespace[ns]), len(namespaces), "namespaces"
    )
    facts = {
        "controls": [_control_facts(c) for c in controls],
        "namespaces_covered": [ns for ns in namespaces if by_namespace[ns]],
    }
    reason = f"{image_ratio} and {namespace_ratio} under enforced signature verification"
    if image_ratio.value >= 0.95 and namespace_ratio.value >= 0.95:
        return CheckResult(
            Status.PASS, reason, ratio=image_ratio, facts=facts, findings=_sorted(findings)
        )
    return CheckResult(
        Status.WARN, reason, ratio=image_ratio, findings=_sorted(findings), facts=facts
    )


# IMG-05 and IMG-06


def _reports(ctx: ScanContext) -> dict[tuple[str, str, str, str], list[VulnReport]]:
    return ctx.analysis(
        "vulnreports.by_container",
        lambda: reports_by_container(vulnerability_reports(ctx.inventory), ctx.workloads),
    )


def _opaque_scanners(ctx: ScanContext) -> list[str]:
    found = [
        f"{m.signature.product} ({m.workload.kind} {m.workload.key})"
        for m in workload_agents(ctx, "scanners")
    ]
    if ctx.inventory.has_kind("VulnerabilityManifest"):
        found.append("Kubescape VulnerabilityManifest objects")
    return sorted(found)


def scanner_coverage(ctx: ScanContext) -> CheckResult:
    containers = list(_containers(ctx))
    if not containers:
        return not_applicable("no container images in scope")
    reports = _reports(ctx)
    scanners = _opaque_scanners(ctx)
    if not ctx.inventory.has_kind("VulnerabilityReport"):
        if [s for s in scanners if not s.startswith("Trivy Operator")]:
            return CheckResult(
                Status.WARN,
                f"an external scanner runs ({', '.join(scanners)}), but its coverage is "
                "not visible as Kubernetes objects",
                facts={"scanners": scanners},
            )
        reason = absence_unobservable(ctx, "VulnerabilityReport")
        if reason:
            return not_observable(
                f"no vulnerability reports in the input ({reason})",
                hint="add kubectl get vulnerabilityreports -A -o yaml to the input",
                facts={"scanners": scanners},
            )
        return CheckResult(
            Status.FAIL,
            "no image vulnerability scanner reports on the cluster",
            ratio=Ratio(0, len(containers), "containers"),
        )

    now = reference_time(ctx.inventory, ctx.config.reference_time)
    findings, fresh, stale = [], 0, 0
    for workload, container in containers:
        found = reports.get((workload.kind, workload.namespace, workload.name, container.name), [])
        if any(is_fresh(r, now) for r in found):
            fresh += 1
            continue
        if found:
            stale += 1
            newest = max((r.updated for r in found if r.updated), default=None)
            when = newest.isoformat() if newest else "never"
            message = (
                f"{_subject(workload, container)}: its vulnerability report is stale "
                f"(updated {when}, more than 7 days before {now.isoformat() if now else '?'})"
            )
        else:
            message = f"{_subject(workload, container)} has no vulnerability report"
        findings.append(
            ctx.finding(workload.resource, (*container.path, "image"), message, status=Status.WARN)
        )

    ratio = Ratio(fresh, len(containers), "containers")
    facts = {"reference_time": now.isoformat() if now else None, "scanners": scanners}
    reason = f"{ratio} have a vulnerability report from the last 7 days"
    if ratio.value >= 0.9:
        return CheckResult(
            Status.PASS, reason, ratio=ratio, findings=_sorted(findings), facts=facts
        )
    # Stale or partial reports still show a scanner at work; none at all is a failure.
    status = Status.WARN if fresh or stale else Status.FAIL
    return CheckResult(
        status,
        reason,
        ratio=ratio,
        findings=_sorted(findings),
        facts=facts,
        score=ratio.value if status is Status.WARN else None,
    )


def _vulnerability_finding(ctx: ScanContext, key: tuple, report: VulnReport) -> Finding | None:
    kind, namespace, name, container = key
    subject = f"container {container} of {kind} {namespace}/{name} ({report.image or 'image'})"
    if report.critical_fixable:
        return ctx.finding(
            report.resource,
            ("report", "vulnerabilities"),
            f"{subject}: {report.critical_fixable} critical vulnerabilities have a fixed version",
        )
    problems = []
    if report.critical_unfixed:
        problems.append(f"{report.critical_unfixed} critical vulnerabilities without a fix")
    if report.high_fixable:
        problems.append(f"{report.high_fixable} high vulnerabilities with a fix")
    if not report.listed and report.summary_critical:
        problems.append(
            f"{report.summary_critical} critical vulnerabilities "
            "(only the summary is present, so fixability is unknown)"
        )
    if not problems:
        return None
    path = ("report", "vulnerabilities") if report.listed else ("report", "summary")
    return ctx.finding(
        report.resource, path, f"{subject}: {'; '.join(problems)}", status=Status.WARN
    )


def running_vulnerabilities(ctx: ScanContext) -> CheckResult:
    reports = _reports(ctx)
    if not reports:
        reason = absence_unobservable(ctx, "VulnerabilityReport") or (
            "no VulnerabilityReport describes an in-scope workload"
        )
        return not_observable(
            f"no vulnerability reports to read ({reason})",
            hint="install the Trivy Operator and include its reports",
        )
    findings = []
    for key, found in sorted(reports.items()):
        for report in found:
            finding = _vulnerability_finding(ctx, key, report)
            if finding is not None:
                findings.append(finding)
    return from_findings(
        findings,
        evaluated=len(reports),
        affected=len({f.object for f in findings}),
        unit="scanned containers",
        clean="no critical or fixable high vulnerabilities in {ratio}",
        nothing="no scanned containers in scope",
    )


# IMG-07


def sbom_provenance(ctx: ScanContext) -> CheckResult:
    controls = admission_index(ctx).controls
    attesting = [c for c in controls if c.attestations]
    enforced = [c for c in attesting if c.enforced and c.fail_open is not True]
    facts = {
        "attestations": sorted({a for c in attesting for a in c.attestations}),
        "policies": sorted({str(c.resource.ref) for c in attesting}),
    }
    if enforced:
        kinds = ", ".join(sorted({a for c in enforced for a in c.attestations}))
        names = ", ".join(sorted({c.describe() for c in enforced}))
        return CheckResult(
            Status.PASS, f"attestations ({kinds}) verified at admission by {names}", facts=facts
        )
    findings = [
        ctx.finding(
            c.resource,
            c.path,
            f"{c.describe()} checks attestations in {c.mode} mode "
            "or fails open, so unattested images are admitted",
            status=Status.WARN,
        )
        for c in attesting
    ]
    sboms = ctx.inventory.of_kind("SbomReport", "ClusterSbomReport", group=TRIVY_GROUP)
    if findings or sboms:
        reason = "SBOMs are inventoried" if sboms else "attestations are not enforced"
        if sboms:
            reason += f" ({len(sboms)} SbomReport objects) but not verified at admission"
        return CheckResult(Status.WARN, reason, findings=_sorted(findings), facts=facts)
    missing = absence_unobservable(ctx, *POLICY_KINDS, "SbomReport")
    if missing:
        return not_observable(
            f"no attestation policy or SBOM inventory in the input ({missing})", hint=COMPLETE_HINT
        )
    return CheckResult(Status.FAIL, "no SBOM or provenance attestation is verified or inventoried")


CHECKS = [
    Implementation("IMG-04", admission_provenance),
    Implementation("IMG-05", scanner_coverage),
    Implementation("IMG-06", running_vulnerabilities),
    Implementation("IMG-07", sbom_provenance),
]
