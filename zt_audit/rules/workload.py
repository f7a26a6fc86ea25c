"""Pod hardening: RT-04 to RT-09 (RT-10 is declarative, in ``checks/workload``).

Container settings are judged as the kubelet applies them: a container's
``securityContext`` field wins over the pod's, and an unset field takes the runtime
default, which for ``allowPrivilegeEscalation`` and the user is the unsafe one.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.admission.kyverno import PodSecurityRule, pod_security_rules
from zt_audit.engine.context import ScanContext, from_findings, not_applicable, not_observable
from zt_audit.engine.model import CheckResult, Finding, Severity, Stage, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Container, Workload

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_AUDIT = "pod-security.kubernetes.io/audit"
PSA_WARN = "pod-security.kubernetes.io/warn"
PSA_LEVELS = ("privileged", "baseline", "restricted")

DANGEROUS_CAPABILITIES = frozenset(
    {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW", "BPF", "SYS_RAWIO"}
)
# The restricted Pod Security Standard allows adding this one capability.
HARMLESS_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})

# Host paths that hand the node (or its container runtime) to whoever mounts them.
CRITICAL_HOST_PATHS = frozenset(
    {
        "/",
        "/boot",
        "/dev",
        "/etc",
        "/etc/kubernetes",
        "/proc",
        "/root",
        "/run",
        "/run/containerd",
        "/run/containerd/containerd.sock",
        "/run/crio/crio.sock",
        "/sys",
        "/var/lib/containerd",
        "/var/lib/docker",
        "/var/lib/kubelet",
        "/var/run",
        "/var/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock",
        "/var/run/docker.sock",
        "/run/docker.sock",
    }
)


def _is_windows(workload: Workload) -> bool:
    os_spec = workload.pod_spec.get("os")
    return isinstance(os_spec, dict) and os_spec.get("name") == "windows"


def _effective(container: Container, workload: Workload, field: str) -> tuple[Any, str | None]:
    """A securityContext field as the kubelet resolves it, and where it was set."""
    if field in container.security_context:
        return container.security_context[field], "container"
    if field in workload.pod_security_context:
        return workload.pod_security_context[field], "pod"
    return None, None


# RT-04


def _psa_level(labels: dict[str, str], key: str) -> str | None:
    value = labels.get(key)
    return value if value in PSA_LEVELS else None


def _engine_level(
    rules: list[PodSecurityRule], namespace: str, labels: dict[str, str] | None
) -> str | None:
    """The strictest Pod Security level a policy engine enforces in ``namespace``."""
    levels = [r.level for r in rules if r.enforced_in(namespace, labels) is True]
    return max(levels, key=PSA_LEVELS.index, default=None)


def pod_security_admission(ctx: ScanContext) -> CheckResult:
    namespaces = [ns for ns in ctx.namespaces() if ns != "default" or _used(ctx, ns)]
    if not namespaces:
        return not_applicable("no namespaces in scope")
    rules = pod_security_rules(ctx.inventory)
    findings: list[Finding] = []
    unknown: list[str] = []
    levels: dict[str, str] = {}
    for name in namespaces:
        namespace = ctx.inventory.namespaces.get(name)
        if namespace is None and not ctx.evidence.complete:
            unknown.append(name)
            continue
        labels = namespace.labels if namespace is not None else {}
        enforced = _psa_level(labels, PSA_ENFORCE)
        engine = _engine_level(rules, name, labels if namespace is not None else None)
        if engine and (enforced is None or PSA_LEVELS.index(engine) > PSA_LEVELS.index(enforced)):
            enforced = engine
        levels[name] = enforced or ("audit-only" if _audit_only(labels) else "none")
        path = ("metadata", "labels", PSA_ENFORCE)
        if enforced == "restricted":
            continue
        if namespace is None:
            findings.append(
                Finding(
                    f"namespace {name} has no Namespace object, so no Pod Security label; "
                    "the cluster default is assumed to be privileged",
                    status=Status.FAIL,
                )
            )
        elif enforced == "baseline":
            message = f"namespace {name} enforces only baseline"
            findings.append(ctx.finding(namespace, path, message, status=Status.WARN))
        elif enforced is None and _audit_only(labels):
            findings.append(
                ctx.finding(
                    namespace,
                    ("metadata", "labels"),
                    f"namespace {name} audits or warns on Pod Security but does not enforce it",
                    status=Status.WARN,
                )
            )
        elif enforced == "privileged":
            findings.append(ctx.finding(namespace, path, f"namespace {name} enforces privileged"))
        else:
            findings.append(
                ctx.finding(
                    namespace,
                    ("metadata",),
                    f"namespace {name} has no Pod Security enforce label; the unobservable "
                    "cluster default is assumed to be privileged",
                )
            )
    if not levels:
        return not_observable(
            f"no Namespace objects in the input for {', '.join(unknown)}",
            hint="include the Namespace objects, or pass --bundle-is-complete",
        )
    result = from_findings(
        findings,
        evaluated=len(levels),
        affected=len(findings),
        unit="namespaces",
        clean="every namespace enforces restricted ({ratio})",
        nothing="no namespaces in scope",
        facts={
            "levels": levels,
            "engine_rules": [
                {"rule": r.ref, "level": r.level, "enforced": r.enforced} for r in rules
            ],
            "not_observed": unknown,
        },
    )
    if result.status is Status.WARN:
        # Baseline everywhere evidences the Initial stage fully and Advanced only half.
        all_enforced = all(level in ("baseline", "restricted") for level in levels.values())
        stage_scores = {Stage.INITIAL: 1.0 if all_enforced else 0.5, Stage.ADVANCED: 0.5}
        return CheckResult(
            result.status,
            result.reason,
            findings=result.findings,
            ratio=result.ratio,
            stage_scores=stage_scores,
            facts=result.facts,
        )
    return result


def _audit_only(labels: dict[str, str]) -> bool:
    return PSA_AUDIT in labels or PSA_WARN in labels


def _used(ctx: ScanContext, namespace: str) -> bool:
    return any(w.namespace == namespace for w in ctx.workloads)


# RT-05

HOST_NAMESPACES = {"hostPID": "PID", "hostIPC": "IPC", "hostNetwork": "network"}


def privileged_and_host_namespaces(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        resource = workload.resource
        for field, shared in HOST_NAMESPACES.items():
            if workload.pod_spec.get(field) is True:
                findings.append(
                    ctx.finding(
                        resource,
                        workload.path(field),
                        f"{workload.kind} {workload.key} shares the node's {shared} namespace "
                        f"({field}: true)",
                        severity=Severity.HIGH,
                    )
                )
        if _host_process(workload.pod_security_context):
            findings.append(
                ctx.finding(
                    resource,
                    workload.path("securityContext", "windowsOptions", "hostProcess"),
                    f"{workload.kind} {workload.key} runs as a Windows HostProcess pod",
                )
            )
        for container in workload.containers():
            if container.security_context.get("privileged") is True:
                findings.append(
                    ctx.finding(
                        resource,
                        (*container.path, "securityContext", "privileged"),
                        f"container {container.name} of {workload.kind} {workload.key} "
                        "is privileged",
                        severity=Severity.CRITICAL,
                    )
                )
            if _host_process(container.security_context):
                findings.append(
                    ctx.finding(
                        resource,
                        (*container.path, "securityContext", "windowsOptions", "hostProcess"),
                        f"container {container.name} of {workload.kind} {workload.key} "
                        "is a Windows HostProcess container",
                    )
                )
    return from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="no workload is privileged or shares host namespaces ({ratio})",
        nothing="no workloads in scope",
    )


def _host_process(context: dict[str, Any]) -> bool:
    options = context.get("windowsOptions")
    return isinstance(options, dict) and options.get("hostProcess") is True


# RT-06


def escalation_and_root(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        if _is_windows(workload):
            continue
        for container in workload.containers():
            findings.extend(_escalation_findings(ctx, workload, container))
    return from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="every workload forbids privilege escalation and runs as non-root ({ratio})",
        nothing="no workloads in scope",
    )


def _escalation_findings(
    ctx: ScanContext, workload: Workload, container: Container
) -> Iterator[Finding]:
    resource = workload.resource
    subject = f"container {container.name} of {workload.kind} {workload.key}"
    context_path = (*container.path, "securityContext")
    escalation = container.security_context.get("allowPrivilegeEscalation")
    if escalation is True:
        yield ctx.finding(
            resource,
            (*context_path, "allowPrivilegeEscalation"),
            f"{subject} sets allowPrivilegeEscalation: true",
        )
    elif escalation is None:
        yield ctx.finding(
            resource,
            context_path,
            f"{subject} does not set allowPrivilegeEscalation: false (unset means allowed)",
            status=Status.WARN,
        )
    user, user_level = _effective(container, workload, "runAsUser")
    non_root, _ = _effective(container, workload, "runAsNonRoot")
    if user == 0:
        where = context_path if user_level == "container" else workload.path("securityContext")
        yield ctx.finding(resource, (*where, "runAsUser"), f"{subject} runs as UID 0 (root)")
    elif non_root is not True and not (isinstance(user, int) and user > 0):
        yield ctx.finding(
            resource,
            context_path,
            f"{subject} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser",
            status=Status.WARN,
        )


# RT-07


def _capability(name: Any) -> str:
    text = str(name).upper()
    return text[4:] if text.startswith("CAP_") else text


def capabilities(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        if _is_windows(workload):
            continue
        for container in workload.containers():
            subject = f"container {container.name} of {workload.kind} {workload.key}"
            caps = container.security_context.get("capabilities")
            caps = caps if isinstance(caps, dict) else {}
            added = caps.get("add") if isinstance(caps.get("add"), list) else []
            dropped = caps.get("drop") if isinstance(caps.get("drop"), list) else []
            path = (*container.path, "securityContext", "capabilities")
            for index, raw in enumerate(added):
                cap = _capability(raw)
                if cap in DANGEROUS_CAPABILITIES:
                    findings.append(
                        ctx.finding(
                            workload.resource, (*path, "add", index), f"{subject} adds {cap}"
                        )
                    )
                elif cap not in HARMLESS_CAPABILITIES:
                    findings.append(
                        ctx.finding(
                            workload.resource,
                            (*path, "add", index),
                            f"{subject} adds {cap}",
                            status=Status.WARN,
                        )
                    )
            if "ALL" not in {_capability(c) for c in dropped}:
                findings.append(
                    ctx.finding(
                        workload.resource,
                        path if caps else (*container.path, "securityContext"),
                        f"{subject} does not drop ALL capabilities",
                        status=Status.WARN,
                    )
                )
    return from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="every workload drops ALL capabilities and adds none that is dangerous ({ratio})",
        nothing="no workloads in scope",
    )


# RT-08


def host_path_and_port(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        subject = f"{workload.kind} {workload.key}"
        for volume, path in workload.volumes():
            host_path = volume.get("hostPath")
            if not isinstance(host_path, dict):
                continue
            raw = str(host_path.get("path", ""))
            normalised = posixpath.normpath(raw) if raw else raw
            critical = normalised in CRITICAL_HOST_PATHS or normalised.endswith(".sock")
            findings.append(
                ctx.finding(
                    workload.resource,
                    (*path, "hostPath", "path"),
                    f"{subject} mounts the node path {raw}"
                    + (" (node or container-runtime takeover)" if critical else ""),
                    severity=Severity.CRITICAL if critical else None,
                )
            )
        for container in workload.containers():
            ports = container.spec.get("ports")
            if not isinstance(ports, list):
                continue
            for index, port in enumerate(ports):
                if isinstance(port, dict) and port.get("hostPort") not in (None, 0):
                    findings.append(
                        ctx.finding(
                            workload.resource,
                            (*container.path, "ports", index, "hostPort"),
                            f"container {container.name} of {subject} binds node port "
                            f"{port.get('hostPort')}",
                        )
                    )
    critical = any(f.severity is Severity.CRITICAL for f in findings)
    result = from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="no workload mounts host paths or binds host ports ({ratio})",
        nothing="no workloads in scope",
    )
    if critical:
        return CheckResult(
            result.status,
            result.reason,
            findings=result.findings,
            ratio=result.ratio,
            severity=Severity.CRITICAL,
        )
    return result


# RT-09

SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
APPARMOR_CONTAINER_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _seccomp(workload: Workload, container: Container) -> tuple[str | None, tuple[Any, ...]]:
    """The effective seccomp profile type and the path of the field that set it."""
    for context, base in (
        (container.security_context, (*container.path, "securityContext")),
        (workload.pod_security_context, workload.path("securityContext")),
    ):
        profile = context.get("seccompProfile")
        if isinstance(profile, dict) and profile.get("type"):
            return str(profile["type"]), (*base, "seccompProfile", "type")
    annotations = workload.pod_annotations
    legacy = annotations.get(SECCOMP_CONTAINER_ANNOTATION + container.name) or annotations.get(
        SECCOMP_POD_ANNOTATION
    )
    if legacy:
        kind = {"runtime/default": "RuntimeDefault", "docker/default": "RuntimeDefault"}.get(
            legacy, "Unconfined" if legacy == "unconfined" else "Localhost"
        )
        return kind, (*workload.spec_path[:-1], "metadata", "annotations")
    return None, (*container.path, "securityContext")


def _apparmor(workload: Workload, container: Container) -> tuple[str | None, tuple[Any, ...]]:
    for context, base in (
        (container.security_context, (*container.path, "securityContext")),
        (workload.pod_security_context, workload.path("securityContext")),
    ):
        profile = context.get("appArmorProfile")
        if isinstance(profile, dict) and profile.get("type"):
            return str(profile["type"]), (*base, "appArmorProfile", "type")
    legacy = workload.pod_annotations.get(APPARMOR_CONTAINER_ANNOTATION + container.name)
    if legacy:
        kind = "Unconfined" if legacy == "unconfined" else "RuntimeDefault"
        return kind, (*workload.spec_path[:-1], "metadata", "annotations")
    return None, ()


def seccomp_and_apparmor(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        if _is_windows(workload):
            continue
        for container in workload.containers():
            subject = f"container {container.name} of {workload.kind} {workload.key}"
            profile, path = _seccomp(workload, container)
            if profile == "Unconfined":
                findings.append(
                    ctx.finding(workload.resource, path, f"{subject} runs seccomp Unconfined")
                )
            elif profile is None:
                findings.append(
                    ctx.finding(
                        workload.resource,
                        path,
                        f"{subject} has no seccomp profile (the runtime default is Unconfined)",
                        status=Status.WARN,
                    )
                )
            apparmor, apparmor_path = _apparmor(workload, container)
            if apparmor == "Unconfined":
                findings.append(
                    ctx.finding(
                        workload.resource, apparmor_path, f"{subject} runs AppArmor Unconfined"
                    )
                )
    return from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="every container runs a RuntimeDefault or Localhost seccomp profile ({ratio})",
        nothing="no workloads in scope",
    )


CHECKS = [
    Implementation("RT-04", pod_security_admission),
    Implementation("RT-05", privileged_and_host_namespaces),
    Implementation("RT-06", escalation_and_root),
    Implementation("RT-07", capabilities),
    Implementation("RT-08", host_path_and_port),
    Implementation("RT-09", seccomp_and_apparmor),
]
