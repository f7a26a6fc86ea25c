"""Authentication and authorization settings: IAM-06 to IAM-10.

Flags come from the kube-apiserver static pod or ``kubeadm-config``; structured
AuthenticationConfiguration, AuthorizationConfiguration and KubeletConfiguration documents
are read when the input holds them. A managed control plane hides all of this, so those
checks are not observable there rather than failing.
"""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.embedded import load_embedded_yaml
from zt_audit.analysis.platform import ApiServerConfig
from zt_audit.analysis.rbac.authn import (
    anonymous_setting,
    authentication_configs,
    authorization_configs,
    authorizer_types,
    aws_auth_mappings,
    jwt_authenticators,
    kubeconfig_users,
    looks_federated,
    required_claim_mfa,
)
from zt_audit.analysis.rbac.subjects import SubjectClass
from zt_audit.engine.context import (
    ScanContext,
    from_findings,
    not_observable,
    passed,
)
from zt_audit.engine.model import CheckResult, Finding, Severity, Stage, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Resource
from zt_audit.rules.identity_common import (
    apiservers,
    control_plane_unobservable,
    grant_finding,
    judged_grants,
    platform,
    subject_class,
)
from zt_audit.rules.identity_tokens import short_lived_tokens

KUBELET_GROUP = "kubelet.config.k8s.io"


def _kubelet_configs(ctx: ScanContext) -> list[tuple[Resource, tuple, dict[str, Any]]]:
    """KubeletConfiguration documents, and the one kubeadm keeps in kube-system."""
    found = [
        (r, (), r.obj) for r in ctx.inventory.of_kind("KubeletConfiguration", group=KUBELET_GROUP)
    ]
    configmap = ctx.inventory.get("ConfigMap", "kube-system", "kubelet-config")
    data = configmap.obj.get("data") if configmap is not None else None
    text = data.get("kubelet") if isinstance(data, dict) else None
    if configmap is not None and isinstance(text, str):
        document = load_embedded_yaml(text)
        if isinstance(document, dict):
            found.append((configmap, ("data", "kubelet"), document))
    return found


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# IAM-06


def anonymous_auth(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    evaluated = 0
    for resource, path, config in _kubelet_configs(ctx):
        evaluated += 1
        if _dig(config, "authentication", "anonymous", "enabled") is True:
            field = path or ("authentication", "anonymous", "enabled")
            findings.append(ctx.finding(resource, field, "the kubelet serves anonymous requests"))

    documents = authentication_configs(ctx.inventory)
    settings = [(doc, anonymous_setting(doc)) for doc in documents]
    for doc, setting in settings:
        if setting is None:
            continue
        evaluated += 1
        if not setting.health_only:
            where = ", ".join(setting.paths) if setting.paths else "every path"
            message = f"{doc.ref} authenticates anonymous requests for {where}"
            findings.append(ctx.finding(doc, setting.field, message))

    structured = any(setting is not None for _, setting in settings)
    blocked = control_plane_unobservable(ctx, "anonymous-auth setting")
    unread: list[str] = []
    if blocked is None and not structured:
        for config in apiservers(ctx):
            # The flag and the file's "anonymous" section exclude each other: with the
            # flag unset, only the file (when given) can say.
            if config.has("authentication-config") and not config.has("anonymous-auth"):
                if not documents:
                    unread.append(str(config.resource.ref))
                continue
            evaluated += 1
            finding = _anonymous_flag(ctx, config)
            if finding is not None:
                findings.append(finding)
    elif blocked is not None and not evaluated:
        return blocked
    if unread and not findings:
        return not_observable(
            f"{', '.join(unread)} reads an AuthenticationConfiguration that is not in the input",
            hint="add the AuthenticationConfiguration document to the input",
        )
    return from_findings(
        findings,
        evaluated=evaluated,
        unit="authentication settings",
        clean="anonymous requests are refused or limited to health checks ({ratio})",
        nothing="no authentication settings in the input",
    )


def _anonymous_flag(ctx: ScanContext, config: ApiServerConfig) -> Finding | None:
    value = config.flags.get("anonymous-auth")
    if value is not None and value.lower() == "false":
        return None
    state = f"--anonymous-auth={value}" if value is not None else "--anonymous-auth is unset"
    message = f"{state} on {config.resource.ref}: anonymous requests are served"
    if value is None:
        message += " (the default is true)"
    return ctx.finding(config.resource, config.path("anonymous-auth"), message)


# IAM-07


def authorization_mode(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    evaluated = 0
    for resource, path, config in _kubelet_configs(ctx):
        evaluated += 1
        if _dig(config, "authorization", "mode") == "AlwaysAllow":
            field = path or ("authorization", "mode")
            message = "the kubelet authorizes every request (authorization.mode: AlwaysAllow)"
            findings.append(ctx.finding(resource, field, message, severity=Severity.CRITICAL))

    documents = authorization_configs(ctx.inventory)
    for doc in documents:
        evaluated += 1
        types = [t for _, t in authorizer_types(doc)]
        findings.extend(_mode_findings(ctx, doc, ("authorizers",), types, str(doc.ref)))

    blocked = control_plane_unobservable(ctx, "authorization mode")
    if blocked is None:
        for config in apiservers(ctx):
            if config.has("authorization-config") and documents:
                continue
            if config.has("authorization-config"):
                return not_observable(
                    f"{config.resource.ref} reads its authorizers from a file that is not in "
                    "the input",
                    hint="add the AuthorizationConfiguration document to the input",
                )
            evaluated += 1
            modes = config.values("authorization-mode")
            label = f"--authorization-mode of {config.resource.ref}"
            if not modes:
                modes, label = ["AlwaysAllow"], f"{config.resource.ref} (mode unset: AlwaysAllow)"
            findings.extend(
                _mode_findings(
                    ctx, config.resource, config.path("authorization-mode"), modes, label
                )
            )
    elif not evaluated:
        return blocked

    critical = any(f.severity is Severity.CRITICAL for f in findings)
    return from_findings(
        findings,
        evaluated=evaluated,
        unit="authorization settings",
        clean="every authorizer chain enforces Node and RBAC ({ratio})",
        nothing="no authorization settings in the input",
        severity=Severity.CRITICAL if critical else None,
    )


def _mode_findings(
    ctx: ScanContext, resource: Resource, path: Any, modes: list[str], label: str
) -> list[Finding]:
    found = []
    if "AlwaysAllow" in modes:
        message = f"{label} includes AlwaysAllow: every request is authorized"
        found.append(ctx.finding(resource, path, message, severity=Severity.CRITICAL))
    missing = [mode for mode in ("Node", "RBAC") if mode not in modes]
    if missing:
        message = f"{label} ({','.join(modes)}) lacks {' and '.join(missing)}"
        if any(m.lower() in ("node", "rbac") and m not in ("Node", "RBAC") for m in modes):
            message += " (mode names are case-sensitive)"
        found.append(ctx.finding(resource, path, message))
    return found


# IAM-08


def static_credentials(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    evaluated = 0
    if control_plane_unobservable(ctx, "authentication flags") is None:
        for config in apiservers(ctx):
            evaluated += 1
            for flag, what in (
                ("token-auth-file", "static bearer tokens"),
                ("basic-auth-file", "static passwords"),
            ):
                if config.has(flag):
                    message = f"{config.resource.ref} accepts {what} from --{flag}"
                    findings.append(ctx.finding(config.resource, config.path(flag), message))

    for user in kubeconfig_users(ctx.inventory):
        evaluated += 1
        path = ("users", user.index, "user")
        if user.name.startswith("clusterAdmin_"):
            message = f"kubeconfig user {user.name} is an AKS local admin account"
            findings.append(ctx.finding(user.resource, path, message, status=Status.WARN))
        elif user.static:
            message = f"kubeconfig user {user.name} authenticates with a {user.credential}"
            findings.append(ctx.finding(user.resource, path, message, status=Status.WARN))

    configmap, mappings = aws_auth_mappings(ctx.inventory)
    for mapping in mappings:
        evaluated += 1
        if mapping.key == "mapUsers" and configmap is not None:
            message = f"aws-auth maps the IAM user {mapping.arn}, whose access keys are long-lived"
            findings.append(
                ctx.finding(configmap, ("data", "mapUsers"), message, status=Status.WARN)
            )

    if not evaluated:
        return control_plane_unobservable(ctx, "authentication flags") or not_observable(
            "no authentication evidence in the input"
        )
    return from_findings(
        findings,
        evaluated=max(evaluated, len(findings)),
        affected=len(findings),
        unit="credential sources",
        clean="no static credentials found ({ratio})",
        nothing="no credential sources in the input",
    )


# IAM-09


def _idp_evidence(ctx: ScanContext) -> tuple[list[str], tuple[str, ...]]:
    """Where an identity provider is configured, and the name prefixes it applies."""
    found: list[str] = []
    prefixes: list[str] = []
    for config in apiservers(ctx):
        if config.flags.get("oidc-issuer-url"):
            found.append(f"--oidc-issuer-url on {config.resource.ref}")
            for flag in ("oidc-username-prefix", "oidc-groups-prefix"):
                if config.flags.get(flag):
                    prefixes.append(config.flags[flag])
    for doc in authentication_configs(ctx.inventory):
        for jwt in jwt_authenticators(doc):
            if jwt.issuer:
                found.append(f"jwt[{jwt.index}] issuer in {doc.ref}")
            if jwt.username_prefix:
                prefixes.append(jwt.username_prefix)
    found_platform = platform(ctx)
    if found_platform.managed:
        found.append(f"{found_platform.provider_name} cloud identity")
    return found, tuple(prefixes)


def identity_federation(ctx: ScanContext) -> CheckResult:
    idp, prefixes = _idp_evidence(ctx)
    users = kubeconfig_users(ctx.inventory)
    idp += [f"exec plugin of kubeconfig user {u.name}" for u in users if u.federated]
    _, mappings = aws_auth_mappings(ctx.inventory)
    mapped = {m.username for m in mappings if m.username} | {g for m in mappings for g in m.groups}
    facts = {"identity_providers": sorted(idp)}
    # Without any identity provider, static credentials are the only way in.
    static_status = Status.WARN if idp else Status.FAIL

    findings: list[Finding] = []
    humans = [g for g in judged_grants(ctx) if subject_class(ctx, g) is SubjectClass.HUMAN]
    for grant in humans:
        name = grant.subject.name
        if looks_federated(name, prefixes) or name in mapped:
            continue
        message = f"{grant.subject} does not look like an identity-provider identity"
        findings.append(grant_finding(ctx, grant, message, status=Status.WARN))
    for user in users:
        if user.static:
            message = f"kubeconfig user {user.name} uses a {user.credential}, not an IdP login"
            path = ("users", user.index, "user")
            findings.append(ctx.finding(user.resource, path, message, status=static_status))

    servers = [] if platform(ctx).managed else apiservers(ctx)
    documents = authentication_configs(ctx.inventory)
    unread = [c for c in servers if c.has("authentication-config") and not documents]
    if not idp and unread:
        return not_observable(
            f"{unread[0].resource.ref} reads an AuthenticationConfiguration that is not in the "
            "input, where identity providers are declared",
            hint="add the AuthenticationConfiguration document to the input",
            facts=facts,
        )
    if not idp:
        if not servers and not users:
            return not_observable(
                "no identity-provider or API server evidence in the input",
                hint="include the kube-apiserver pod, kubeadm-config or an "
                "AuthenticationConfiguration document",
                facts=facts,
            )
        for config in servers:
            message = f"{config.resource.ref} has no identity provider (no OIDC or JWT issuer)"
            findings.append(ctx.finding(config.resource, config.path(""), message))
    elif platform(ctx).managed and not humans and not users:
        return not_observable(
            f"{platform(ctx).provider_name} authenticates through its cloud identity; no human "
            "bindings or kubeconfig files in the input to judge",
            hint=platform(ctx).hint,
            facts=facts,
        )
    return from_findings(
        findings,
        evaluated=len(humans) + len(users) + len(servers),
        affected=len(findings),
        unit="identities and authenticators",
        clean="people authenticate through an identity provider ({ratio})",
        nothing="no identities in the input",
        facts=facts,
    )


# IAM-10


def mfa(ctx: ScanContext) -> CheckResult:
    found = platform(ctx)
    if found.managed:
        return not_observable(
            f"{found.provider_name} authenticates people in its cloud identity service, where "
            "MFA is enforced",
            hint="verify the identity provider's MFA / conditional-access policy for cluster "
            "access",
        )
    jwts = [
        (doc, j) for doc in authentication_configs(ctx.inventory) for j in jwt_authenticators(doc)
    ]
    required = [
        (c, required_claim_mfa(c.flags)) for c in apiservers(ctx) if c.flags.get("oidc-issuer-url")
    ]
    if not jwts and not required:
        if not apiservers(ctx):
            return not_observable(
                "no API server or AuthenticationConfiguration in the input",
                hint="include the kube-apiserver pod and its AuthenticationConfiguration",
            )
        config = apiservers(ctx)[0]
        if config.has("authentication-config"):
            return not_observable(
                f"{config.resource.ref} reads an AuthenticationConfiguration that is not in "
                "the input",
                hint="add the AuthenticationConfiguration document to the input",
            )
        return CheckResult(
            Status.FAIL,
            "the API server has no identity provider, so it cannot require MFA",
            findings=(
                ctx.finding(config.resource, config.path(""), "no OIDC or JWT authenticator"),
            ),
        )

    findings: list[Finding] = []
    strong = True
    for doc, jwt in jwts:
        strong = strong and jwt.phishing_resistant
        if not jwt.requires_mfa:
            message = f"jwt[{jwt.index}] ({jwt.issuer}) accepts tokens without an amr/acr check"
            findings.append(ctx.finding(doc, ("jwt", jwt.index), message, status=Status.WARN))
    for config, claims in required:
        strong = False  # a required claim is an exact string: not proof of a strong method
        if not claims:
            message = f"--oidc-issuer-url on {config.resource.ref} requires no MFA claim"
            findings.append(
                ctx.finding(
                    config.resource, config.path("oidc-issuer-url"), message, status=Status.WARN
                )
            )
    if findings:
        return from_findings(
            findings,
            evaluated=len(jwts) + len(required),
            unit="authenticators",
            clean="",
            nothing="no authenticators",
        )
    stage_scores = {Stage.INITIAL: 1.0, Stage.ADVANCED: 1.0 if strong else 0.5}
    kind = "phishing-resistant MFA" if strong else "MFA"
    return passed(
        f"every identity-provider authenticator requires {kind} ({len(jwts) + len(required)})",
        stage_scores=stage_scores,
    )


AUTHN_CHECKS = [
    Implementation("IAM-06", anonymous_auth),
    Implementation("IAM-07", authorization_mode),
    Implementation("IAM-08", static_credentials),
    Implementation("IAM-09", identity_federation),
    Implementation("IAM-10", mfa),
    Implementation("IAM-12", short_lived_tokens),
]
