"""Container image references, parsed and normalised as the container runtimes read them."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """``registry/repository[:tag][@digest]`` with Docker Hub defaults filled in."""

    original: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """``registry/repository``: what a registry allow-list matches."""
        return f"{self.registry}/{self.repository}"

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def effective_tag(self) -> str | None:
        """The tag the runtime pulls: ``latest`` when neither tag nor digest is given."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag


def parse_image(reference: str) -> ImageRef:
    text = reference.strip()
    digest = None
    if "@" in text:
        text, _, digest = text.partition("@")
        if not _DIGEST.match(digest):
            digest = digest or None
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, remainder = first.lower(), rest
    else:
        registry, remainder = DEFAULT_REGISTRY, text
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DEFAULT_REGISTRY
    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :] or None
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = f"library/{remainder}"
    return ImageRef(reference, registry, remainder, tag, digest)


def registry_allowed(image: ImageRef, allowed: tuple[str, ...]) -> bool:
    """Whether ``image`` falls under one of the allow-list prefixes.

    An entry is a registry (``ghcr.io``) or a registry and repository prefix
    (``ghcr.io/acme``); it matches whole path components only. An entry without a
    registry host means Docker Hub, as it does in an image reference.
    """
    name = image.name.lower()
    for entry in allowed:
        prefix = _normalise_prefix(entry)
        if prefix and (name == prefix or name.startswith(prefix + "/")):
            return True
    return False


def _normalise_prefix(entry: str) -> str:
    prefix = entry.strip().rstrip("/").lower()
    if not prefix:
        return ""
    first, _, rest = prefix.partition("/")
    if first in ("index.docker.io", "registry-1.docker.io"):
        return f"{DEFAULT_REGISTRY}/{rest}".rstrip("/")
    if "." in first or ":" in first or first == "localhost":
        return prefix
    return f"{DEFAULT_REGISTRY}/{prefix}"
