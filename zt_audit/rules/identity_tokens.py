"""Short-lived service-account credentials: IAM-12.

Legacy token Secrets never expire; projected tokens do, within the limits the API server
sets. Secrets are read as metadata only (type, labels, annotations), never their data.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from zt_audit.engine.context import ScanContext, from_findings, not_observable
from zt_audit.engine.model import CheckResult, Finding, Status
from zt_audit.inventory import FieldPath, Workload
from zt_audit.rules.identity_common import apiservers, control_plane_unobservable

DAY_SECONDS = 86_400

LAST_USED = "kubernetes.io/legacy-token-last-used"
INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since"
TOKEN_TYPE = "kubernetes.io/service-account-token"


def _duration_seconds(text: str) -> float | None:
    """A Go duration such as ``48h``, ``1h30m`` or ``86400s``."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(number) * scale[unit] for number, unit in parts)


def short_lived_tokens(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    today = datetime.now(UTC).date()
    secrets = [
        s
        for s in ctx.inventory.of_kind("Secret", group="")
        if s.obj.get("type") == TOKEN_TYPE and ctx.in_scope(s.namespace)
    ]
    names = {(s.namespace, s.name) for s in secrets}
    mounted: set[tuple[str | None, str]] = set()

    for workload in ctx.workloads:
        for volume, path in workload.volumes():
            secret = volume.get("secret")
            name = secret.get("secretName") if isinstance(secret, dict) else None
            if (workload.namespace, name) in names:
                mounted.add((workload.namespace, name))
                message = f"{workload.kind} {workload.key} mounts the legacy token Secret {name}"
                findings.append(ctx.finding(workload.resource, path, message))
            findings.extend(_projected(ctx, workload, volume, path))

    for secret in secrets:
        if INVALID_SINCE in secret.labels:
            continue
        used = _date(secret.labels.get(LAST_USED))
        if (secret.namespace, secret.name) in mounted:
            continue
        if used is not None and (today - used).days < 30:
            message = f"legacy token {secret.ref} was used on {used.isoformat()}"
            findings.append(ctx.finding(secret, ("metadata", "labels", LAST_USED), message))
        else:
            message = f"legacy token {secret.ref} never expires" + (
                f" (last used {used.isoformat()})" if used else ""
            )
            findings.append(ctx.finding(secret, ("type",), message, status=Status.WARN))

    flags = _token_flags(ctx)
    findings.extend(flags)
    if not findings:
        missing = ctx.unobservable("Secret")
        if missing is not None:
            return not_observable(
                missing.reason,
                hint="include Secret metadata (zt-audit snapshot keeps no values) to see "
                "legacy tokens",
            )
    return from_findings(
        findings,
        evaluated=len(secrets) + len(ctx.workloads) + len(flags),
        unit="token Secrets, workloads and API server settings",
        clean="no legacy or long-lived service-account tokens ({ratio})",
        nothing="no service-account tokens or workloads in scope",
    )


def _projected(
    ctx: ScanContext, workload: Workload, volume: dict[str, Any], path: FieldPath
) -> list[Finding]:
    projected = volume.get("projected")
    sources = projected.get("sources") if isinstance(projected, dict) else None
    found = []
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        token = source.get("serviceAccountToken") if isinstance(source, dict) else None
        seconds = token.get("expirationSeconds") if isinstance(token, dict) else None
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > DAY_SECONDS:
            message = (
                f"{workload.kind} {workload.key} projects a service-account token valid for "
                f"{seconds // 3600} h"
            )
            field = (
                *path,
                "projected",
                "sources",
                index,
                "serviceAccountToken",
                "expirationSeconds",
            )
            found.append(ctx.finding(workload.resource, field, message, status=Status.WARN))
    return found


def _token_flags(ctx: ScanContext) -> list[Finding]:
    found = []
    if control_plane_unobservable(ctx, "token flags") is not None:
        return found
    for config in apiservers(ctx):
        lookup = config.flags.get("service-account-lookup")
        if lookup is not None and lookup.lower() == "false":
            message = f"{config.resource.ref} does not check that token Secrets still exist"
            found.append(
                ctx.finding(
                    config.resource,
                    config.path("service-account-lookup"),
                    message,
                    status=Status.WARN,
                )
            )
        limit = config.flags.get("service-account-max-token-expiration")
        seconds = _duration_seconds(limit) if limit else None
        if seconds is not None and seconds > DAY_SECONDS:
            message = f"{config.resource.ref} allows service-account tokens valid for {limit}"
            found.append(
                ctx.finding(
                    config.resource,
                    config.path("service-account-max-token-expiration"),
                    message,
                    status=Status.WARN,
                )
            )
    return found


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
