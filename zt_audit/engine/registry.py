"""The check registry: discovery, validation, selection.

Built-in checks arrive exactly as a third party's do. Python logic comes through the
``zt_audit.checks`` entry-point group; definitions (the YAML an auditor reads) come from
the built-in ``checks/`` folder, from folders that entry points name, and from
``--checks-dir``. Discovery runs in stages: find, load (naming what failed), validate,
bind logic to definitions, sort.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from zt_audit.engine.declarative import declarative_evaluator
from zt_audit.engine.definitions import builtin_data_dir, load_definition, load_definitions
from zt_audit.engine.model import Check, CheckSpec, Evaluator
from zt_audit.errors import CheckDefinitionError, UsageError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "zt_audit.checks"


@dataclass(frozen=True)
class Implementation:
    """The Python logic of one check.

    ``definition`` names the check's YAML file; when it is None, the definition is looked
    up by ID among the definition folders (built-in checks work this way).
    """

    check_id: str
    evaluate: Evaluator
    definition: Path | None = None


@dataclass(frozen=True)
class CheckDirectory:
    """A folder of definitions that a plugin package ships."""

    path: Path


Provided = Implementation | CheckDirectory


class Registry:
    """An ordered, validated set of checks. Tests build a fresh one each time."""

    def __init__(self, checks: Iterable[Check]) -> None:
        ordered = sorted(checks, key=lambda c: check_sort_key(c.id))
        self._checks = {check.id: check for check in ordered}

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise UsageError(f"unknown check ID {check_id!r}") from None

    def select(self, select: Sequence[str] = (), skip: Sequence[str] = ()) -> Registry:
        """Narrow to ``select`` (all when empty), then drop ``skip``; unknown IDs are errors."""
        unknown = sorted({i for i in (*select, *skip) if i not in self._checks})
        if unknown:
            raise UsageError(f"unknown check ID(s): {', '.join(unknown)} (see 'zt-audit checks')")
        chosen = [c for c in self if not select or c.id in select]
        return Registry(c for c in chosen if c.id not in skip)


def check_sort_key(check_id: str) -> tuple[str, int]:
    prefix, _, number = check_id.rpartition("-")
    return (prefix, int(number) if number.isdigit() else 0)


def discover(
    checks_dirs: Sequence[Path] = (),
    *,
    include_builtin: bool = True,
    load_entry_points: Callable[[], Iterable[EntryPoint]] | None = None,
) -> Registry:
    """Find, load, validate and bind every check."""
    folders: list[tuple[Path, str]] = []
    if include_builtin:
        folders.append((builtin_data_dir("checks"), "built-in"))
    implementations: list[tuple[Implementation, str]] = []
    for name, provided in _load_entry_points(load_entry_points or _entry_points):
        if isinstance(provided, CheckDirectory):
            folders.append((provided.path, f"entry point {name}"))
        else:
            implementations.append((provided, f"entry point {name}"))
    folders.extend((Path(folder), str(folder)) for folder in checks_dirs)

    specs: dict[str, CheckSpec] = {}
    for folder, _origin in folders:
        for spec in load_definitions(folder):
            _add_spec(specs, spec)
    for implementation, _origin in implementations:
        if implementation.definition is not None:
            spec = load_definition(implementation.definition)
            if spec.id != implementation.check_id:
                raise CheckDefinitionError(
                    f"{implementation.definition}: defines {spec.id}, "
                    f"but its implementation is registered as {implementation.check_id}"
                )
            _add_spec(specs, spec)
    return Registry(_bind(specs, implementations))


def _add_spec(specs: dict[str, CheckSpec], spec: CheckSpec) -> None:
    other = specs.get(spec.id)
    if other is not None:
        raise CheckDefinitionError(
            f"{spec.definition}: duplicate check ID {spec.id} (also defined in {other.definition})"
        )
    specs[spec.id] = spec


def _bind(
    specs: dict[str, CheckSpec], implementations: list[tuple[Implementation, str]]
) -> list[Check]:
    bound: dict[str, Check] = {}
    for implementation, origin in implementations:
        spec = specs.get(implementation.check_id)
        if spec is None:
            raise CheckDefinitionError(
                f"{origin}: implements {implementation.check_id}, which has no definition"
            )
        if spec.logic != "python":
            raise CheckDefinitionError(
                f"{spec.definition}: {spec.id} is declarative but {origin} implements it in Python"
            )
        if spec.id in bound:
            raise CheckDefinitionError(
                f"{origin}: {spec.id} is already implemented by {bound[spec.id].origin}"
            )
        bound[spec.id] = Check(spec, implementation.evaluate, origin)
    for spec in specs.values():
        if spec.logic == "declarative":
            bound[spec.id] = Check(spec, declarative_evaluator(spec), str(spec.definition))
        elif spec.id not in bound:
            raise CheckDefinitionError(
                f"{spec.definition}: {spec.id} declares python logic, but no installed "
                f"'{ENTRY_POINT_GROUP}' entry point implements it"
            )
    return list(bound.values())


def _entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


_ENTRY_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _load_entry_points(
    load: Callable[[], Iterable[EntryPoint]],
) -> Iterator[tuple[str, Provided]]:
    for entry_point in sorted(load(), key=lambda e: e.name):
        if not _ENTRY_NAME.match(entry_point.name):
            raise CheckDefinitionError(f"entry point {entry_point.name!r}: invalid name")
        package = entry_point.dist.name if entry_point.dist else "unknown package"
        try:
            loaded = entry_point.load()
            provided = loaded() if callable(loaded) else loaded
            items = list(provided)
        except Exception as error:  # a broken plugin must be named, whatever it raised
            raise CheckDefinitionError(
                f"entry point {entry_point.name} ({entry_point.value}) from {package} "
                f"failed to load: {error}"
            ) from error
        for item in items:
            if not isinstance(item, Implementation | CheckDirectory):
                raise CheckDefinitionError(
                    f"entry point {entry_point.name} from {package} provided {item!r}, "
                    "not an Implementation or CheckDirectory"
                )
            yield entry_point.name, item
