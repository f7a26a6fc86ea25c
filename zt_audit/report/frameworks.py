"""Compliance framework views: which controls a report's evidence supports.

The catalogues are data (``zt_audit/data/frameworks``). A view lays the checks of one
report against one catalogue and gives each control a state: ``evidenced`` when every
mapped check that applies passed, ``gap`` when one failed or warned, ``not_observable``
when the evidence could not be read, ``not_applicable`` when no mapped check applied, and
``not_covered`` when no check maps to it. A view supports an audit; it never says that a
control is met.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from zt_audit.errors import UsageError

STATES = ("evidenced", "gap", "not_observable", "not_applicable", "not_covered")
STATE_LABEL = {
    "evidenced": "evidenced",
    "gap": "gap",
    "not_observable": "not observable",
    "not_applicable": "not applicable",
    "not_covered": "not covered",
}
DISCLAIMER = (
    "Each row lists the checks whose results support the control. Supporting evidence is "
    "not an assessment: no row says that a control is met. Not covered: no check supports it."
)

_RANGE = re.compile(r"^(?P<stem>(?:\d+\.)*)(?P<low>\d+)\s*[–-]\s*(?P=stem)(?P<high>\d+)$")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    group: str | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    key: str
    mapping_key: str
    title: str
    edition: str
    scope: str
    basis: str  # "mappings" or "crosswalk"
    controls: tuple[Control, ...]
    url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.edition})"


def _data_files() -> list[Any]:
    folder = resources.files("zt_audit").joinpath("data", "frameworks")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


@cache
def crosswalk_domains() -> dict[str, dict[str, Any]]:
    """Domain key -> {title, check_prefixes}."""
    folder = resources.files("zt_audit").joinpath("data", "frameworks")
    data = yaml.safe_load(folder.joinpath("crosswalk-domains.yaml").read_text(encoding="utf-8"))
    return data["domains"]


@cache
def catalogue() -> dict[str, Framework]:
    """Every shipped framework, by key, in key order."""
    frameworks = {}
    for item in _data_files():
        if item.name == "crosswalk-domains.yaml":
            continue
        data = yaml.safe_load(item.read_text(encoding="utf-8"))
        controls = tuple(
            Control(
                id=str(entry["id"]),
                title=entry["title"],
                group=entry.get("group"),
                domains=tuple(entry.get("domains", ())),
            )
            for entry in data["controls"]
        )
        framework = Framework(
            key=data["key"],
            mapping_key=data["mapping_key"],
            title=data["title"],
            edition=str(data["edition"]),
            scope=" ".join(str(data["scope"]).split()),
            basis=data["basis"],
            controls=controls,
            url=data.get("url"),
        )
        frameworks[framework.key] = framework
    return dict(sorted(frameworks.items()))


def get_framework(name: str) -> Framework:
    """A framework by key (``nist-800-53``) or by its mapping key (``nist_800_53``)."""
    wanted = name.strip().lower().replace("_", "-")
    for framework in catalogue().values():
        if wanted in (framework.key, framework.mapping_key.replace("_", "-")):
            return framework
    known = ", ".join(catalogue())
    raise UsageError(
        f"unknown framework {name!r}: choose one of {known} (see 'zt-audit frameworks')"
    )


def resolve_frameworks(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validated framework keys in the order given, duplicates dropped; ``all`` means all."""
    keys: list[str] = []
    for name in names:
        if name.strip().lower() == "all":
            keys.extend(catalogue())
        else:
            keys.append(get_framework(name).key)
    return tuple(dict.fromkeys(keys))


def expand_reference(value: str, known: list[str]) -> list[str]:
    """The control IDs a mapping value names: itself, a range or a ``.x`` family.

    ``1.2.6–1.2.8`` names 1.2.6, 1.2.7 and 1.2.8; ``3.1.x`` names every 3.1 item. A value
    that names nothing in the catalogue gives an empty list.
    """
    value = value.strip()
    if value in known:
        return [value]
    if value.endswith(".x"):
        stem = value[:-1]
        return [control for control in known if control.startswith(stem)]
    match = _RANGE.match(value)
    if match:
        stem, low, high = match["stem"], int(match["low"]), int(match["high"])
        names = {f"{stem}{number}" for number in range(low, high + 1)}
        return [control for control in known if control in names]
    return []


def framework_view(report: dict[str, Any], framework: Framework) -> dict[str, Any]:
    """The per-control view of one framework over one report document."""
    known = [control.id for control in framework.controls]
    supporting: dict[str, dict[str, dict[str, Any]]] = {control: {} for control in known}
    unknown: list[dict[str, str]] = []
    for check in report["checks"]:
        values = check["mappings"].get(framework.mapping_key, [])
        for value in values if isinstance(values, list) else []:
            names = expand_reference(str(value), known)
            if not names:
                unknown.append({"check": check["id"], "reference": str(value)})
            for name in names:
                supporting[name][check["id"]] = check
    if framework.basis == "crosswalk":
        _add_crosswalk(report, framework, supporting)

    controls = []
    for control in framework.controls:
        checks = [supporting[control.id][key] for key in sorted(supporting[control.id])]
        controls.append(
            {
                "id": control.id,
                "title": control.title,
                "group": control.group,
                "state": control_state(checks),
                "checks": [{"id": c["id"], "status": c["status"]} for c in checks],
            }
        )
    summary = {state: sum(1 for c in controls if c["state"] == state) for state in STATES}
    return {
        "key": framework.key,
        "title": framework.title,
        "edition": framework.edition,
        "scope": framework.scope,
        "basis": framework.basis,
        "url": framework.url,
        "summary": summary,
        "controls": controls,
        "unknown_references": sorted(unknown, key=lambda u: (u["check"], u["reference"])),
    }


def _add_crosswalk(
    report: dict[str, Any], framework: Framework, supporting: dict[str, dict[str, Any]]
) -> None:
    """Tie every check of a control's domains to the control."""
    domains = crosswalk_domains()
    for control in framework.controls:
        prefixes = tuple(
            prefix for domain in control.domains for prefix in domains[domain]["check_prefixes"]
        )
        for check in report["checks"]:
            if prefixes and check["id"].startswith(prefixes):
                supporting[control.id][check["id"]] = check


def control_state(checks: list[dict[str, Any]]) -> str:
    """The state of a control from the statuses of the checks that support it."""
    statuses = {check["status"] for check in checks}
    if not statuses:
        return "not_covered"
    if statuses & {"fail", "warn"}:
        return "gap"
    # Unread evidence never reads as support, even beside passing checks.
    if statuses & {"not_observable", "error"}:
        return "not_observable"
    if "pass" in statuses:
        return "evidenced"
    return "not_applicable"


def framework_views(report: dict[str, Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [framework_view(report, get_framework(key)) for key in keys]


def with_frameworks(report: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The report with the views of ``keys`` under ``frameworks`` (unchanged when empty)."""
    if not keys:
        return report
    return {**report, "frameworks": framework_views(report, keys)}
