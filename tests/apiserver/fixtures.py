"""pytest fixtures: a running stand-in over the fixture cluster, and a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apiserver.kubeconfig import write_kubeconfig
from apiserver.server import ApiServer
from apiserver.store import CLUSTER, Store


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(Store.from_paths(CLUSTER), tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(apiserver: ApiServer, tmp_path: Path) -> Path:
    return write_kubeconfig(apiserver, tmp_path / "kubeconfig")
