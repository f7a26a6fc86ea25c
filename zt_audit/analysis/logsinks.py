"""Where a node log shipper sends logs, read from the configuration it mounts.

Fluent Bit (classic ``[OUTPUT]`` sections or YAML ``pipeline.outputs``), Vector
(``sinks`` in YAML or TOML), Fluentd and the OpenTelemetry Collector (see
``sinkdialects``) are read; other shippers' sinks are reported as
unverifiable. A sink is remote unless it writes to the node itself (stdout, a file, a
null device), and uses TLS when it says so or when its protocol always does (the cloud
providers' SDK outputs, ``https://`` endpoints).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from zt_audit.analysis.signatures import Match
from zt_audit.analysis.sinkdialects import fluentd_sinks, otel_sinks
from zt_audit.inventory import Inventory, Resource

DIALECTS = ("fluent-bit", "vector", "fluentd", "otel")
FLUENT_BIT_LOCAL = frozenset({"stdout", "null", "file", "counter", "flowcounter", "exit"})
FLUENT_BIT_ALWAYS_TLS = frozenset(
    {
        "cloudwatch_logs",
        "s3",
        "kinesis_firehose",
        "kinesis_streams",
        "stackdriver",
        "azure_blob",
        "azure_logs_ingestion",
        "bigquery",
    }
)
VECTOR_LOCAL = frozenset({"console", "blackhole", "file"})
VECTOR_ALWAYS_TLS_PREFIXES = ("aws_", "gcp_", "azure_", "datadog_")


@dataclass(frozen=True)
class Sink:
    name: str
    remote: bool
    tls: bool


@dataclass(frozen=True)
class SinkReport:
    readable: bool  # a configuration in a known dialect was found
    sinks: tuple[Sink, ...]
    source: Resource | None = None

    @property
    def remote_tls(self) -> bool:
        return any(s.remote and s.tls for s in self.sinks)

    @property
    def remote(self) -> bool:
        return any(s.remote for s in self.sinks)


def sinks_of(inventory: Inventory, match: Match) -> SinkReport:
    dialect = match.signature.get("config")
    if dialect not in DIALECTS:
        return SinkReport(False, ())
    for configmap in _mounted_configmaps(inventory, match):
        data = configmap.obj.get("data")
        texts = [v for v in data.values() if isinstance(v, str)] if isinstance(data, dict) else []
        found = [s for text in texts for s in _parse(dialect, text)]
        if found:
            return SinkReport(True, tuple(sorted(set(found), key=lambda s: s.name)), configmap)
    return SinkReport(False, ())


def _mounted_configmaps(inventory: Inventory, match: Match) -> Iterator[Resource]:
    namespace = match.workload.namespace
    for volume, _ in match.workload.volumes():
        names = []
        configmap = volume.get("configMap")
        if isinstance(configmap, dict):
            names.append(configmap.get("name"))
        projected = volume.get("projected")
        sources = projected.get("sources") if isinstance(projected, dict) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, dict) and isinstance(source.get("configMap"), dict):
                names.append(source["configMap"].get("name"))
        for name in names:
            if isinstance(name, str) and (found := inventory.get("ConfigMap", namespace, name)):
                yield found


def _parse(dialect: str, text: str) -> list[Sink]:
    if dialect == "fluent-bit":
        return list(_fluent_bit_classic(text)) or list(_fluent_bit_yaml(text))
    if dialect == "fluentd":
        return [Sink(*found) for found in fluentd_sinks(text)]
    if dialect == "otel":
        return [Sink(*found) for found in otel_sinks(_load_yaml(text))]
    return list(_vector(text))


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("on", "true", "yes", "1")


def _fluent_bit_sink(name: str, settings: dict[str, str]) -> Sink:
    kind = name.lower()
    tls = _truthy(settings.get("tls", "off")) or kind in FLUENT_BIT_ALWAYS_TLS
    return Sink(kind, kind not in FLUENT_BIT_LOCAL, tls)


def _fluent_bit_classic(text: str) -> Iterator[Sink]:
    section, settings = None, {}
    for raw in [*text.splitlines(), "[END]"]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if section == "OUTPUT" and "name" in settings:
                yield _fluent_bit_sink(settings["name"], settings)
            section, settings = line.strip("[]").strip().upper(), {}
            continue
        key, _, value = line.partition(" ")
        settings[key.lower()] = value.strip()


def _fluent_bit_yaml(text: str) -> Iterator[Sink]:
    document = _load_yaml(text)
    pipeline = document.get("pipeline") if isinstance(document, dict) else None
    outputs = pipeline.get("outputs") if isinstance(pipeline, dict) else None
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict) and isinstance(output.get("name"), str):
            settings = {str(k).lower(): str(v) for k, v in output.items()}
            yield _fluent_bit_sink(output["name"], settings)


def _vector(text: str) -> Iterator[Sink]:
    document = _load_yaml(text)
    if not isinstance(document, dict):
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
    sinks = document.get("sinks")
    for sink in sinks.values() if isinstance(sinks, dict) else []:
        if not isinstance(sink, dict) or not isinstance(sink.get("type"), str):
            continue
        kind = sink["type"]
        tls = sink.get("tls")
        endpoint = str(sink.get("endpoint") or sink.get("uri") or sink.get("endpoints") or "")
        secure = (
            (isinstance(tls, dict) and tls.get("enabled") is True)
            or "https://" in endpoint
            or kind.startswith(VECTOR_ALWAYS_TLS_PREFIXES)
        )
        yield Sink(kind, kind not in VECTOR_LOCAL, secure)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None
