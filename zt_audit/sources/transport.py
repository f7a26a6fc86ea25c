"""The one operation collection needs from a cluster: an authenticated GET."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


class TransportError(Exception):
    """The request got no HTTP answer: refused, timed out, TLS failure."""


class Transport(Protocol):
    description: str  # what was connected to, for reports (never a credential)
    server: str

    def get(self, path: str, query: list[tuple[str, str]], accept: str) -> Reply: ...

    def close(self) -> None: ...
