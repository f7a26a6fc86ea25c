"""Image basics: digest pinning (IMG-01), mutable tags (IMG-02), trusted registries (IMG-03)."""

from __future__ import annotations

from collections.abc import Iterator

from zt_audit.analysis.images import ImageRef, parse_image, registry_allowed
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    from_findings,
    not_applicable,
)
from zt_audit.engine.model import CheckResult, Finding, Ratio, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Container, Workload


def _images(ctx: ScanContext) -> Iterator[tuple[Workload, Container, ImageRef]]:
    for workload in ctx.workloads:
        for container in workload.containers():
            if container.image:
                yield workload, container, parse_image(container.image)


def _subject(workload: Workload, container: Container) -> str:
    return f"container {container.name} of {workload.kind} {workload.key}"


def digest_pinning(ctx: ScanContext) -> CheckResult:
    images = list(_images(ctx))
    if not images:
        return not_applicable("no container images in scope")
    unpinned = [(w, c, i) for w, c, i in images if not i.pinned]
    ratio = Ratio(len(images) - len(unpinned), len(images), "containers")
    pass_at, warn_at = 0.95, 0.5
    status = Status.WARN if ratio.value >= warn_at else Status.FAIL
    findings = [
        ctx.finding(
            w.resource,
            (*c.path, "image"),
            f"{_subject(w, c)} uses {i.original} without a digest",
            status=status,
        )
        for w, c, i in unpinned
    ]
    return by_threshold(
        ratio, pass_at=pass_at, warn_at=warn_at, findings=findings, what="pinned by digest"
    )


def mutable_tags(ctx: ScanContext) -> CheckResult:
    mutable = {tag.lower() for tag in ctx.config.mutable_tags}
    findings: list[Finding] = []
    count = 0
    for workload, container, image in _images(ctx):
        count += 1
        if image.pinned:
            continue  # a digest fixes the content whatever the tag says
        tag = image.effective_tag
        if image.tag is None:
            reason = "has no tag, so it pulls :latest"
        elif tag is not None and tag.lower() in mutable:
            reason = f"uses the mutable tag :{tag}"
        else:
            continue
        findings.append(
            ctx.finding(
                workload.resource,
                (*container.path, "image"),
                f"{_subject(workload, container)} image {image.original} {reason}",
            )
        )
    return from_findings(
        findings,
        evaluated=count,
        affected=len(findings),
        unit="containers",
        clean="every image has a fixed tag or a digest ({ratio})",
        nothing="no container images in scope",
    )


def trusted_registries(ctx: ScanContext) -> CheckResult:
    images = list(_images(ctx))
    if not images:
        return not_applicable("no container images in scope")
    registries = sorted({image.registry for _, _, image in images})
    allowed = ctx.config.allowed_registries
    if not allowed:
        return CheckResult(
            Status.WARN,
            f"no registry allow-list is configured; images come from {len(registries)} "
            f"registries: {', '.join(registries)}",
            ratio=Ratio(0, len(images), "containers"),
            hint="set allowed_registries in the config file or pass --allowed-registry",
            facts={"registries": registries},
        )
    findings = [
        ctx.finding(
            workload.resource,
            (*container.path, "image"),
            f"{_subject(workload, container)} pulls {image.original} from {image.registry}, "
            "outside the allow-list",
        )
        for workload, container, image in images
        if not registry_allowed(image, allowed)
    ]
    return from_findings(
        findings,
        evaluated=len(images),
        affected=len(findings),
        unit="containers",
        clean="every image comes from an allowed registry ({ratio})",
        nothing="no container images in scope",
        facts={"registries": registries},
    )


CHECKS = [
    Implementation("IMG-01", digest_pinning),
    Implementation("IMG-02", mutable_tags),
    Implementation("IMG-03", trusted_registries),
]
