"""Log shipper sink dialects: where Fluentd and the OpenTelemetry Collector send logs."""

from __future__ import annotations

import yaml

from zt_audit.analysis.sinkdialects import fluentd_sinks, otel_sinks

FLUENTD = """
<source>
  @type tail
  path /var/log/containers/*.log
  <parse>
    @type json
  </parse>
</source>
<match kube.**>
  @type copy
  <store>
    @type elasticsearch
    host es.logging.example.com
    port 9200
    scheme https
    ssl_verify true
    <buffer>
      @type file
      path /var/log/fluentd-buffers/kubernetes.system.buffer
    </buffer>
  </store>
  <store>
    @type stdout
  </store>
</match>
<match audit.**>
  @type forward
  <server>
    host aggregator.logging.svc
    port 24224
  </server>
</match>
"""


def test_fluentd_outputs_ignore_buffer_and_parser_types() -> None:
    # Fluentd docs: @type inside <buffer>/<parse> configures the plugin; <store> of a copy
    # output is an output of its own.
    assert list(fluentd_sinks(FLUENTD)) == [
        ("elasticsearch", True, True),
        ("stdout", False, False),
        ("forward", True, False),
    ]


OTEL = """
receivers:
  filelog:
    include: [/var/log/pods/*/*/*.log]
exporters:
  debug: {}
  otlp:
    endpoint: otel-gateway.observability.svc:4317
  otlp/insecure:
    endpoint: collector.example.com:4317
    tls: {insecure: true}
  otlphttp/loki:
    endpoint: http://loki.example.com:3100/otlp
service:
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [debug, otlp, otlp/insecure, otlphttp/loki]
    traces:
      receivers: [otlp]
      exporters: [otlp]
"""


def test_otel_exporters_of_the_logs_pipeline() -> None:
    # OTel exporter docs: gRPC otlp is TLS unless tls.insecure; http:// endpoints are not.
    assert list(otel_sinks(yaml.safe_load(OTEL))) == [
        ("debug", False, False),
        ("otlp", True, True),
        ("otlp", True, False),
        ("otlphttp", True, False),
    ]


def test_otel_exporters_outside_a_logs_pipeline_do_not_count() -> None:
    document = yaml.safe_load(OTEL)
    document["service"]["pipelines"]["logs"]["exporters"] = ["debug"]
    assert [kind for kind, _, _ in otel_sinks(document)] == ["debug"]


def test_malformed_configurations_yield_nothing() -> None:
    assert list(fluentd_sinks("</match>\n@type x\n<match>")) == []
    assert list(otel_sinks({"exporters": "x"})) == []
    assert list(otel_sinks("x")) == []
