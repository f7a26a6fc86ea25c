"""Data: Secrets encryption at rest (DATA-01), exposed credentials (DATA-02), external
secret stores (DATA-03)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.encryption import LOCAL_KEY_PROVIDERS, encryption_configs, secrets_provider
from zt_audit.analysis.platform import apiserver_configs, detect_platform
from zt_audit.analysis.secrets import detect
from zt_audit.analysis.secretstores import managed_secrets, secret_uses
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    from_findings,
    not_applicable,
    not_observable,
)
from zt_audit.engine.model import CheckResult, Finding, Ratio, Severity, Stage, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Container, Resource, Workload

FLAG = "encryption-provider-config"
MANAGED_HINTS = {
    "eks": "check envelope encryption with 'aws eks describe-cluster --name CLUSTER "
    "--query cluster.encryptionConfig'",
    "gke": "check application-layer secrets encryption with 'gcloud container clusters "
    "describe CLUSTER --format=value(databaseEncryption)'",
    "aks": "check KMS etcd encryption with 'az aks show -g GROUP -n CLUSTER "
    "--query securityProfile.azureKeyVaultKms'",
}
APISERVER_HINT = (
    "include the kube-apiserver static pod (kubectl -n kube-system get pod "
    "-l component=kube-apiserver -o yaml) or the kubeadm-config ConfigMap"
)


# DATA-01


def secrets_at_rest(ctx: ScanContext) -> CheckResult:
    platform = detect_platform(ctx.inventory)
    if platform.managed:
        return not_observable(
            f"{platform.provider_name} manages the API server ({platform.evidence}); "
            "disk encryption is not envelope encryption of Secrets",
            hint=MANAGED_HINTS.get(platform.provider or "", platform.hint),
        )
    configs = apiserver_configs(ctx.inventory)
    if not configs:
        return not_observable("no kube-apiserver configuration in the input", hint=APISERVER_HINT)
    # Every API server of an HA control plane writes Secrets: each needs the flag.
    missing = [c for c in configs if not c.has(FLAG)]
    if missing:
        findings = tuple(
            ctx.finding(
                c.resource,
                c.path(""),
                f"kube-apiserver ({c.source}) has no --{FLAG}: Secrets are stored in etcd "
                "as plain text",
            )
            for c in missing
        )
        return CheckResult(Status.FAIL, "Secrets are not encrypted at rest", findings=findings)
    config = configs[0]

    documents = encryption_configs(ctx.inventory)
    if not documents:
        finding = ctx.finding(
            config.resource,
            config.path(FLAG),
            f"--{FLAG} is set, but the EncryptionConfiguration it names is not in the input, "
            "so the provider that encrypts Secrets is unknown",
            status=Status.WARN,
        )
        return CheckResult(
            Status.WARN,
            "encryption at rest is configured; its provider cannot be verified",
            findings=(finding,),
            hint="add the EncryptionConfiguration file to the input (its Secret keys "
            "stay unread: only the provider names are used)",
        )
    return _judge_provider(ctx, documents[0])


def _judge_provider(ctx: ScanContext, document: Resource) -> CheckResult:
    found = secrets_provider(document)
    provider = found.provider
    if provider is None or provider == "identity":
        what = "no resources entry covers secrets" if provider is None else "identity comes first"
        finding = ctx.finding(document, found.path, f"Secrets are stored unencrypted: {what}")
        return CheckResult(
            Status.FAIL, f"Secrets are not encrypted at rest ({what})", findings=(finding,)
        )
    if provider == "kms" and found.kms_version == "v2":
        return CheckResult(
            Status.PASS,
            "Secrets are envelope-encrypted with KMS v2",
            facts={"provider": "kms", "kms_version": "v2"},
        )
    if provider == "kms":
        message = "Secrets use the deprecated KMS v1 plugin API; move to KMS v2"
    elif provider in LOCAL_KEY_PROVIDERS:
        message = f"Secrets are encrypted with {provider}, whose key sits on the control-plane disk"
    else:
        message = f"Secrets are encrypted with the {provider} provider"
    finding = ctx.finding(document, found.path, message, status=Status.WARN)
    return CheckResult(
        Status.WARN,
        message,
        findings=(finding,),
        facts={"provider": provider, "kms_version": found.kms_version},
        # Encrypted with some key evidences Initial; only KMS v2 evidences Advanced.
        stage_scores={Stage.INITIAL: 1.0, Stage.ADVANCED: 0.5},
    )


# DATA-02


def _arg_findings(ctx: ScanContext, workload: Workload, container: Container) -> Iterator[Finding]:
    """Credentials on the command line (``--password=...``), readable in every process list."""
    for field in ("command", "args"):
        items = container.spec.get(field)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, str):
                continue
            name, equals, value = item.lstrip("-").partition("=")
            key = name if equals and item.startswith("-") else field
            for detection in detect(key, value if equals else item):
                yield ctx.finding(
                    workload.resource,
                    (*container.path, field, index),
                    f"container {container.name} of {workload.kind} {workload.key}: argument "
                    f"{detection.describe()}",
                )


def _env_findings(ctx: ScanContext, workload: Workload, container: Container) -> Iterator[Finding]:
    env = container.spec.get("env")
    from_secret = []
    for index, entry in enumerate(env if isinstance(env, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        for detection in detect(entry["name"], entry.get("value")):
            yield ctx.finding(
                workload.resource,
                (*container.path, "env", index, "value"),
                f"container {container.name} of {workload.kind} {workload.key}: env "
                f"{detection.describe()}",
            )
        source = entry.get("valueFrom")
        if isinstance(source, dict) and isinstance(source.get("secretKeyRef"), dict):
            from_secret.append(entry["name"])
    sources = container.spec.get("envFrom")
    if isinstance(sources, list) and any(
        isinstance(s, dict) and isinstance(s.get("secretRef"), dict) for s in sources
    ):
        from_secret.append("envFrom secretRef")
    if from_secret:
        field = "envFrom" if from_secret == ["envFrom secretRef"] else "env"
        yield ctx.finding(
            workload.resource,
            (*container.path, field),
            f"container {container.name} of {workload.kind} {workload.key} receives Secrets "
            f"as environment variables ({', '.join(sorted(from_secret))}); mount them as "
            "files instead",
            status=Status.WARN,
            severity=Severity.LOW,
        )


def _data_findings(ctx: ScanContext, resource: Resource, field: str) -> Iterator[Finding]:
    data = resource.obj.get(field)
    for key in sorted(data, key=str) if isinstance(data, dict) else []:
        for detection in detect(str(key), data[key]):
            yield ctx.finding(
                resource,
                (field, str(key)),
                f"ConfigMap {resource.namespace}/{resource.name}: key {detection.describe()}",
            )


def _bundled_secret(ctx: ScanContext, secret: Resource) -> Finding | None:
    keys = set()
    for field in ("data", "stringData"):
        values = secret.obj.get(field)
        if isinstance(values, dict):
            keys.update(str(k) for k, v in values.items() if v)
    if not keys:
        return None
    field = "stringData" if isinstance(secret.obj.get("stringData"), dict) else "data"
    names = sorted(keys)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return ctx.finding(
        secret,
        (field,),
        f"Secret {secret.namespace}/{secret.name} carries {len(keys)} value(s) in the "
        f"manifests (keys: {shown}); keep values out of Git",
    )


def _exposed_reports(ctx: ScanContext) -> Iterator[Finding]:
    for report in ctx.inventory.of_kind("ExposedSecretReport", group="aquasecurity.github.io"):
        if not ctx.in_scope(report.namespace):
            continue
        body = report.obj.get("report")
        entries = body.get("secrets") if isinstance(body, dict) else None
        rules = (
            sorted(
                {str(e.get("ruleID")) for e in entries if isinstance(e, dict) and e.get("ruleID")}
            )
            if isinstance(entries, list)
            else []
        )
        if rules:
            yield ctx.finding(
                report,
                ("report", "secrets"),
                f"Trivy found {len(entries)} secret(s) baked into the image "
                f"(rules: {', '.join(rules)})",
            )


def exposed_credentials(ctx: ScanContext) -> CheckResult:
    findings: list[Finding] = []
    for workload in ctx.workloads:
        for container in workload.containers():
            findings.extend(_env_findings(ctx, workload, container))
            findings.extend(_arg_findings(ctx, workload, container))
    configmaps = [
        c for c in ctx.inventory.of_kind("ConfigMap", group="") if ctx.in_scope(c.namespace)
    ]
    for configmap in configmaps:
        findings.extend(_data_findings(ctx, configmap, "data"))
    secrets: list[Resource] = []
    if ctx.evidence.mode == "manifests":
        secrets = [
            s for s in ctx.inventory.of_kind("Secret", group="") if ctx.in_scope(s.namespace)
        ]
        findings.extend(f for s in secrets if (f := _bundled_secret(ctx, s)) is not None)
    findings.extend(_exposed_reports(ctx))
    evaluated = len(ctx.workloads) + len(configmaps) + len(secrets)
    return from_findings(
        findings,
        evaluated=evaluated,
        unit="workloads, ConfigMaps and Secrets",
        clean="no literal credential in {ratio}",
        nothing="no workloads, ConfigMaps or Secrets in scope",
    )


# DATA-03


def external_secret_store(ctx: ScanContext) -> CheckResult:
    uses = [u for w in ctx.workloads if (u := secret_uses(w)) is not None]
    if not uses:
        return not_applicable("no in-scope workload consumes secrets")
    managed = managed_secrets(ctx.inventory)
    refreshing, sealed, findings = 0, 0, []
    for use in uses:
        states = [managed.get((use.workload.namespace, name)) for name in use.secrets]
        if use.mechanisms or (states and all(s == "refreshing" for s in states)):
            refreshing += 1
            continue
        if states and all(s in ("refreshing", "sealed") for s in states):
            sealed += 1
        plain = [
            f"{name} (SealedSecret: encrypted in Git, never rotated)" if state == "sealed" else name
            for name, state in zip(use.secrets, states, strict=True)
            if state != "refreshing"
        ]
        findings.append(
            ctx.finding(
                use.workload.resource,
                use.workload.path(),
                f"{use.workload.kind} {use.workload.key} reads Secrets that no refreshing "
                f"external store manages: {', '.join(plain)}",
                status=Status.WARN,
            )
        )
    ratio = Ratio(refreshing, len(uses), "secret consumers")
    facts: dict[str, Any] = {"sealed_only": sealed}
    result = by_threshold(
        ratio,
        pass_at=0.5,
        warn_at=0.0,
        findings=findings,
        what="on a refreshing external secret store",
        facts=facts,
    )
    return result


CHECKS = [
    Implementation("DATA-01", secrets_at_rest),
    Implementation("DATA-02", exposed_credentials),
    Implementation("DATA-03", external_secret_store),
]
