"""Scan settings: what is in scope and what the organisation trusts."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from zt_audit.analysis.signatures import load_signatures
from zt_audit.engine.waivers import Waiver, parse_waivers
from zt_audit.errors import UsageError

DEFAULT_EXCLUDED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class ScanConfig:
    """Settings read from ``--config FILE`` and overridden by command-line options."""

    allowed_registries: tuple[str, ...] = ()
    mutable_tags: tuple[str, ...] = ("latest",)
    excluded_namespaces: tuple[str, ...] = DEFAULT_EXCLUDED_NAMESPACES
    bundle_is_complete: bool = False
    break_glass_subjects: tuple[str, ...] = ()
    mesh_root_namespace: str = "istio-system"
    pillar_weights: dict[str, float] = field(default_factory=dict)
    # Extra agent signature files, read on top of the built-in ones.
    signature_files: tuple[str, ...] = ()
    # The "now" that freshness is judged against (ISO 8601); by default, the newest
    # timestamp in the input, so that the same input always gives the same report.
    reference_time: str | None = None
    # Accepted risks: they change what fails a CI gate, never a status or the score.
    waivers: tuple[Waiver, ...] = ()

    @classmethod
    def from_file(cls, path: Path) -> ScanConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise UsageError(f"{path}: cannot read config: {error.strerror}") from error
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise UsageError(f"{where}: invalid YAML in config") from error
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise UsageError(f"{path}: config must be a mapping")
        return cls.from_mapping(data, str(path))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str = "config") -> ScanConfig:
        known = {f.name.replace("_", "-"): f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            spec = known.get(str(key).replace("_", "-"))
            if spec is None:
                choices = ", ".join(sorted(known))
                raise UsageError(f"{where}: unknown setting {key!r} (known: {choices})")
            values[spec.name] = _coerce(spec.name, value, where)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> ScanConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, value: Any, where: str) -> Any:
    if name in ("bundle_is_complete",):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {name} must be true or false")
        return value
    if name == "signature_files":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: signature_files must be a list of file names")
        load_signatures(value)  # a broken signature file stops the scan before it starts
        return tuple(value)
    if name == "reference_time":
        if not isinstance(value, str) or not _is_timestamp(value):
            raise UsageError(f"{where}: reference_time must be an ISO 8601 timestamp")
        return value
    if name == "waivers":
        return parse_waivers(value, where)
    if name == "mesh_root_namespace":
        if not isinstance(value, str):
            raise UsageError(f"{where}: {name} must be a string")
        return value
    if name == "pillar_weights":
        if not isinstance(value, dict) or not all(
            isinstance(v, int | float) and v >= 0 for v in value.values()
        ):
            raise UsageError(f"{where}: pillar_weights must map pillars to non-negative numbers")
        return {str(k): float(v) for k, v in value.items()}
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: {name} must be a list of strings")
    return tuple(value)


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
