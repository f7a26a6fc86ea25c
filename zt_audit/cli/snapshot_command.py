"""``zt-audit snapshot``: collect a cluster into a file that ``scan`` re-scores offline."""

from __future__ import annotations

import os
from pathlib import Path

from zt_audit.cli.environment import Environment
from zt_audit.cli.live import LiveOptions, collect_cluster, warn_not_collected
from zt_audit.errors import UsageError
from zt_audit.exitcodes import ExitStatus
from zt_audit.sources.snapshot import render


def run_snapshot_command(options: LiveOptions, output: Path, env: Environment) -> int:
    collection = collect_cluster(options, env)
    warn_not_collected(collection, env)
    text = render(collection)
    if str(output) == "-":
        env.stdout.write(text)
        return ExitStatus.OK
    _write_private(output, text)
    env.stderr.write(
        f"zt-audit: wrote {len(collection.objects)} objects from {collection.source} "
        f"(Kubernetes {collection.server_version}) to {output}\n"
    )
    return ExitStatus.OK


def _write_private(path: Path, text: str) -> None:
    """Owner-only: a snapshot maps the cluster, even without any Secret's data."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as error:
        raise UsageError(f"{path}: cannot write snapshot: {error.strerror}") from error
