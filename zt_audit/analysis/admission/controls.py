"""Image admission controls: one model for every policy engine's image rules.

Each engine module turns its objects into ``ImageControl`` entries; the checks then ask,
per namespace and per image, whether an enforcing control covers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from zt_audit.analysis.images import DEFAULT_REGISTRY, parse_image
from zt_audit.analysis.selectors import selector_matches
from zt_audit.inventory import FieldPath, Resource

# Whether a control applies in a namespace, given its labels (None: Namespace not in input).
# It answers True, False, or None when the labels it needs are unknown.
NamespaceTest = Callable[[str, "dict[str, str] | None"], "bool | None"]


def everywhere(namespace: str, labels: dict[str, str] | None) -> bool | None:
    return True


@dataclass(frozen=True, eq=False)
class ImageControl:
    """One admission rule about images."""

    resource: Resource
    path: FieldPath
    engine: str
    verifies: bool  # signature verification; False for registry, tag or digest rules
    enforced: bool  # denies at admission (Enforce, deny, Deny), rather than audit or warn
    mode: str  # the engine's own word for the mode, for messages
    applies: NamespaceTest = everywhere
    image_globs: tuple[str, ...] = ()  # empty: every image
    skip_globs: tuple[str, ...] = ()  # images the rule leaves alone (skipImageReferences)
    glob_style: str = "kyverno"  # kyverno (``*`` crosses ``/``) or sigstore (``**`` does)
    attestations: tuple[str, ...] = ()  # predicate types verified (SBOM, provenance)
    fail_open: bool | None = None  # the webhook's failurePolicy is Ignore (None: unknown)
    notes: tuple[str, ...] = field(default=())
    # objectSelectors of the engine's webhooks: a pod none of them selects is never sent.
    object_selectors: tuple[Any, ...] = ()

    @property
    def strong(self) -> bool:
        """Enforced signature verification whose webhook is not known to fail open."""
        return self.verifies and self.enforced and self.fail_open is not True

    def describe(self) -> str:
        return f"{self.engine} {self.resource.ref}"

    def sees_pod(self, labels: dict[str, str]) -> bool:
        if not self.object_selectors:
            return True
        return any(selector_matches(s, labels) for s in self.object_selectors)

    def covers_image(self, image: str) -> bool:
        candidates = _candidates(image)
        if any(fnmatchcase(c, g) for g in self.skip_globs for c in candidates):
            return False
        if not self.image_globs:
            return True
        if self.glob_style == "sigstore":
            patterns = [_sigstore_regex(g) for g in self.image_globs]
            return any(p.fullmatch(c) for p in patterns for c in candidates)
        return any(fnmatchcase(c, g) for g in self.image_globs for c in candidates)


def _candidates(image: str) -> list[str]:
    """The spellings of one image that policies are written against."""
    ref = parse_image(image)
    names = [ref.name]
    if ref.registry == DEFAULT_REGISTRY:
        names.append(f"index.docker.io/{ref.repository}")
        short = ref.repository.removeprefix("library/")
        names.extend([ref.repository, short])
    found = [image]
    for name in names:
        found.append(name)
        if ref.tag:
            found.append(f"{name}:{ref.tag}")
        if ref.digest:
            found.append(f"{name}@{ref.digest}")
            if ref.tag:
                found.append(f"{name}:{ref.tag}@{ref.digest}")
    return list(dict.fromkeys(found))


def _sigstore_regex(glob: str) -> re.Pattern[str]:
    """policy-controller globs: ``**`` spans path components, ``*`` stays within one."""
    parts = []
    index = 0
    while index < len(glob):
        if glob.startswith("**", index):
            parts.append(".*")
            index += 2
        elif glob[index] == "*":
            parts.append("[^/]*")
            index += 1
        else:
            parts.append(re.escape(glob[index]))
            index += 1
    return re.compile("".join(parts))
