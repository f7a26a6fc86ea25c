"""Identity and access: IAM-01 to IAM-14, and the ``CHECKS`` list of the whole pillar.

The RBAC checks here (IAM-01 to IAM-05, IAM-14) read effective permissions from
``zt_audit.analysis.rbac``. ``identity_authn`` reads the API server's authentication and
authorization settings (IAM-06 to IAM-10), ``identity_tokens`` service-account tokens
(IAM-12) and ``identity_access`` standing access (IAM-11, IAM-13).
"""

from __future__ import annotations

from zt_audit.analysis.rbac import Grant
from zt_audit.analysis.rbac.authn import (
    aws_auth_mappings,
    certificate_names_masters,
    kubeconfig_users,
)
from zt_audit.analysis.rbac.authorizer import Request, rule_allows
from zt_audit.analysis.rbac.defaults import (
    DISCOVERY_URLS,
    ISSUER_URLS,
    PUBLIC_INFO_URLS,
    SELF_REVIEWS,
)
from zt_audit.analysis.rbac.model import AUTHENTICATED, MASTERS, Rule, Subject, parse_subject
from zt_audit.analysis.rbac.privileges import is_full_admin, rule_grants
from zt_audit.analysis.rbac.subjects import SubjectClass, is_anonymous, is_broad
from zt_audit.engine.context import ScanContext
from zt_audit.engine.model import CheckResult, Finding, Severity, Status
from zt_audit.engine.registry import Implementation
from zt_audit.rules.identity_access import just_in_time, service_account_defaults
from zt_audit.rules.identity_authn import AUTHN_CHECKS
from zt_audit.rules.identity_common import (
    escalation_paths,
    grant_finding,
    judged_grants,
    rbac_graph,
    rbac_verdict,
    subject_class,
)

# IAM-01


def cluster_admin(ctx: ScanContext) -> CheckResult:
    grants = judged_grants(ctx)
    findings: list[Finding] = []
    for grant in grants:
        if not is_full_admin(grant):
            continue
        kind = subject_class(ctx, grant)
        subject = grant.subject
        if kind is SubjectClass.BREAK_GLASS:
            message = f"break-glass subject {subject} holds cluster-admin rights ({grant.via})"
            findings.append(grant_finding(ctx, grant, message, status=Status.WARN))
        elif grant.namespace is not None:
            message = (
                f"{subject} has every permission in namespace {grant.namespace}, its Secrets "
                f"and RBAC included ({grant.via})"
            )
            findings.append(grant_finding(ctx, grant, message, status=Status.WARN))
        else:
            broad = kind in (SubjectClass.WORKLOAD, SubjectClass.BROAD)
            who = "workload account" if kind is SubjectClass.WORKLOAD else kind.value
            message = f"{who} {subject} holds cluster-admin rights ({grant.via})"
            severity = Severity.CRITICAL if broad else None
            findings.append(grant_finding(ctx, grant, message, severity=severity))
    critical = any(f.severity is Severity.CRITICAL for f in findings)
    return rbac_verdict(
        ctx,
        findings,
        evaluated=len(grants),
        unit="grants",
        clean="no subject outside the platform holds cluster-admin ({ratio})",
        kinds=("ClusterRoleBinding",),
        severity=Severity.CRITICAL if critical else None,
    )


# IAM-02


def wildcards(ctx: ScanContext) -> CheckResult:
    bound: dict[str, list[Grant]] = {}
    for grant in judged_grants(ctx):
        bound.setdefault(grant.role.key, []).append(grant)
    findings: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    rules = 0
    for key in sorted(bound):
        grants = bound[key]
        for source in grants[0].role.rules:
            rules += 1
            if source.role is None or (str(source.role.ref), source.index) in seen:
                continue
            seen.add((str(source.role.ref), source.index))
            axes = _wildcard_axes(source.rule)
            if not axes:
                continue
            full = "verbs" in axes and "resources" in axes
            subjects = sorted({str(g.subject) for g in grants})
            message = (
                f"{source.role.ref} rule {source.index} grants {source.rule.describe()}, "
                f"bound to {', '.join(subjects[:3])}"
                + (f" and {len(subjects) - 3} more" if len(subjects) > 3 else "")
            )
            findings.append(
                ctx.finding(
                    source.role,
                    ("rules", source.index),
                    message,
                    status=Status.FAIL if full else Status.WARN,
                    details={"wildcards": axes, "subjects": subjects},
                )
            )
    return rbac_verdict(
        ctx,
        findings,
        evaluated=rules,
        unit="bound rules",
        clean="no wildcard in {ratio}",
    )


def _wildcard_axes(rule: Rule) -> list[str]:
    axes = []
    if "*" in rule.verbs:
        axes.append("verbs")
    if "*" in rule.resources:
        axes.append("resources")
    if "*" in rule.api_groups:
        axes.append("apiGroups")
    return axes


# IAM-03

READ_VERBS = ("get", "list", "watch")


def secret_read(ctx: ScanContext) -> CheckResult:
    grants = judged_grants(ctx)
    findings: list[Finding] = []
    readers: dict[str, int] = {}
    for grant in grants:
        verbs, named = _secret_reads(grant)
        if not verbs and not named:
            continue
        kind = subject_class(ctx, grant)
        readers[kind.value] = readers.get(kind.value, 0) + 1
        where = "in every namespace" if grant.namespace is None else f"in {grant.namespace}"
        what = (
            f"can {'/'.join(verbs)} Secrets {where}"
            if verbs
            else (f"can read the Secrets {', '.join(named)} {where}")
        )
        message = f"{grant.subject} {what} ({grant.via})"
        status = _secret_status(kind, grant, bool(verbs))
        if status is not None:
            findings.append(grant_finding(ctx, grant, message, status=status))
    return rbac_verdict(
        ctx,
        findings,
        evaluated=len(grants),
        unit="grants",
        clean="Secret reads are limited ({ratio} without a finding)",
        facts={"secret_readers_by_class": dict(sorted(readers.items()))},
    )


def _secret_reads(grant: Grant) -> tuple[list[str], list[str]]:
    """Verbs allowed on every Secret of the scope, and Secret names readable by name."""
    verbs = [
        verb
        for verb in READ_VERBS
        if any(
            rule_allows(s.rule, Request(verb, "secrets", namespace=grant.namespace))
            for s in grant.role.rules
        )
    ]
    named = sorted(
        {
            name
            for s in grant.role.rules
            if rule_grants(s.rule, Request("get", "secrets"))
            for name in s.rule.resource_names
        }
    )
    return verbs, named


def _secret_status(kind: SubjectClass, grant: Grant, every: bool) -> Status | None:
    if kind is SubjectClass.BROAD:
        return Status.FAIL
    if not every:
        return None
    if grant.namespace is None:
        return Status.WARN if kind is SubjectClass.BREAK_GLASS else Status.FAIL
    return Status.WARN if kind is SubjectClass.HUMAN else None


# IAM-04

# Inside one namespace these are everyday developer rights unless they reach a more
# powerful account.
EVERYDAY = frozenset({"pod-create", "pod-exec"})

# What to change for each kind of path, in one sentence.
REMEDIATIONS = {
    "impersonate": "Remove impersonate, or limit it with resourceNames to the identities needed.",
    "bind-escalate": "Remove bind and escalate; let an administrator create the bindings.",
    "pod-create": "Move the powerful ServiceAccount out of this namespace, or stop this subject "
    "creating pods and workload controllers here.",
    "pod-exec": "Remove pods/exec, pods/attach and pod patching here, or move the powerful "
    "ServiceAccount's pods to another namespace.",
    "nodes-proxy": "Remove nodes/proxy; use kubectl debug or logs through the API instead.",
    "sa-token": "Remove serviceaccounts/token create, or limit it with resourceNames.",
    "token-secret": "Stop this subject creating Secrets where powerful accounts live.",
    "secrets-read": "Delete the legacy token Secret, or remove Secret reads here.",
    "csr-approve": "Keep CSR approval for the control plane; remove approve on signers.",
    "webhook-write": "Keep admission webhook configuration writes for the platform team.",
    "pv-create": "Remove persistentvolumes create; provision volumes through StorageClasses.",
    "aws-auth-write": "Remove write access to ConfigMaps in kube-system; use EKS access entries.",
}


def escalation(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    judged = {id(grant) for grant in judged_grants(ctx)}
    for path in escalation_paths(ctx):
        grant = path.grant
        kind = subject_class(ctx, grant)
        if id(grant) not in judged or kind is SubjectClass.BREAK_GLASS:
            continue
        everyday = (
            path.primitive in EVERYDAY and grant.namespace is not None and path.target is None
        )
        status = Status.WARN if everyday and kind is not SubjectClass.BROAD else Status.FAIL
        gains = path.steps[-1].action
        if path.target:
            gains = f"reaches {path.target} ({path.gains.label})"
        limited = f" (only {', '.join(path.names)})" if path.names else ""
        message = f"{grant.subject} can {path.title}{limited} {_scope(grant)}: {gains}"
        findings.append(
            grant_finding(
                ctx,
                grant,
                message,
                status=status,
                remediation=REMEDIATIONS.get(path.primitive),
                details={"path": path.as_dict()},
            )
        )
    # In a partial bundle a missing role may simply live elsewhere: recorded, not judged.
    dangling = sorted(
        f"{m.binding.ref} -> {m.role_kind}/{m.role_name}" for m in rbac_graph(ctx).missing
    )
    if ctx.evidence.mode != "manifests" or ctx.evidence.complete:
        findings.extend(_dangling(ctx))
    return rbac_verdict(
        ctx,
        findings,
        evaluated=len(judged),
        unit="grants",
        clean="no escalation path outside the platform ({ratio})",
        facts={"bindings_to_missing_roles": dangling},
    )


def _dangling(ctx: ScanContext) -> list[Finding]:
    """Bindings whose role is missing grant nothing now, and later whatever role takes its name."""
    found = []
    for missing in rbac_graph(ctx).missing:
        message = (
            f"{missing.binding.ref} references {missing.role_kind} {missing.role_name!r}, "
            "which does not exist: it grants nothing now, and whoever creates that role "
            "grants it to the binding's subjects"
        )
        found.append(ctx.finding(missing.binding, ("roleRef",), message, status=Status.WARN))
    return found


def _scope(grant: Grant) -> str:
    return "cluster-wide" if grant.namespace is None else f"in {grant.namespace}"


# IAM-05


def broad_subjects(ctx: ScanContext) -> CheckResult:
    graph = rbac_graph(ctx)
    grants = [g for g in graph.grants if subject_class(ctx, g) is SubjectClass.BROAD]
    findings: list[Finding] = []
    for grant in grants:
        extra = [s.rule for s in grant.role.rules if not _default_for(s.rule, grant.subject)]
        if not extra:
            continue
        described = "; ".join(sorted(rule.describe() for rule in extra)[:4])
        who = "anonymous requests" if is_anonymous(grant.subject) else str(grant.subject)
        message = f"{who} granted {described} ({grant.via})"
        findings.append(
            grant_finding(
                ctx, grant, message, details={"rules": sorted(r.describe() for r in extra)}
            )
        )
    # A broad group bound to a role the input lacks: what it grants cannot be read.
    for missing in graph.missing:
        subjects = missing.binding.obj.get("subjects")
        for index, value in enumerate(subjects if isinstance(subjects, list) else []):
            subject = parse_subject(value, missing.binding.namespace)
            if subject is None or not is_broad(subject):
                continue
            message = (
                f"{missing.binding.ref} binds {subject} to {missing.role_kind} "
                f"{missing.role_name!r}, which is not in the input: what it grants is unknown"
            )
            findings.append(
                ctx.finding(missing.binding, ("subjects", index), message, status=Status.WARN)
            )
    return rbac_verdict(
        ctx,
        findings,
        evaluated=len(graph.grants),
        unit="grants",
        clean="broad groups hold only the upstream defaults ({ratio} without a finding)",
        kinds=("ClusterRoleBinding",),
    )


def _default_for(rule: Rule, subject: Subject) -> bool:
    """Whether a rule stays within what Kubernetes itself grants to a broad group."""
    if rule.verbs <= {"use"} and rule.resources <= {"podsecuritypolicies"}:
        # Using a PodSecurityPolicy constrains pods; granting it to all was the documented way
        # to apply a restrictive policy (removed in Kubernetes 1.25).
        return True
    anonymous = is_anonymous(subject)
    urls = set(PUBLIC_INFO_URLS) | set(ISSUER_URLS)
    if not anonymous and subject.name == AUTHENTICATED:
        urls |= set(DISCOVERY_URLS)
    if rule.non_resource_urls and not rule.resources:
        return rule.verbs <= {"get"} and rule.non_resource_urls <= urls
    if anonymous or subject.name != AUTHENTICATED or rule.non_resource_urls:
        return False
    groups = {group for group, _ in SELF_REVIEWS}
    names = {name for _, name in SELF_REVIEWS}
    return (
        rule.verbs <= {"create"}
        and rule.resources <= names
        and rule.api_groups <= groups
        and not rule.resource_names
    )


# IAM-14


def system_masters(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    evaluated = 0
    for grant in rbac_graph(ctx).grants:
        evaluated += 1
        if grant.subject != Subject("Group", MASTERS):
            continue
        if grant.binding.kind == "ClusterRoleBinding" and grant.binding.name == "cluster-admin":
            continue  # the bootstrap binding every cluster creates
        message = f"{grant.binding.ref} names {MASTERS}, which bypasses RBAC and webhooks"
        findings.append(grant_finding(ctx, grant, message))

    configmap, mappings = aws_auth_mappings(ctx.inventory)
    for mapping in mappings:
        evaluated += 1
        if MASTERS in mapping.groups and configmap is not None:
            message = f"aws-auth {mapping.key} maps {mapping.arn} into {MASTERS}"
            findings.append(ctx.finding(configmap, ("data", mapping.key), message))

    for csr in ctx.inventory.of_kind("CertificateSigningRequest", group="certificates.k8s.io"):
        evaluated += 1
        request = csr.spec.get("request")
        if isinstance(request, str) and certificate_names_masters(request):
            message = f"{csr.ref} asks for a certificate in {MASTERS}"
            findings.append(ctx.finding(csr, ("spec", "request"), message))

    for user in kubeconfig_users(ctx.inventory):
        evaluated += 1
        if user.masters_certificate:
            message = f"kubeconfig user {user.name} holds a {MASTERS} client certificate"
            path = ("users", user.index, "user", "client-certificate-data")
            findings.append(ctx.finding(user.resource, path, message))
    return rbac_verdict(
        ctx,
        findings,
        evaluated=evaluated,
        unit="grants, mappings and certificates",
        clean="system:masters is used only by the bootstrap binding ({ratio} clean)",
        kinds=("ClusterRoleBinding",),
    )


CHECKS = [
    Implementation("IAM-01", cluster_admin),
    Implementation("IAM-02", wildcards),
    Implementation("IAM-03", secret_read),
    Implementation("IAM-04", escalation),
    Implementation("IAM-05", broad_subjects),
    *AUTHN_CHECKS,
    Implementation("IAM-11", just_in_time),
    Implementation("IAM-13", service_account_defaults),
    Implementation("IAM-14", system_masters),
]
