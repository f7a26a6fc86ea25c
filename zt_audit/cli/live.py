"""The command line's side of live clusters: options, and progress on a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zt_audit.cli.environment import Environment
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.errors import UsageError
from zt_audit.inventory import Inventory
from zt_audit.sources.collect import Collection, CollectOptions, collect


@dataclass(frozen=True)
class LiveOptions:
    """kubectl's connection flags, as given."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = field(default_factory=tuple)
    all_namespaces: bool = False
    request_timeout: float = 60.0
    workers: int = 4

    @property
    def connection_given(self) -> bool:
        """Whether any kubectl connection flag was given (they mean nothing for files)."""
        return bool(self.kubeconfig or self.context or self.namespaces or self.all_namespaces)

    def __post_init__(self) -> None:
        if self.all_namespaces and self.namespaces:
            raise UsageError("-n/--namespace and -A/--all-namespaces cannot be used together")
        if self.request_timeout <= 0:
            raise UsageError("--request-timeout must be a positive number of seconds")


class _TerminalProgress:
    """A progress bar on stderr, drawn only while the lists run."""

    def __init__(self, env: Environment) -> None:
        self._bar = Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=env.err,
            transient=True,
        )
        self._task = None

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("", total=total)

    def advance(self, label: str) -> None:
        if self._task is not None:
            self._bar.update(self._task, advance=1, description=label)

    def stop(self) -> None:
        self._bar.stop()


def collect_cluster(options: LiveOptions, env: Environment) -> Collection:
    """Connect with the kubeconfig (or the pod's identity) and collect the cluster."""
    from zt_audit.sources.cluster import ConnectOptions, connect

    transport = connect(
        ConnectOptions(
            kubeconfig=options.kubeconfig,
            context=options.context,
            connect_timeout=min(10.0, options.request_timeout),
            read_timeout=options.request_timeout,
            workers=options.workers,
        )
    )
    is_tty = hasattr(env.stderr, "isatty") and env.stderr.isatty()
    progress = _TerminalProgress(env) if is_tty else None
    try:
        return collect(
            transport,
            CollectOptions(namespaces=options.namespaces, workers=options.workers),
            progress,
        )
    finally:
        if progress is not None:
            progress.stop()
        transport.close()


def scan_cluster(options: LiveOptions, env: Environment) -> tuple[Inventory, EvidenceSources]:
    from zt_audit.sources.snapshot import live_inventory

    collection = collect_cluster(options, env)
    warn_not_collected(collection, env)
    return live_inventory(collection)


def warn_not_collected(collection: Collection, env: Environment) -> None:
    """Say on stderr what the report will call not observable, and why."""
    for key, reason in collection.not_collected.items():
        env.stderr.write(f"zt-audit: warning: {key} not collected: {reason}\n")
    for key, count in collection.dropped.items():
        env.stderr.write(
            f"zt-audit: warning: {count} {key} item(s) dropped: unnamed, not objects, or "
            "nested too deeply\n"
        )
    for namespace in collection.missing_namespaces:
        env.stderr.write(f"zt-audit: warning: namespace {namespace} does not exist\n")
    if not collection.namespaces and "Pod" in collection.not_collected:
        env.stderr.write(
            "zt-audit: hint: these credentials cannot list pods cluster-wide; if they are "
            "bound in some namespaces only, scan those with -n NAMESPACE\n"
        )


def read_snapshot(paths: list[str], inventory: Inventory) -> EvidenceSources | None:
    """The evidence record of a snapshot given as input, or None for plain manifests."""
    from zt_audit.sources.snapshot import read_header

    headers = [(path, read_header(Path(path))) for path in paths if path != "-"]
    snapshots = [(path, header) for path, header in headers if header is not None]
    if not snapshots:
        return None
    if len(paths) > 1:
        raise UsageError(
            f"{snapshots[0][0]}: a snapshot is scanned on its own, not with other input"
        )
    path, header = snapshots[0]
    scope = f"namespaces {', '.join(header.namespaces)}" if header.namespaces else "all namespaces"
    inventory.description = (
        f"snapshot {path}: {header.source}, Kubernetes {header.cluster_version}, "
        f"{scope}, taken {header.collected_at}"
    )
    return header.evidence("snapshot")
