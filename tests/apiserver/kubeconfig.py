"""Kubeconfig files pointing at the stand-in, as ``kubectl config`` would write them."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from apiserver.server import ApiServer


def write_kubeconfig(
    server: ApiServer, path: Path, *, token: str | None = None, context: str = "fixture"
) -> Path:
    ca = base64.b64encode(server.ca_pem.encode()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "fixture",
                "cluster": {"server": server.url, "certificate-authority-data": ca},
            },
            {"name": "elsewhere", "cluster": {"server": "https://127.0.0.1:1"}},
        ],
        "users": [
            {"name": "auditor", "user": {"token": token or server.token}},
        ],
        "contexts": [
            {"name": context, "context": {"cluster": "fixture", "user": "auditor"}},
            {"name": "unreachable", "context": {"cluster": "elsewhere", "user": "auditor"}},
        ],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
