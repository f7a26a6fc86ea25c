"""Where reports go: stdout, one file, or several files in several formats at once.

``-f FORMAT`` chooses the main format, written to stdout or to a plain ``-o FILE``.
Each ``-o FORMAT=FILE`` writes one more format to its own file, so one scan can leave
JSON, SARIF and JUnit for CI, or HTML and JSON for an audit. When no report goes to
stdout and none of the files is the table, the terminal summary goes to stderr, so a
person still sees the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zt_audit.cli.environment import Environment
from zt_audit.errors import UsageError
from zt_audit.report.formats import FORMAT_NAMES, RenderOptions, render, render_table


@dataclass(frozen=True)
class OutputTarget:
    format: str
    path: Path | None  # None: standard output


def plan_outputs(main_format: str, outputs: list[str] | None) -> list[OutputTarget]:
    """The targets of ``-f`` and the ``-o`` values, validated; the main one first."""
    plain: list[Path] = []
    extra: list[OutputTarget] = []
    for value in outputs or []:
        name, sep, rest = value.partition("=")
        if sep and name in FORMAT_NAMES:
            if not rest:
                raise UsageError(f"--output {value}: give a file after '{name}='")
            extra.append(OutputTarget(name, Path(rest)))
        else:
            plain.append(Path(value))
    if len(plain) > 1:
        raise UsageError(
            f"--output given {len(plain)} plain files ({', '.join(map(str, plain))}): "
            "write extra formats as -o FORMAT=FILE, e.g. -o sarif=report.sarif"
        )
    targets = [OutputTarget(main_format, plain[0] if plain else None), *extra]
    _refuse_clashes(targets)
    return targets


def _refuse_clashes(targets: list[OutputTarget]) -> None:
    seen: dict[Path, str] = {}
    for target in targets:
        if target.path is None:
            continue
        # Checked before the scan, so that a long scan does not end in a lost report.
        if not target.path.parent.is_dir():
            raise UsageError(
                f"{target.path}: cannot write the {target.format} report: "
                f"no folder {target.path.parent}"
            )
        key = target.path.resolve()
        if key in seen:
            raise UsageError(
                f"{target.path}: both the {seen[key]} and the {target.format} report would "
                "be written to this file"
            )
        seen[key] = target.format


def write_outputs(
    report: dict[str, Any],
    targets: list[OutputTarget],
    options: RenderOptions,
    env: Environment,
) -> None:
    """Render and write every target; the summary goes to stderr if stdout has no report."""
    for target in targets:
        if target.path is None:
            _write_stdout(report, target.format, options, env)
        else:
            _write_file(target.path, render(target.format, report, options))
    to_files = all(target.path is not None for target in targets)
    if to_files and not any(target.format == "table" for target in targets):
        render_table(report, options, env.err)


def _write_stdout(
    report: dict[str, Any], name: str, options: RenderOptions, env: Environment
) -> None:
    if name == "table":
        # On a terminal the summary keeps its colours; rendering to text would lose them.
        render_table(report, options, env.out)
    else:
        env.stdout.write(render(name, report, options))


def _write_file(path: Path, text: str) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
    except OSError as error:
        raise UsageError(f"{path}: cannot write report: {error.strerror}") from error
