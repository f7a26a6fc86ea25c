"""When "we found none" may be read as "there is none".

A manifest bundle need not hold every object of a cluster, so finding no runtime sensor,
no policy and no report in it proves nothing; with ``--bundle-is-complete`` or a live
scan it does. Checks that fail on absence ask here first.
"""

from __future__ import annotations

from zt_audit.engine.context import ScanContext
from zt_audit.engine.evidence import SourceStatus

COMPLETE_HINT = (
    "scan the whole cluster (or pass --bundle-is-complete if the input holds every object)"
)


def absence_unobservable(ctx: ScanContext, *kinds: str) -> str | None:
    """Why the absence of ``kinds`` cannot be trusted, or None when it can."""
    forbidden, partial = [], []
    for kind in kinds:
        status = ctx.evidence.kind_status(kind, False)
        if status is SourceStatus.FORBIDDEN:
            forbidden.append(ctx.evidence.describe(kind, status))
        elif status is SourceStatus.NOT_IN_BUNDLE:
            partial.append(kind)
    if partial:
        forbidden.append(f"a partial input may leave out {', '.join(partial)} objects")
    return "; ".join(forbidden) or None
