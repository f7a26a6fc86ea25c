"""The ``zt-audit`` command line."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from zt_audit import __version__
from zt_audit.cli.cluster_flags import (
    AllNamespaces,
    Context,
    Kubeconfig,
    Namespaces,
    RequestTimeout,
    live_options,
)
from zt_audit.cli.environment import Environment, configure_logging
from zt_audit.engine.config import ScanConfig
from zt_audit.engine.model import Severity
from zt_audit.engine.registry import Registry, discover
from zt_audit.errors import UsageError, ZtAuditError
from zt_audit.exitcodes import ExitStatus

app = typer.Typer(
    name="zt-audit",
    help="Measure how close a Kubernetes cluster is to zero trust, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
checks_app = typer.Typer(help="List and explain the checks.", no_args_is_help=True)
app.add_typer(checks_app, name="checks")

# The environment of the running command; main() replaces it for tests.
_ENV: list[Environment] = []


def env() -> Environment:
    return _ENV[-1] if _ENV else Environment.from_process()


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class CatalogueFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


class ReportFormat(StrEnum):
    """Report formats of ``scan`` and ``report``; see ``zt_audit.report.formats``."""

    TABLE = "table"
    JSON = "json"
    HTML = "html"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"


OUTPUT_HELP = (
    "Write the -f report to FILE instead of stdout; or, as FORMAT=FILE, write one more format "
    "to its own file (repeatable, e.g. -o sarif=zt.sarif -o junit=zt.xml)."
)
FRAMEWORK_HELP = (
    "Add a per-control table for this framework (repeatable; 'all' for every one; "
    "see 'zt-audit frameworks')."
)


def _split_ids(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def load_registry(checks_dirs: Sequence[Path] = ()) -> Registry:
    return discover(checks_dirs)


# Options every command that reads input takes.
Verbose = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More logs (-vv: even more).")
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]

# The panels of `scan --help`; kubectl's connection flags have their own.
OUTPUT_PANEL = "Output"
GATE_PANEL = "CI gates"
CHECKS_PANEL = "Checks and settings"


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        env().stdout.write(f"zt-audit {__version__}\n")
        raise typer.Exit(0)


@app.command()
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Manifest files or folders (.yaml, .yml, .json), or a snapshot; '-' reads "
            "stdin. None: scan the current kubeconfig context.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="Report format: table, json, html, sarif, junit or markdown.",
            metavar="FORMAT",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = ReportFormat.TABLE,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="[FORMAT=]FILE",
            help=OUTPUT_HELP,
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework", metavar="NAME", help=FRAMEWORK_HELP, rich_help_panel=OUTPUT_PANEL
        ),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            help="Exit 1 when the overall score is below SCORE (or there is none).",
            metavar="SCORE",
            min=0,
            max=100,
            rich_help_panel=GATE_PANEL,
        ),
    ] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            help="Exit 1 when a check of at least this severity fails "
            "(critical, high, medium or low).",
            metavar="SEVERITY",
            rich_help_panel=GATE_PANEL,
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="A saved JSON report: mark findings that are new since it.",
            metavar="REPORT",
            rich_help_panel=GATE_PANEL,
        ),
    ] = None,
    fail_on_new: Annotated[
        Severity | None,
        typer.Option(
            help="With --baseline: exit 1 when a new failing finding has at least this severity.",
            metavar="SEVERITY",
            rich_help_panel=GATE_PANEL,
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only these check IDs (comma-separated).",
            metavar="IDS",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(
            help="Skip these check IDs (comma-separated).",
            metavar="IDS",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    checks_dir: Annotated[
        list[Path] | None,
        typer.Option(
            help="Also load check definitions from DIR (repeatable).",
            metavar="DIR",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Settings file (YAML).", metavar="FILE", rich_help_panel=CHECKS_PANEL
        ),
    ] = None,
    allowed_registry: Annotated[
        list[str] | None,
        typer.Option(
            help="Trusted registry or repository prefix (repeatable).",
            metavar="PREFIX",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    exclude_namespace: Annotated[
        list[str] | None,
        typer.Option(
            help="Leave a namespace out of scope, besides kube-system and friends (repeatable).",
            metavar="NS",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    bundle_is_complete: Annotated[
        bool,
        typer.Option(
            "--bundle-is-complete",
            help="The input holds every object of the cluster: absent means none.",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = False,
    audit_policy: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The API server's audit policy file, to judge its rules.",
            rich_help_panel=CHECKS_PANEL,
        ),
    ] = None,
    max_findings: Annotated[
        int,
        typer.Option(
            help="Findings shown per check in the terminal summary.",
            metavar="N",
            min=0,
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = 5,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespaces = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 60.0,
    verbose: Verbose = 0,
    debug: Debug = False,
) -> None:
    """Scan manifests, a snapshot or a live cluster, and report the zero-trust posture."""
    from zt_audit.cli.outputs import plan_outputs
    from zt_audit.cli.scan_command import ScanRequest, run_scan_command
    from zt_audit.report.frameworks import resolve_frameworks

    configure_logging(verbose, env().stderr)
    # Bad output or framework options fail before any input is read.
    plan_outputs(output_format.value, output)
    frameworks = resolve_frameworks(framework or [])
    config = ScanConfig.from_file(config_file) if config_file else ScanConfig()
    excluded = (*config.excluded_namespaces, *(exclude_namespace or ()))
    config = config.with_overrides(
        allowed_registries=tuple(allowed_registry) if allowed_registry else None,
        excluded_namespaces=tuple(dict.fromkeys(excluded)),
        bundle_is_complete=True if bundle_is_complete else None,
    )
    live = live_options(kubeconfig, context, namespace, all_namespaces, request_timeout)
    if paths and live.connection_given:
        raise UsageError("--kubeconfig, --context, -n and -A are for live scans, not with PATH")
    request = ScanRequest(
        paths=paths or [],
        output_format=output_format.value,
        outputs=output or [],
        frameworks=frameworks,
        fail_under=fail_under,
        fail_on=fail_on,
        baseline=baseline,
        fail_on_new=fail_on_new,
        select=_split_ids(select),
        skip=_split_ids(skip),
        checks_dirs=checks_dir or [],
        config=config,
        max_findings=max_findings,
        live=live,
        audit_policy=audit_policy,
    )
    raise typer.Exit(run_scan_command(request, env()))


@app.command()
def snapshot(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the snapshot to FILE ('-': stdout)."
        ),
    ],
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    namespace: Namespaces = None,
    all_namespaces: AllNamespaces = False,
    request_timeout: RequestTimeout = 60.0,
    verbose: Verbose = 0,
    debug: Debug = False,
) -> None:
    """Collect the cluster (Secrets as metadata only) into a file to scan offline later."""
    from zt_audit.cli.snapshot_command import run_snapshot_command

    configure_logging(verbose, env().stderr)
    live = live_options(kubeconfig, context, namespace, all_namespaces, request_timeout)
    raise typer.Exit(run_snapshot_command(live, output, env()))


@checks_app.command("list")
def checks_list(
    checks_dir: Annotated[
        list[Path] | None, typer.Option(help="Also load check definitions from DIR.", metavar="DIR")
    ] = None,
    output_format: Annotated[
        CatalogueFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CatalogueFormat.TABLE,
) -> None:
    """List every registered check."""
    from zt_audit.cli.catalogue import print_catalogue

    raise typer.Exit(print_catalogue(load_registry(checks_dir or []), output_format.value, env()))


@checks_app.command("show")
def checks_show(
    check_id: Annotated[str, typer.Argument(metavar="ID", help="A check ID such as RT-05.")],
    checks_dir: Annotated[
        list[Path] | None, typer.Option(help="Also load check definitions from DIR.", metavar="DIR")
    ] = None,
) -> None:
    """Print one check's full documentation."""
    from zt_audit.cli.catalogue import print_check

    raise typer.Exit(print_check(load_registry(checks_dir or []).get(check_id), env()))


@app.command()
def report(
    source: Annotated[
        Path, typer.Argument(metavar="REPORT.json", help="A JSON report saved by 'scan -f json'.")
    ],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.HTML,
    output: Annotated[
        list[str] | None,
        typer.Option("--output", "-o", metavar="[FORMAT=]FILE", help=OUTPUT_HELP),
    ] = None,
    framework: Annotated[
        list[str] | None, typer.Option("--framework", metavar="NAME", help=FRAMEWORK_HELP)
    ] = None,
    max_findings: Annotated[
        int, typer.Option(help="Findings shown per check in the summaries.", metavar="N", min=0)
    ] = 5,
    debug: Debug = False,
) -> None:
    """Render a saved JSON report again, in any format, without rescanning."""
    from zt_audit.cli.report_command import run_report_command

    raise typer.Exit(
        run_report_command(source, output_format.value, output, framework, max_findings, env())
    )


@app.command()
def frameworks(
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """List the compliance frameworks that --framework can lay the results against."""
    from zt_audit.cli.report_command import print_frameworks

    raise typer.Exit(print_frameworks(output_format.value, env()))


@app.command("who-can")
def who_can(
    verb: Annotated[
        str,
        typer.Argument(metavar="VERB", help="An API verb: get, create, impersonate, '*'..."),
    ],
    resource: Annotated[
        str,
        typer.Argument(
            metavar="RESOURCE",
            help="pods, deployments.apps, pods/exec, '*', or a URL such as /healthz.",
        ),
    ],
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Manifest files or folders (.yaml, .yml, .json); '-' reads stdin.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", metavar="NS", help="Ask within this namespace."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="The object's name (for resourceNames rules)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
) -> None:
    """List every subject RBAC allows to do VERB on RESOURCE, with the granting binding."""
    from zt_audit.cli.who_can import WhoCanRequest, run_who_can

    request = WhoCanRequest(verb, resource, paths or [], namespace, name, output_format.value)
    raise typer.Exit(run_who_can(request, env()))


@app.command()
def mtls(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Manifest files or folders, or a snapshot; '-' reads stdin.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace", "-n", metavar="NS", help="Show only this namespace (repeatable)."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    config_file: Annotated[
        Path | None, typer.Option("--config", metavar="FILE", help="Settings file (YAML).")
    ] = None,
    mesh_root_namespace: Annotated[
        str | None, typer.Option(metavar="NS", help="Istio root namespace (default istio-system).")
    ] = None,
    verbose: Verbose = 0,
    debug: Debug = False,
) -> None:
    """Show the effective mTLS mode of every workload port, and what decided it."""
    from zt_audit.cli.mtls import MtlsRequest, run_mtls_command

    configure_logging(verbose, env().stderr)
    config = ScanConfig.from_file(config_file) if config_file else ScanConfig()
    config = config.with_overrides(mesh_root_namespace=mesh_root_namespace)
    request = MtlsRequest(paths or [], namespace or [], output_format.value, config)
    code = run_mtls_command(request, env())
    raise typer.Exit(code)


@app.command()
def reach(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Manifest files or folders, or a snapshot; '-' reads stdin.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--from", metavar="SRC", help="[KIND/]NAMESPACE/NAME or an IP address."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option("--to", metavar="DST", help="[KIND/]NAMESPACE/NAME or an IP address."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT", help="Destination port (any port when omitted).", min=1, max=65535
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(metavar="PROTOCOL", help="TCP, UDP or SCTP (TCP when --port is given)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    verbose: Verbose = 0,
    debug: Debug = False,
) -> None:
    """May SRC connect to DST under the network policies, and why; without --from and --to,
    every allowed connection. Exit 0 allowed, 1 denied, 2 usage error."""
    from zt_audit.cli.reach import ReachRequest, run_reach_command

    configure_logging(verbose, env().stderr)
    if protocol is not None and protocol.upper() not in ("TCP", "UDP", "SCTP"):
        raise UsageError(f"--protocol {protocol}: choose TCP, UDP or SCTP")
    request = ReachRequest(
        paths=paths or [],
        source=source,
        destination=destination,
        port=port,
        protocol=protocol.upper() if protocol else None,
        output_format=output_format.value,
    )
    code = run_reach_command(request, env())
    raise typer.Exit(code)


@app.command("explain-scoring")
def explain_scoring() -> None:
    """Explain how scores and maturity stages are computed."""
    from zt_audit.cli.catalogue import SCORING_EXPLANATION

    env().stdout.write(SCORING_EXPLANATION)


@app.command()
def schema(
    kind: Annotated[
        str, typer.Argument(help="'report' or 'check' (a check definition).")
    ] = "report",
) -> None:
    """Print the JSON Schema of the JSON report (or of check definitions)."""
    import json

    from zt_audit.engine.definitions import definition_schema
    from zt_audit.report.document import report_schema

    schemas = {"report": report_schema, "check": definition_schema}
    if kind not in schemas:
        raise UsageError(f"unknown schema {kind!r}: choose 'report' or 'check'")
    env().stdout.write(json.dumps(schemas[kind](), indent=2) + "\n")


def main(argv: Sequence[str] | None = None, environment: Environment | None = None) -> int:
    """Run the command line and return the exit status; never raises."""
    args = list(sys.argv[1:] if argv is None else argv)
    environment = environment or Environment.from_process()
    debug = "--debug" in args
    command = typer.main.get_command(app)
    _ENV.append(environment)
    try:
        # Commands end by raising typer.Exit, which non-standalone mode returns as a status;
        # usage errors come back as exceptions, for one line of our own (exit 2).
        return _exit_code(command.main(args=args, prog_name="zt-audit", standalone_mode=False))
    except SystemExit as done:
        return _exit_code(done.code)
    except ZtAuditError as error:
        environment.stderr.write(f"zt-audit: error: {_one_line(str(error))}\n")
        if debug:
            traceback.print_exc(file=environment.stderr)
        return ExitStatus.USAGE_ERROR
    except KeyboardInterrupt:
        environment.stderr.write("zt-audit: interrupted\n")
        return 130
    except Exception as error:  # the last line of defence: one line, exit 3
        usage = _usage_error(error)
        if usage is not None:
            if usage:
                environment.stderr.write(f"{usage}\n")
            return ExitStatus.USAGE_ERROR
        if type(error).__name__ == "Abort":  # end of input at a prompt, or Ctrl-C
            environment.stderr.write("zt-audit: interrupted\n")
            return 130
        environment.stderr.write(
            f"zt-audit: internal error: {type(error).__name__}: {_one_line(str(error))} "
            "(rerun with --debug for the traceback)\n"
        )
        if debug:
            traceback.print_exc(file=environment.stderr)
        return ExitStatus.INTERNAL_ERROR
    finally:
        _ENV.pop()
    return ExitStatus.OK


def run() -> None:
    """The console script: ``main`` with the manners of a Unix filter."""
    if hasattr(signal, "SIGPIPE"):
        # A reader that stops early (``| head``) ends zt-audit quietly, as it ends cat,
        # instead of an exit status that would read as a failed gate.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


def _usage_error(error: Exception) -> str | None:
    """The one line for a command-line usage error, or None if ``error`` is not one.

    The command-line library is reached through typer only, so its errors are known by
    their class names. A command run without arguments has printed its help already.
    """
    names = {cls.__name__ for cls in type(error).__mro__}
    if "ClickException" not in names:
        return None
    if "NoArgsIsHelpError" in names:
        return ""
    ctx = getattr(error, "ctx", None)
    path = ctx.command_path if ctx is not None else "zt-audit"
    message = _one_line(error.format_message())  # type: ignore[attr-defined]
    see = f" (see '{path} --help')" if ctx is not None else ""
    return f"{path}: error: {message}{see}"


def _exit_code(code: object) -> int:
    if code is None:
        return ExitStatus.OK
    if isinstance(code, int):
        return code
    return ExitStatus.USAGE_ERROR


def _one_line(text: str) -> str:
    return " ".join(text.split())
