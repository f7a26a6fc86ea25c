"""Reading and validating check definition files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from zt_audit.engine.model import Capability, CheckSpec, Pillar, Severity, Stage
from zt_audit.errors import CheckDefinitionError


@cache
def definition_schema() -> dict[str, Any]:
    text = resources.files("zt_audit.schemas").joinpath("check-definition.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def builtin_data_dir(name: str) -> Path:
    """A folder shipped with zt-audit (``checks`` or ``templates``).

    An installed wheel carries it inside the package; a source checkout keeps it at the
    top of the repository, where auditors read it.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "_data" / name
    if installed.is_dir():
        return installed
    top = {"checks": "checks", "templates": "reports/templates"}[name]
    return package.parent / top


def load_definitions(folder: Path) -> list[CheckSpec]:
    """Every ``*.yaml`` definition below ``folder``, validated, in path order."""
    if not folder.is_dir():
        raise CheckDefinitionError(f"{folder}: not a directory of check definitions")
    paths = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [load_definition(path) for path in paths]


def load_definition(path: Path) -> CheckSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CheckDefinitionError(f"{path}: cannot read: {error.strerror}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise CheckDefinitionError(f"{where}: not valid YAML") from error
    validator = jsonschema.Draft202012Validator(definition_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        field = ".".join(str(p) for p in error.absolute_path) or "definition"
        raise CheckDefinitionError(f"{path}: {field}: {error.message}")
    match = data.get("match")
    if match is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(match["schema"])
        except jsonschema.SchemaError as error:
            raise CheckDefinitionError(
                f"{path}: match.schema is not a valid JSON Schema: {error.message}"
            ) from error
    return _spec(data, path)


def _spec(data: dict[str, Any], path: Path) -> CheckSpec:
    upper = data.get("upper_stage")
    return CheckSpec(
        id=data["id"],
        title=data["title"],
        pillar=Pillar(data["pillar"]),
        severity=Severity(data["severity"]),
        stage=Stage(data["stage"]),
        upper_stage=Stage(upper) if upper else None,
        logic=data["logic"],
        description=data["description"].strip(),
        rationale=data["rationale"].strip(),
        remediation=data["remediation"].strip(),
        secondary_pillars=tuple(Pillar(p) for p in data.get("secondary_pillars", ())),
        cross_cutting=tuple(Capability(c) for c in data.get("cross_cutting", ())),
        references=tuple(data.get("references", ())),
        mappings={k: tuple(v) for k, v in data.get("mappings", {}).items()},
        sources=tuple(data.get("sources", ())),
        thresholds=dict(data.get("thresholds", {})),
        match=data.get("match"),
        definition=path,
    )
