"""Marking the findings and checks that waivers cover, in the report document.

A waiver is in force until the end of its ``expires`` day. An expired waiver covers
nothing, and the report says which findings it would have covered; a waiver in force that
covers nothing is reported as unused, so that stale waivers get cleaned up.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from zt_audit.engine.waivers import Waiver

COVERED = ("fail", "warn")


def apply_waivers(report: dict[str, Any], waivers: tuple[Waiver, ...], today: date) -> None:
    """Add ``waived_by`` to covered findings, ``waived`` to checks, and a ``waivers`` list."""
    in_force = [waiver.expires >= today for waiver in waivers]
    counts = [0] * len(waivers)
    for check in report["checks"]:
        check["waived"] = False
        if check["status"] not in COVERED:
            continue
        findings = [f for f in check["findings"] if f["status"] in COVERED]
        for finding in findings:
            index = _first(waivers, check["id"], finding["object"], in_force, counts)
            if index is not None:
                finding["waived_by"] = index
        if findings:
            check["waived"] = all("waived_by" in f for f in findings)
        else:
            # A check that failed as a whole (no control exists) is waived only as a whole.
            whole = [i for i, w in enumerate(waivers) if not w.objects and w.check == check["id"]]
            for i in whole:
                counts[i] += 1
            check["waived"] = any(in_force[i] for i in whole)
    report["waivers"] = [
        {
            **waiver.as_dict(),
            "status": _status(in_force[i], counts[i]),
            "covers": counts[i],
        }
        for i, waiver in enumerate(waivers)
    ]


def _first(
    waivers: tuple[Waiver, ...],
    check_id: str,
    obj: dict[str, Any] | None,
    in_force: list[bool],
    counts: list[int],
) -> int | None:
    """The first waiver in force that covers the finding; expired ones only count it."""
    chosen = None
    for i, waiver in enumerate(waivers):
        if not waiver.covers(check_id, obj):
            continue
        if in_force[i] and chosen is None:
            chosen = i
            counts[i] += 1
        elif not in_force[i]:
            counts[i] += 1
    return chosen


def _status(in_force: bool, covers: int) -> str:
    if not in_force:
        return "expired"
    return "active" if covers else "unused"
