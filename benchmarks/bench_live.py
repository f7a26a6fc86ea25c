"""Measure a live collection and scan through the API stand-in, against a file scan.

Usage: python benchmarks/bench_live.py [--sizes 1000,10000] [--page-size 500]

Each size serves a synthetic export through the loopback HTTPS stand-in of the tests
(tests/apiserver/) and times, in this process: discovery and paged collection through the
official client, rendering the collection and reading it back as an inventory, and the
checks; then a scan of the same export as a file, for comparison. The stand-in shares the
machine, so collection figures are an upper bound on the client's own cost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from apiserver.kubeconfig import write_kubeconfig  # noqa: E402
from apiserver.server import ApiServer  # noqa: E402
from apiserver.store import Store  # noqa: E402
from generate import write_export  # noqa: E402

from zt_audit.engine.registry import discover  # noqa: E402
from zt_audit.inventory import load_inventory  # noqa: E402
from zt_audit.scan import run_scan  # noqa: E402
from zt_audit.sources.cluster import ConnectOptions, connect  # noqa: E402
from zt_audit.sources.collect import CollectOptions, collect  # noqa: E402
from zt_audit.sources.snapshot import live_inventory  # noqa: E402


def measure(objects: int, page_size: int, folder: Path) -> dict[str, float]:
    export = write_export(objects, folder / f"export-{objects}.yaml")
    server = ApiServer(Store.from_paths(export), folder).start()
    try:
        kubeconfig = write_kubeconfig(server, folder / "kubeconfig")
        registry = discover()
        started = time.perf_counter()
        transport = connect(ConnectOptions(kubeconfig=kubeconfig))
        collection = collect(transport, CollectOptions(page_size=page_size))
        transport.close()
        collected = time.perf_counter()
        inventory, evidence = live_inventory(collection)
        loaded = time.perf_counter()
        run_scan(inventory, registry, evidence=evidence)
        checked = time.perf_counter()
        requests = len(server.requests)
    finally:
        server.stop()

    file_start = time.perf_counter()
    run_scan(load_inventory([str(export)]), registry)
    file_end = time.perf_counter()
    return {
        "objects": len(collection.objects),
        "requests": requests,
        "collect_s": collected - started,
        "render_and_load_s": loaded - collected,
        "checks_s": checked - loaded,
        "file_scan_s": file_end - file_start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    header = "objects  requests  collect  render+load  checks  file scan"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            row = measure(size, args.page_size, Path(tmp))
            print(
                f"{row['objects']:>7}  {row['requests']:>8}  {row['collect_s']:>6.2f}s  "
                f"{row['render_and_load_s']:>10.2f}s  {row['checks_s']:>5.2f}s  "
                f"{row['file_scan_s']:>8.2f}s"
            )


if __name__ == "__main__":
    main()
