"""Measure a full ``zt-audit scan`` on synthetic cluster exports of growing size.

Usage: python benchmarks/bench_scan.py [--sizes 1000,10000,100000] [--keep DIR]

Each size runs as its own ``zt-audit scan EXPORT -f json -o /dev/null`` process, so the
figures include start-up, every registered check and report rendering, as a user sees
them. Peak memory is the scan process's own high-water resident set (``VmHWM``): the
``ru_maxrss`` a parent reads from ``wait4`` would include what this process held when it
forked. A second pass inside this process splits the time into loading, checking and
reporting.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import write_export

# Runs the command line as ``python -m zt_audit`` does, then writes its peak in MiB to the
# pipe whose descriptor is the first argument.
SCAN_AND_REPORT_PEAK = """
import os, resource, sys
from zt_audit.cli.app import main
code = main(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    with open("/proc/self/status") as status:
        hwm = [line for line in status if line.startswith("VmHWM:")]
    peak = int(hwm[0].split()[1]) / 1024
except (OSError, IndexError):
    pass
os.write(int(sys.argv[1]), f"{peak:.1f}".encode())
sys.exit(code)
"""


def run_scan(export: Path) -> tuple[float, float, int]:
    """Wall seconds, peak MiB and exit code of one scan process."""
    read_end, write_end = os.pipe()
    command = [sys.executable, "-c", SCAN_AND_REPORT_PEAK, str(write_end)]
    command += ["scan", str(export), "-f", "json", "-o", os.devnull]
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    code = process.wait()
    elapsed = time.perf_counter() - start
    with os.fdopen(read_end) as peak:
        return elapsed, float(peak.read() or "nan"), code


def phases(export: Path) -> tuple[float, float, float]:
    """Seconds spent loading, running checks, and building and rendering the report."""
    from zt_audit.engine.registry import discover
    from zt_audit.inventory import load_inventory
    from zt_audit.report.document import build_report, render_json
    from zt_audit.scan import run_scan as scan

    registry = discover()
    start = time.perf_counter()
    inventory = load_inventory([str(export)])
    loaded = time.perf_counter()
    outcome = scan(inventory, registry)
    checked = time.perf_counter()
    render_json(build_report(outcome))
    reported = time.perf_counter()
    return loaded - start, checked - loaded, reported - checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", type=Path, help="keep generated exports in DIR")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="zt-audit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"{'objects':>8} {'MB':>7} {'seconds':>8} {'objects/s':>10} {'peak MiB':>9} "
        f"{'load':>6} {'checks':>7} {'report':>7} {'us/object':>9}"
    )
    for size in sizes:
        export = folder / f"cluster-{size}.yaml"
        if not export.exists():
            write_export(size, export)
        megabytes = export.stat().st_size / 1e6
        elapsed, peak, code = run_scan(export)
        load, checks, report = phases(export)
        note = "" if code in (0, 1) else f"  (exit {code})"
        print(
            f"{size:>8} {megabytes:>7.1f} {elapsed:>8.2f} {size / elapsed:>10.0f} "
            f"{peak:>9.0f} {load:>6.2f} {checks:>7.2f} {report:>7.2f} "
            f"{1e6 * elapsed / size:>9.1f}{note}"
        )


if __name__ == "__main__":
    main()
