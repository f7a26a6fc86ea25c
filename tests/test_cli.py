"""The command line end to end: exit codes, streams, JSON, determinism."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, run_cli

from zt_audit.cli.app import main
from zt_audit.cli.environment import Environment
from zt_audit.exitcodes import ExitStatus
from zt_audit.report.document import report_schema

INSECURE = str(FIXTURES / "workload" / "insecure.yaml")
HARDENED = str(FIXTURES / "workload" / "hardened.yaml")
RELEASE = str(FIXTURES / "corpora" / "microservices-demo" / "release-kubernetes-manifests.yaml")
# The gate tests pin the set of checks so that new checks do not move their figures.
CORE_CHECKS = "RT-04,RT-05,RT-06,RT-07,RT-08,RT-09,RT-10,IMG-01,IMG-02,IMG-03"


def scan_json(*args: str) -> dict:
    result = run_cli("scan", *args, "-f", "json")
    return json.loads(result.stdout)


# One test per exit status.


def test_exit_0_when_every_gate_passes():
    result = run_cli(
        "scan",
        HARDENED,
        "--allowed-registry",
        "ghcr.io/acme",
        "--select",
        CORE_CHECKS,
        "--fail-under",
        "90",
        "--fail-on",
        "medium",
    )
    assert result.code == ExitStatus.OK == 0
    assert result.stderr == ""
    assert "Overall score 100.0 / 100" in result.stdout


def test_exit_1_when_the_score_is_under_the_threshold():
    result = run_cli("scan", INSECURE, "--fail-under", "50")
    assert result.code == ExitStatus.GATE_FAILED == 1
    assert result.stderr.startswith("zt-audit: gate failed: overall score ")
    assert result.stderr.endswith(" is below 50\n")


def test_exit_1_when_a_check_of_the_severity_fails():
    result = run_cli("scan", INSECURE, "--select", CORE_CHECKS, "--fail-on", "critical")
    assert result.code == 1
    assert result.stderr == (
        "zt-audit: gate failed: 2 check(s) of severity critical or worse failed: RT-05, RT-08\n"
    )


def test_exit_2_for_an_unknown_check_id():
    result = run_cli("scan", INSECURE, "--select", "RT-05,RT-99")
    assert result.code == ExitStatus.USAGE_ERROR == 2
    assert result.stderr == (
        "zt-audit: error: unknown check ID(s): RT-99 (see 'zt-audit checks')\n"
    )
    assert result.stdout == ""


def test_exit_2_for_an_unknown_option():
    result = run_cli("scan", INSECURE, "--no-such-option")
    assert result.code == 2
    assert result.stderr == (
        "zt-audit scan: error: No such option: --no-such-option (see 'zt-audit scan --help')\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--fail-on", "bogus"], "zt-audit scan: error: Invalid value for '--fail-on'"),
        (["who-can", "get"], "zt-audit who-can: error: Missing argument 'RESOURCE'."),
        (["nonsense"], "zt-audit: error: No such command 'nonsense'."),
    ],
)
def test_usage_errors_are_one_line(args, message):
    result = run_cli(*args)
    assert result.code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_exit_2_for_a_bad_config_file(tmp_path):
    config = tmp_path / "zt.yaml"
    config.write_text("allowed_registries: ghcr.io\n")
    result = run_cli("scan", INSECURE, "--config", str(config))
    assert result.code == 2
    assert result.stderr == (
        f"zt-audit: error: {config}: allowed_registries must be a list of strings\n"
    )


def test_exit_2_for_bad_input_but_the_report_is_still_written(tmp_path):
    (tmp_path / "a.yaml").write_text(Path(INSECURE).read_text())
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n")
    out = tmp_path / "report.json"
    result = run_cli("scan", str(tmp_path), "-f", "json", "-o", str(out))
    assert result.code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"zt-audit: {tmp_path / 'b.yaml'}:5: invalid YAML: ")
    report = json.loads(out.read_text())
    assert report["inventory"]["errors"][0]["line"] == 5
    # The findings of the good file are all there.
    failed = {c["id"] for c in report["checks"] if c["status"] == "fail"}
    assert {"RT-05", "RT-08", "IMG-02"} <= failed


def test_exit_3_for_an_internal_error_with_one_line_and_no_traceback():
    class Exploding(io.StringIO):
        def write(self, text: str) -> int:
            raise RuntimeError("disk on fire")

    stderr = io.StringIO()
    code = main(["scan", HARDENED], Environment(io.StringIO(), Exploding(), stderr))
    assert code == ExitStatus.INTERNAL_ERROR == 3
    assert stderr.getvalue() == (
        "zt-audit: internal error: RuntimeError: disk on fire "
        "(rerun with --debug for the traceback)\n"
    )


def test_debug_shows_the_traceback():
    class Exploding(io.StringIO):
        def write(self, text: str) -> int:
            raise RuntimeError("disk on fire")

    stderr = io.StringIO()
    main(["scan", HARDENED, "--debug"], Environment(io.StringIO(), Exploding(), stderr))
    assert "Traceback (most recent call last)" in stderr.getvalue()


# Output


def test_json_report_validates_against_the_published_schema():
    for path in (INSECURE, HARDENED, RELEASE):
        jsonschema.validate(scan_json(path), report_schema())


def test_schema_command_prints_the_report_schema():
    result = run_cli("schema")
    assert result.code == 0
    assert json.loads(result.stdout) == report_schema()


def test_the_same_input_gives_the_same_bytes_except_the_timestamp():
    first = run_cli("scan", INSECURE, RELEASE, "-f", "json").stdout
    second = run_cli("scan", INSECURE, RELEASE, "-f", "json").stdout

    def strip(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if '"generated_at"' not in line)

    assert strip(first) == strip(second)
    assert first.count('"generated_at"') == 1


def test_stdin_is_scanned_like_a_file():
    data = Path(INSECURE).read_bytes()
    result = run_cli("scan", "-", "-f", "json", stdin=data)
    report = json.loads(result.stdout)
    assert report["source"]["description"] == "<stdin>"
    locations = [
        f["location"]["file"] for c in report["checks"] for f in c["findings"] if f["location"]
    ]
    assert locations and set(locations) == {"<stdin>"}


def test_terminal_report_without_a_terminal_has_no_colour_codes():
    result = run_cli("scan", INSECURE)
    assert "\x1b[" not in result.stdout
    assert "FAIL  RT-05    critical" in result.stdout
    assert f"{INSECURE}:27 container agent of Deployment legacy/build-agent is privileged" in (
        result.stdout
    )


def test_json_to_a_file_puts_the_summary_on_stderr(tmp_path):
    out = tmp_path / "r.json"
    result = run_cli("scan", INSECURE, "-f", "json", "-o", str(out))
    assert result.stdout == ""
    assert "Overall score" in result.stderr
    jsonschema.validate(json.loads(out.read_text()), report_schema())


def test_checks_list_and_show():
    listing = run_cli("checks", "list")
    assert listing.code == 0
    assert "RT-05" in listing.stdout and "IMG-03" in listing.stdout
    shown = run_cli("checks", "show", "RT-08")
    assert shown.code == 0
    assert "No hostPath volumes or host ports" in shown.stdout
    assert "CIS Kubernetes Benchmark v1.10: 5.2.12, 5.2.13" in shown.stdout
    assert run_cli("checks", "show", "RT-99").code == 2


def test_checks_list_json_is_machine_readable():
    entries = json.loads(run_cli("checks", "list", "-f", "json").stdout)
    by_id = {e["id"]: e for e in entries}
    assert by_id["RT-10"]["logic"] == "declarative"
    assert by_id["RT-05"]["severity"] == "critical"


def test_explain_scoring_states_the_formula():
    text = run_cli("explain-scoring").stdout
    assert "Pillar score = 100 x sum(w x s) / sum(w)" in text
    assert "0.70 (Initial), 0.80 (Advanced), 0.90 (Optimal)" in text


def test_version():
    from zt_audit import __version__

    assert run_cli("--version").stdout == f"zt-audit {__version__}\n"


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_installed_console_script_honours_no_colour(env):
    # Run the real console script in a pseudo-terminal-free subprocess, as CI would.
    completed = subprocess.run(
        [sys.executable, "-m", "zt_audit", "scan", INSECURE],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode == 0
    assert "\x1b[" not in completed.stdout
    assert completed.stderr == ""


def test_a_reader_that_stops_early_ends_the_scan_quietly():
    """`zt-audit scan ... | head` must not exit 1, which would read as a failed gate."""
    example = Path(__file__).parents[1] / "examples" / "cluster"
    process = subprocess.Popen(
        [sys.executable, "-m", "zt_audit", "scan", str(example), "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.read(1) == b"{"  # more than a pipe buffer follows
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait() == -signal.SIGPIPE
    assert stderr == b""


def test_the_summary_names_skipped_documents(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("replicaCount: 2\nimage: {repository: nginx}\n")
    result = run_cli("scan", str(values), INSECURE)
    assert result.code == 0
    assert "Input warnings (1)" in result.stdout
    assert f"{values}:1: not a Kubernetes object (no kind/apiVersion); skipped" in result.stdout
