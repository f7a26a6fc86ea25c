"""Authentication evidence: structured configuration documents, EKS aws-auth, kubeconfigs.

Only names, flags and shapes are read. Tokens, keys and certificates are never copied
out: a kubeconfig user is described by what kind of credential it holds, and a
certificate by whether its subject names ``system:masters``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.embedded import load_embedded_yaml
from zt_audit.inventory import FieldPath, Inventory, Resource

AUTHN_GROUP = "apiserver.config.k8s.io"
HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})

# RFC 8176 methods and vendor values that mean a phishing-resistant factor.
PHISHING_RESISTANT = ("hwk", "phr", "phrh", "fido", "webauthn", "multi-factor-physical")
MFA_CLAIMS = ("amr", "acr")

# Exec credential plugins that obtain short-lived tokens from an identity provider.
FEDERATED_PLUGINS = (
    "kubelogin",
    "kubectl-oidc_login",
    "oidc-login",
    "aws-iam-authenticator",
    "gke-gcloud-auth-plugin",
    "pinniped",
    "teleport",
    "tsh",
)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def authentication_configs(inventory: Inventory) -> list[Resource]:
    return inventory.of_kind("AuthenticationConfiguration", group=AUTHN_GROUP)


def authorization_configs(inventory: Inventory) -> list[Resource]:
    return inventory.of_kind("AuthorizationConfiguration", group=AUTHN_GROUP)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# Anonymous access


@dataclass(frozen=True)
class AnonymousSetting:
    """Whether anonymous requests are authenticated, and for which paths."""

    enabled: bool
    paths: tuple[str, ...]  # empty with enabled: every path
    field: FieldPath

    @property
    def health_only(self) -> bool:
        return not self.enabled or (bool(self.paths) and set(self.paths) <= HEALTH_PATHS)


def anonymous_setting(config: Resource) -> AnonymousSetting | None:
    """``anonymous`` of an AuthenticationConfiguration; None leaves the flag in charge."""
    anonymous = config.obj.get("anonymous")
    if not isinstance(anonymous, dict):
        return None
    enabled = anonymous.get("enabled") is True
    paths = tuple(
        sorted(
            c["path"]
            for c in _list(anonymous.get("conditions"))
            if isinstance(c, dict) and isinstance(c.get("path"), str)
        )
    )
    return AnonymousSetting(enabled, paths, ("anonymous",))


# JWT authenticators


@dataclass(frozen=True)
class JwtAuthenticator:
    index: int
    issuer: str | None
    mfa_claims: tuple[str, ...]  # amr/acr claims the API server requires
    phishing_resistant: bool
    username_prefix: str | None

    @property
    def requires_mfa(self) -> bool:
        return bool(self.mfa_claims)


def jwt_authenticators(config: Resource) -> list[JwtAuthenticator]:
    found = []
    for index, entry in enumerate(_list(config.obj.get("jwt"))):
        if not isinstance(entry, dict):
            continue
        issuer = _dict(entry.get("issuer")).get("url")
        claims, strong = _mfa_rules(_list(entry.get("claimValidationRules")))
        username = _dict(_dict(entry.get("claimMappings")).get("username"))
        prefix = username.get("prefix")
        found.append(
            JwtAuthenticator(
                index,
                issuer if isinstance(issuer, str) else None,
                claims,
                strong,
                prefix if isinstance(prefix, str) else None,
            )
        )
    return found


def _mfa_rules(rules: list[Any]) -> tuple[tuple[str, ...], bool]:
    """The MFA claims a list of claimValidationRules requires, and if any is phishing-proof.

    A rule is either ``claim`` + ``requiredValue`` (exact match) or a CEL ``expression``
    over ``claims``; an expression counts when it reads ``claims.amr`` or ``claims.acr``.
    """
    claims: set[str] = set()
    strong = False
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        claim, value = rule.get("claim"), rule.get("requiredValue")
        expression = rule.get("expression")
        text = ""
        if claim in MFA_CLAIMS and isinstance(value, str):
            claims.add(claim)
            text = value
        elif isinstance(expression, str):
            for name in MFA_CLAIMS:
                if re.search(rf"claims\s*(\.\s*{name}\b|\[\s*['\"]{name}['\"]\s*\])", expression):
                    claims.add(name)
                    text = expression
        strong = strong or any(marker in text.lower() for marker in PHISHING_RESISTANT)
    return tuple(sorted(claims)), strong


def required_claim_mfa(flags: dict[str, str]) -> tuple[str, ...]:
    """``--oidc-required-claim=acr=...`` makes the API server demand that claim value."""
    found = set()
    for pair in flags.get("oidc-required-claim", "").split(","):
        key, _, value = pair.partition("=")
        if key.strip() in MFA_CLAIMS and value.strip():
            found.add(key.strip())
    return tuple(sorted(found))


# Authorizers


def authorizer_types(config: Resource) -> list[tuple[int, str]]:
    found = []
    for index, entry in enumerate(_list(config.obj.get("authorizers"))):
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            found.append((index, entry["type"]))
    return found


# EKS aws-auth


@dataclass(frozen=True)
class AwsMapping:
    key: str  # mapRoles or mapUsers
    arn: str
    username: str | None
    groups: tuple[str, ...]


def aws_auth_mappings(inventory: Inventory) -> tuple[Resource | None, list[AwsMapping]]:
    configmap = inventory.get("ConfigMap", "kube-system", "aws-auth")
    if configmap is None:
        return None, []
    data = _dict(configmap.obj.get("data"))
    found = []
    for key, arn_key in (("mapRoles", "rolearn"), ("mapUsers", "userarn")):
        text = data.get(key)
        entries = load_embedded_yaml(text) if isinstance(text, str) else None
        for entry in _list(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get(arn_key), str):
                continue
            username = entry.get("username")
            groups = tuple(sorted(g for g in _list(entry.get("groups")) if isinstance(g, str)))
            found.append(
                AwsMapping(
                    key, entry[arn_key], username if isinstance(username, str) else None, groups
                )
            )
    return configmap, found


# Kubeconfig files


@dataclass(frozen=True)
class KubeconfigUser:
    resource: Resource
    index: int
    name: str
    credential: str  # token, client-certificate, basic-auth, exec, auth-provider, none
    plugin: str | None = None
    masters_certificate: bool = False

    @property
    def static(self) -> bool:
        return self.credential in ("token", "client-certificate", "basic-auth")

    @property
    def federated(self) -> bool:
        if self.credential == "auth-provider":
            return True
        plugin = (self.plugin or "").lower()
        return self.credential == "exec" and any(p in plugin for p in FEDERATED_PLUGINS)


def kubeconfig_users(inventory: Inventory) -> list[KubeconfigUser]:
    found = []
    for config in inventory.of_kind("Config", group=""):
        for index, entry in enumerate(_list(config.obj.get("users"))):
            if not isinstance(entry, dict):
                continue
            user = _dict(entry.get("user"))
            name = entry.get("name") if isinstance(entry.get("name"), str) else f"users[{index}]"
            found.append(_describe_user(config, index, name, user))
    return found


def _describe_user(config: Resource, index: int, name: str, user: dict[str, Any]):
    exec_spec = _dict(user.get("exec"))
    if exec_spec:
        command = exec_spec.get("command") if isinstance(exec_spec.get("command"), str) else ""
        args = " ".join(a for a in _list(exec_spec.get("args")) if isinstance(a, str))
        # "aws eks get-token" is the AWS CLI's plugin
        plugin = f"{command} {args}".strip()
        if "eks get-token" in plugin:
            plugin = f"{plugin} (aws-iam-authenticator)"
        return KubeconfigUser(config, index, name, "exec", plugin)
    if user.get("auth-provider"):
        return KubeconfigUser(config, index, name, "auth-provider")
    if user.get("token") or user.get("tokenFile"):
        return KubeconfigUser(config, index, name, "token")
    if user.get("client-certificate-data") or user.get("client-certificate"):
        data = user.get("client-certificate-data")
        masters = isinstance(data, str) and certificate_names_masters(data)
        return KubeconfigUser(config, index, name, "client-certificate", None, masters)
    if user.get("username") or user.get("password"):
        return KubeconfigUser(config, index, name, "basic-auth")
    return KubeconfigUser(config, index, name, "none")


def certificate_names_masters(encoded: str) -> bool:
    """Whether a base64 PEM certificate or CSR has ``system:masters`` in its subject.

    The subject's organisation is stored as plain text inside the DER structure, so a
    byte search finds it without a cryptography library.
    """
    try:
        pem = base64.b64decode(encoded, validate=False).decode("ascii", "replace")
    except (binascii.Error, ValueError):
        return False
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        return False
    return b"system:masters" in der


# Human identities


def looks_federated(name: str, prefixes: tuple[str, ...] = ()) -> bool:
    """Whether a User or Group name looks like an identity provider's, not a local one.

    Emails, issuer-prefixed names, configured prefixes, Entra object IDs and cloud IAM
    ARNs come from an identity provider; bare names such as ``alice`` or ``admin`` could
    be certificate or token users.
    """
    lowered = name.lower()
    if any(prefix and name.startswith(prefix) for prefix in prefixes):
        return True
    return (
        "@" in name
        or lowered.startswith(("oidc:", "https://", "arn:aws:", "gke-", "aad:"))
        or bool(_GUID.match(name))
    )
