"""Who a subject is: a platform component, a broad group, a break-glass account, a person,
or a workload."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from zt_audit.analysis.rbac.defaults import ANONYMOUS_SUBJECTS, BROAD_GROUPS, PLATFORM_PREFIXES
from zt_audit.analysis.rbac.model import SA_GROUP, Grant, Subject

# Users and Groups that only the control plane or the provider can authenticate: names
# under "system:" are reserved by Kubernetes, "eks:" ones are EKS's own components.
PLATFORM_IDENTITY_PREFIXES = ("system:", "eks:")


class SubjectClass(StrEnum):
    SYSTEM = "system"  # the control plane and its built-in bindings
    BROAD = "broad"  # every authenticated user, every service account, or anonymous
    BREAK_GLASS = "break-glass"  # configured emergency access
    HUMAN = "human"  # a User or Group from an identity provider or certificate
    WORKLOAD = "workload"  # a ServiceAccount


def is_broad(subject: Subject) -> bool:
    """Groups whose members nobody chose one by one, and the anonymous user."""
    if subject.kind == "Group":
        return subject.name in BROAD_GROUPS or subject.name.startswith(f"{SA_GROUP}:")
    return subject.kind == "User" and subject.name in ANONYMOUS_SUBJECTS


def is_anonymous(subject: Subject) -> bool:
    return subject.kind in ("User", "Group") and subject.name in ANONYMOUS_SUBJECTS


def break_glass_match(subject: Subject, allow: Iterable[str]) -> bool:
    """Entries are ``Kind/name``, ``ServiceAccount/namespace/name`` or a bare name."""
    allow = set(allow)
    return str(subject) in allow or (subject.kind != "ServiceAccount" and subject.name in allow)


def classify(grant: Grant, break_glass: Iterable[str] = ()) -> SubjectClass:
    """The class of a grant's subject, judged with the binding that names it.

    Names under ``system:`` are reserved for identities the API server or its components
    authenticate, and ``eks:`` ones for EKS's, so such Users and Groups are the platform's.
    A ServiceAccount of ``kube-system`` counts as the platform's only through a binding
    with a platform name (``system:controller:...``, ``eks:...``): a binding anyone wrote
    is judged on its merits wherever its subject lives.
    """
    subject = grant.subject
    if is_broad(subject):
        return SubjectClass.BROAD
    if break_glass_match(subject, break_glass):
        return SubjectClass.BREAK_GLASS
    if subject.kind in ("User", "Group"):
        platform = subject.name.startswith(PLATFORM_IDENTITY_PREFIXES)
        return SubjectClass.SYSTEM if platform else SubjectClass.HUMAN
    if subject.namespace == "kube-system" and grant.binding.name.startswith(PLATFORM_PREFIXES):
        return SubjectClass.SYSTEM
    return SubjectClass.WORKLOAD
