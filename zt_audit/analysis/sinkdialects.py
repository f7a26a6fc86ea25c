"""Sink parsers for Fluentd and OpenTelemetry Collector configurations.

Fluentd: each ``<match>`` (and each ``<store>`` of a ``copy`` output) names its output
plugin with ``@type``; ``@type`` lines inside ``<buffer>``, ``<format>`` and similar
sections configure the plugin and are not outputs. TLS is on with ``transport tls``,
``scheme https``, ``tls``/``use_ssl``/``ssl`` set true, or for outputs that only speak
HTTPS (the cloud providers' plugins).

OpenTelemetry Collector: ``exporters`` used by a ``logs`` pipeline (all exporters when no
pipeline is declared). gRPC ``otlp`` uses TLS unless ``tls.insecure: true``; others use
TLS when their endpoint is ``https://`` or they only speak HTTPS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

FLUENTD_LOCAL = frozenset({"stdout", "null", "file", "relabel", "rewrite_tag_filter", "copy"})
FLUENTD_ALWAYS_TLS = (
    "cloudwatch_logs", "s3", "kinesis_", "google_cloud", "azure", "datadog", "splunk_hec",
)  # fmt: skip
FLUENTD_TLS = re.compile(
    r"^\s*(transport\s+tls|scheme\s+https|(tls|use_ssl|ssl|ssl_verify)\s+true)\b|https://",
    re.IGNORECASE | re.MULTILINE,
)
OTEL_LOCAL = frozenset({"debug", "logging", "file", "nop"})
OTEL_ALWAYS_TLS = ("awscloudwatchlogs", "googlecloud", "azuremonitor", "datadog", "awss3")


def fluentd_sinks(text: str) -> Iterator[tuple[str, bool, bool]]:
    """(plugin type, remote, tls) for each output of a Fluentd configuration."""
    stack: list[str] = []
    outputs: list[tuple[str, list[str]]] = []  # type, lines of its block
    for line in text.splitlines():
        stripped = line.strip()
        opening = re.match(r"^<([a-z_]+)[^/]*>$", stripped)
        if opening:
            stack.append(opening.group(1))
            if opening.group(1) in ("match", "store"):
                outputs.append(("", []))
            continue
        if re.match(r"^</[a-z_]+>$", stripped):
            if stack:
                stack.pop()
            continue
        if outputs and "match" in stack:
            outputs[-1][1].append(line)
            kind = re.match(r"^@type\s+(\S+)", stripped)
            if kind and stack[-1] in ("match", "store") and not outputs[-1][0]:
                outputs[-1] = (kind.group(1), outputs[-1][1])
    for kind, lines in outputs:
        if not kind or kind == "copy":
            continue
        block = "\n".join(lines)
        tls = kind.startswith(FLUENTD_ALWAYS_TLS) or bool(FLUENTD_TLS.search(block))
        yield kind, kind not in FLUENTD_LOCAL, tls


def otel_sinks(document: Any) -> Iterator[tuple[str, bool, bool]]:
    """(exporter type, remote, tls) for the exporters an OTel logs pipeline uses."""
    if not isinstance(document, dict) or not isinstance(document.get("exporters"), dict):
        return
    exporters: dict[str, Any] = document["exporters"]
    used = _logs_exporters(document.get("service"))
    for name, settings in exporters.items():
        if used is not None and name not in used:
            continue
        kind = str(name).split("/", 1)[0]
        settings = settings if isinstance(settings, dict) else {}
        yield kind, kind not in OTEL_LOCAL, _otel_tls(kind, settings)


def _logs_exporters(service: Any) -> set[str] | None:
    pipelines = service.get("pipelines") if isinstance(service, dict) else None
    if not isinstance(pipelines, dict):
        return None
    used: set[str] = set()
    for name, pipeline in pipelines.items():
        exporters = pipeline.get("exporters") if isinstance(pipeline, dict) else None
        if str(name).split("/", 1)[0] == "logs" and isinstance(exporters, list):
            used.update(str(e) for e in exporters)
    return used


def _otel_tls(kind: str, settings: dict[str, Any]) -> bool:
    tls = settings.get("tls")
    if isinstance(tls, dict) and tls.get("insecure") is True:
        return False
    endpoint = str(settings.get("endpoint") or settings.get("endpoints") or "")
    if endpoint.startswith("http://"):
        return False
    return kind == "otlp" or "https://" in endpoint or kind.startswith(OTEL_ALWAYS_TLS)
