"""kubectl's connection flags, shared by ``scan`` and ``snapshot``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zt_audit.cli.live import LiveOptions

PANEL = "Live cluster (with no PATH)"

Kubeconfig = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        metavar="FILE",
        help="Kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then the pod's "
        "service account).",
        rich_help_panel=PANEL,
    ),
]
Context = Annotated[
    str | None,
    typer.Option(
        "--context",
        metavar="NAME",
        help="Kubeconfig context (default: current).",
        rich_help_panel=PANEL,
    ),
]
Namespaces = Annotated[
    list[str] | None,
    typer.Option(
        "--namespace",
        "-n",
        metavar="NS",
        help="Collect only this namespace (repeatable); cluster-scoped kinds are still read.",
        rich_help_panel=PANEL,
    ),
]
AllNamespaces = Annotated[
    bool,
    typer.Option(
        "--all-namespaces",
        "-A",
        help="Collect every namespace (the default).",
        rich_help_panel=PANEL,
    ),
]
RequestTimeout = Annotated[
    float,
    typer.Option(
        metavar="SECONDS",
        help="Give up on an API request after this long.",
        rich_help_panel=PANEL,
    ),
]


def live_options(
    kubeconfig: Path | None,
    context: str | None,
    namespaces: list[str] | None,
    all_namespaces: bool,
    request_timeout: float,
) -> LiveOptions:
    return LiveOptions(
        kubeconfig=kubeconfig,
        context=context,
        namespaces=tuple(dict.fromkeys(namespaces or ())),
        all_namespaces=all_namespaces,
        request_timeout=request_timeout,
    )
