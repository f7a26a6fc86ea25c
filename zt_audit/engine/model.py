"""What a check is and what it returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zt_audit.inventory import Location, ObjectRef

if TYPE_CHECKING:
    from zt_audit.engine.context import ScanContext


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_OBSERVABLE = "not_observable"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"

    @property
    def observable(self) -> bool:
        """Whether the status rests on evidence that was seen."""
        return self in (Status.PASS, Status.FAIL, Status.WARN)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def weight(self) -> int:
        """Scoring weight (catalogue Part 4.1)."""
        return _WEIGHTS[self]

    @property
    def rank(self) -> int:
        return _RANKS[self]


_WEIGHTS = {Severity.CRITICAL: 10, Severity.HIGH: 5, Severity.MEDIUM: 3, Severity.LOW: 1}
_RANKS = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.MEDIUM: 1, Severity.LOW: 0}


class Pillar(StrEnum):
    """CISA Zero Trust Maturity Model v2 pillars."""

    IDENTITY = "identity"
    DEVICES = "devices"
    NETWORKS = "networks"
    APPLICATIONS = "applications"
    DATA = "data"

    @property
    def title(self) -> str:
        return _PILLAR_TITLES[self]


_PILLAR_TITLES = {
    Pillar.IDENTITY: "Identity",
    Pillar.DEVICES: "Devices",
    Pillar.NETWORKS: "Networks",
    Pillar.APPLICATIONS: "Applications & Workloads",
    Pillar.DATA: "Data",
}


class Capability(StrEnum):
    """CISA ZTMM cross-cutting capabilities."""

    VISIBILITY = "visibility"
    AUTOMATION = "automation"
    GOVERNANCE = "governance"

    @property
    def title(self) -> str:
        return {
            Capability.VISIBILITY: "Visibility & Analytics",
            Capability.AUTOMATION: "Automation & Orchestration",
            Capability.GOVERNANCE: "Governance",
        }[self]


class Stage(StrEnum):
    """ZTMM maturity stages, lowest first."""

    TRADITIONAL = "traditional"
    INITIAL = "initial"
    ADVANCED = "advanced"
    OPTIMAL = "optimal"

    @property
    def title(self) -> str:
        return self.value.capitalize()

    @property
    def order(self) -> int:
        return list(Stage).index(self)

    @classmethod
    def parse(cls, value: str) -> Stage:
        letters = {"T": cls.TRADITIONAL, "I": cls.INITIAL, "A": cls.ADVANCED, "O": cls.OPTIMAL}
        return letters.get(value) or cls(value.lower())


FRAMEWORK_KEYS = (
    "nist_800_207",
    "cisa_ztmm",
    "nist_800_53",
    "cis_kubernetes",
    "nsa_cisa",
    "dod_zt",
)


@dataclass(frozen=True)
class CheckSpec:
    """Everything an auditor reads about a check, declared in ``checks/<domain>/<ID>.yaml``."""

    id: str
    title: str
    pillar: Pillar
    severity: Severity
    stage: Stage
    description: str
    rationale: str
    remediation: str
    logic: str = "python"  # or "declarative"
    secondary_pillars: tuple[Pillar, ...] = ()
    cross_cutting: tuple[Capability, ...] = ()
    upper_stage: Stage | None = None  # dual-tagged checks such as "H/I(A)"
    references: tuple[str, ...] = ()
    mappings: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    sources: tuple[str, ...] = ()
    thresholds: Mapping[str, float] = dataclasses.field(default_factory=dict)
    match: Mapping[str, Any] | None = None
    definition: Path | None = None

    @property
    def stages(self) -> tuple[Stage, ...]:
        return (self.stage, self.upper_stage) if self.upper_stage else (self.stage,)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence behind a non-passing result."""

    message: str
    status: Status = Status.FAIL
    object: ObjectRef | None = None
    field: str | None = None
    location: Location | None = None
    remediation: str | None = None
    severity: Severity | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def sort_key(self) -> tuple[Any, ...]:
        obj = self.object
        return (
            obj.namespace or "" if obj else "",
            obj.kind if obj else "",
            obj.name if obj else "",
            self.field or "",
            self.message,
        )


@dataclass(frozen=True, slots=True)
class Ratio:
    """A coverage figure: ``passed`` of ``total`` units (pods, namespaces, ...)."""

    passed: int
    total: int
    unit: str = "objects"

    @property
    def value(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.passed} of {self.total} {self.unit}"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check over one inventory."""

    status: Status
    reason: str
    findings: tuple[Finding, ...] = ()
    ratio: Ratio | None = None
    score: float | None = None  # overrides the status's default score (coverage checks)
    severity: Severity | None = None  # overrides the check's severity (escalation)
    stage_scores: Mapping[Stage, float] | None = None  # per-stage scores of dual-tagged checks
    hint: str | None = None  # how to make a not-observable result observable
    facts: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def effective_score(self) -> float | None:
        if not self.status.observable:
            return None
        if self.score is not None:
            return self.score
        return {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}[self.status]


Evaluator = Callable[["ScanContext"], CheckResult]


@dataclass(frozen=True)
class Check:
    """A check: its declared spec and the logic that produces its result."""

    spec: CheckSpec
    evaluate: Evaluator
    origin: str  # where it came from: an entry point name or a definitions folder

    @property
    def id(self) -> str:
        return self.spec.id
