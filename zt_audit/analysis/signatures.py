"""Agent signatures: the data file that says which images and names are which product.

The built-in file ships inside the package (``zt_audit/data/signatures.yaml``); users add
their own with the ``signature_files`` setting. Entries are matched image first, then by
workload name, as the file's header explains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from zt_audit.analysis.images import parse_image
from zt_audit.errors import UsageError
from zt_audit.inventory import Container, Workload

SECTIONS = ("runtime", "log_shippers", "scanners", "responders", "admission")


@dataclass(frozen=True)
class Signature:
    """One recognisable product."""

    id: str
    product: str
    images: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # response, config, role, scope

    def get(self, name: str, default: str = "") -> str:
        return self.attributes.get(name, default)

    def matches_image(self, container: Container) -> bool:
        if not container.image or not any(_image_matches(container.image, p) for p in self.images):
            return False
        return _env_matches(container, self.env)

    def matches_name(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self.names)


@dataclass(frozen=True)
class Match:
    """A workload recognised as a product, and what it was recognised by."""

    signature: Signature
    workload: Workload
    by: str  # "image <ref>" or "name"
    container: Container | None = None


class Signatures:
    """Every section of every signature file, later files overriding earlier ids."""

    def __init__(self, sections: dict[str, list[Signature]]) -> None:
        self.sections = sections

    def of(self, section: str) -> list[Signature]:
        return self.sections.get(section, [])

    def match(self, section: str, workload: Workload) -> Match | None:
        """The product a workload runs, image first, then name (env filters apply)."""
        containers = list(workload.containers())
        for signature in self.of(section):
            for container in containers:
                if signature.matches_image(container):
                    return Match(signature, workload, f"image {container.image}", container)
        for signature in self.of(section):
            if signature.env:
                continue  # an env-qualified signature needs its image and env to agree
            if signature.matches_name(workload.name):
                return Match(signature, workload, "name")
        return None

    def find(self, section: str, workloads: Iterable[Workload]) -> list[Match]:
        found = [m for w in workloads if (m := self.match(section, w)) is not None]
        return sorted(found, key=lambda m: (m.workload.namespace, m.workload.name))


def load_signatures(extra_files: Iterable[str] = ()) -> Signatures:
    builtin = resources.files("zt_audit").joinpath("data", "signatures.yaml")
    sections = _parse(builtin.read_text(encoding="utf-8"), "built-in signatures")
    for name in extra_files:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{path}: cannot read signature file: {error.strerror}") from error
        for section, entries in _parse(text, str(path)).items():
            ids = {entry.id for entry in entries}
            kept = [entry for entry in sections.get(section, []) if entry.id not in ids]
            sections[section] = kept + entries
    return Signatures(sections)


def _parse(text: str, where: str) -> dict[str, list[Signature]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{where}: invalid YAML in signature file") from error
    if not isinstance(data, dict):
        raise UsageError(f"{where}: a signature file must be a mapping of sections")
    sections: dict[str, list[Signature]] = {}
    for section, entries in data.items():
        if section == "version":
            continue
        if section not in SECTIONS:
            raise UsageError(f"{where}: unknown section {section!r} (known: {', '.join(SECTIONS)})")
        if not isinstance(entries, list):
            raise UsageError(f"{where}: section {section} must be a list")
        sections[section] = [_entry(e, f"{where}: {section}[{i}]") for i, e in enumerate(entries)]
    return sections


def _entry(entry: Any, where: str) -> Signature:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise UsageError(f"{where}: each signature needs a string id")
    lists = {key: _strings(entry.get(key), f"{where}.{key}") for key in ("images", "names")}
    env = entry.get("env") or {}
    if not isinstance(env, dict):
        raise UsageError(f"{where}.env: must map variable names to values")
    attributes = {
        key: str(value)
        for key, value in entry.items()
        if key not in ("id", "product", "images", "names", "env") and value is not None
    }
    return Signature(
        id=entry["id"],
        product=str(entry.get("product") or entry["id"]),
        images=lists["images"],
        names=lists["names"],
        env={str(k): str(v) for k, v in env.items()},
        attributes=attributes,
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: must be a list of strings")
    return tuple(value)


def _image_matches(image: str, pattern: str) -> bool:
    """Whether the end of the image's repository path matches ``pattern``.

    Whole components only, registry ignored: ``falcosecurity/falco`` matches
    ``mirror.example/sec/falcosecurity/falco`` but not ``falcosecurity/falco-exporter``.
    """
    parts = parse_image(image).repository.lower().split("/")
    wanted = pattern.lower().strip("/").count("/") + 1
    if len(parts) < wanted:
        return False
    return fnmatchcase("/".join(parts[-wanted:]), pattern.lower())


def _env_matches(container: Container, wanted: dict[str, str]) -> bool:
    if not wanted:
        return True
    env = container.spec.get("env")
    values: dict[str, str] = {}
    if isinstance(env, list):
        for entry in env:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                values[entry["name"]] = str(entry.get("value", "")).lower()
    return all(values.get(name) == value.lower() for name, value in wanted.items())
