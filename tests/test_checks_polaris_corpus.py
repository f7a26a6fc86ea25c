"""Polaris's own pod-security fixtures, judged by zt-audit.

Each Polaris fixture's file name states its authors' verdict (success*/failure*). A
Polaris check is narrower than the zt-audit check that covers it (RT-06 judges both
privilege escalation and the root user), so each row names the findings that speak to the
Polaris check. Where Polaris and the Kubernetes documentation disagree, the documentation
wins and the case is listed in DISAGREEMENTS with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, result_of, scan_files

from zt_audit.engine.model import Finding, Status

POLARIS = FIXTURES / "corpora" / "polaris" / "test" / "checks"


def any_finding(_: Finding) -> bool:
    return True


def failing(finding: Finding) -> bool:
    return finding.status is Status.FAIL


def mentions(*words: str) -> Callable[[Finding], bool]:
    return lambda finding: any(word in finding.message for word in words)


# Polaris check -> (zt-audit check, which findings count as "Polaris would fail this").
COVERAGE: dict[str, tuple[str, Callable[[Finding], bool]]] = {
    "hostIPCSet": ("RT-05", any_finding),
    "hostNetworkSet": ("RT-05", any_finding),
    "hostPIDSet": ("RT-05", any_finding),
    "runAsPrivileged": ("RT-05", any_finding),
    "hostProcess": ("RT-05", any_finding),
    "privilegeEscalationAllowed": ("RT-06", mentions("allowPrivilegeEscalation")),
    "runAsRootAllowed": ("RT-06", mentions("root")),
    "dangerousCapabilities": ("RT-07", failing),
    "insecureCapabilities": ("RT-07", any_finding),
    "hostPathSet": ("RT-08", any_finding),
    "hostPortSet": ("RT-08", any_finding),
    "notReadOnlyRootFilesystem": ("RT-10", any_finding),
    "tagNotSpecified": ("IMG-02", any_finding),
}

# The restricted Pod Security Standard requires dropping ALL capabilities; Polaris accepts
# dropping Docker's default set by name, which leaves any capability a runtime adds later.
DISAGREEMENTS = {
    "insecureCapabilities/success.yaml": "PSS restricted requires drop: [ALL]",
    "insecureCapabilities/success.case.yaml": "PSS restricted requires drop: [ALL]",
    "insecureCapabilities/success.pod.yaml": "PSS restricted requires drop: [ALL]",
}


def _cases() -> list[tuple[str, Path]]:
    return [
        (check, path)
        for check in sorted(COVERAGE)
        for path in sorted((POLARIS / check).glob("*.yaml"))
    ]


@pytest.mark.parametrize(
    ("polaris_check", "path"), _cases(), ids=[f"{c}/{p.name}" for c, p in _cases()]
)
def test_zt_audit_agrees_with_polaris_verdicts(polaris_check, path):
    check_id, relevant = COVERAGE[polaris_check]
    result = result_of(scan_files(path), check_id)
    flagged = any(relevant(f) for f in result.findings)
    upstream_fails = path.name.startswith("failure")
    key = f"{polaris_check}/{path.name}"
    if key in DISAGREEMENTS:
        assert flagged != upstream_fails, f"{key} no longer disagrees: drop it from the list"
        return
    assert flagged == upstream_fails, [f.message for f in result.findings]
    if upstream_fails:
        assert result.status in (Status.FAIL, Status.WARN)
