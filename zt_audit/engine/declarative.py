"""Checks written as data: a JSON Schema that every targeted object must satisfy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema

from zt_audit.engine.context import ScanContext, by_threshold, from_findings
from zt_audit.engine.model import CheckResult, CheckSpec, Finding, Ratio, Status
from zt_audit.inventory import FieldPath, Resource


def declarative_evaluator(spec: CheckSpec):
    """Build the evaluate function of a ``logic: declarative`` check."""
    assert spec.match is not None
    match = spec.match
    validator = jsonschema.Draft202012Validator(match["schema"])
    violation = Status(match.get("violation", "fail"))
    target = match["target"]

    def evaluate(ctx: ScanContext) -> CheckResult:
        findings: list[Finding] = []
        evaluated = 0
        for resource, path, instance, names in _targets(ctx, target, match.get("kinds", ())):
            evaluated += 1
            errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
            if not errors:
                continue
            error = errors[0]
            detail_path: FieldPath = (*path, *error.absolute_path)
            reveal = resource.kind != "Secret" and not SENSITIVE.intersection(map(str, detail_path))
            message = f"{_format(match['message'], names)}: {_explain(error, reveal)}"
            findings.append(ctx.finding(resource, detail_path, message, status=violation))
        unit = {"Container": "containers", "PodSpec": "pods", "Object": "objects"}[target]
        if "pass" in spec.thresholds and evaluated:
            ratio = Ratio(evaluated - len(findings), evaluated, unit)
            return by_threshold(
                ratio,
                pass_at=spec.thresholds["pass"],
                warn_at=spec.thresholds.get("warn", 0.0),
                findings=findings,
                what="comply",
            )
        return from_findings(
            findings,
            evaluated=evaluated,
            affected=len(findings),
            unit=unit,
            clean="every target complies ({ratio})",
            nothing=f"no {unit} to evaluate",
        )

    return evaluate


def _targets(
    ctx: ScanContext, target: str, kinds: tuple[str, ...]
) -> Iterator[tuple[Resource, FieldPath, Any, dict[str, str]]]:
    if target == "Object":
        for resource in ctx.inventory.of_kind(*kinds):
            if ctx.in_scope(resource.namespace):
                yield resource, (), resource.obj, _names(resource)
        return
    for workload in ctx.workloads:
        names = _names(workload.resource)
        if target == "PodSpec":
            yield workload.resource, workload.spec_path, workload.pod_spec, names
            continue
        for container in workload.containers():
            yield (
                workload.resource,
                container.path,
                container.spec,
                {
                    **names,
                    "container": container.name,
                },
            )


def _names(resource: Resource) -> dict[str, str]:
    return {
        "kind": resource.kind,
        "name": resource.name,
        "namespace": resource.namespace or "",
    }


# Fields whose text may be a credential: a finding names their type, never their value.
SENSITIVE = frozenset({"env", "value", "data", "stringData", "binaryData", "args", "command"})


def _explain(error: jsonschema.ValidationError, reveal: bool) -> str:
    """The first violation in the words of the manifest, not of JSON Schema.

    Strings are quoted only where ``reveal`` allows and when short; JSON Schema's own
    messages, which quote any value, are used only for keywords that name no value.
    """
    where = ".".join(str(part) for part in error.absolute_path)
    instance, expected = error.instance, error.validator_value
    if error.validator == "required" and isinstance(instance, dict):
        missing = next((key for key in expected if key not in instance), "?")
        return f"{where + '.' if where else ''}{missing} is not set"
    shown = _json(instance) if reveal or not isinstance(instance, str) else "a string"
    if error.validator == "const":
        return f"{where or 'the value'} is {shown}, not {_json(expected)}"
    if error.validator == "enum":
        return f"{where or 'the value'} is {shown}, not one of {', '.join(map(_json, expected))}"
    if error.validator == "not":
        return f"{where or 'the value'} is {shown}"
    if error.validator == "type":
        return f"{where or 'the value'} is {shown}, not of type {expected}"
    return f"{where or 'the value'} does not satisfy '{error.validator}'"


def _json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value) if len(value) <= 63 else "a long string"
    if isinstance(value, int | float):
        return str(value)
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "?"


def _format(template: str, names: dict[str, str]) -> str:
    try:
        return template.format(**names)
    except (KeyError, IndexError, ValueError):
        return template
