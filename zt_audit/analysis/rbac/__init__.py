"""RBAC analysis: effective permissions, the authorizer's semantics, escalation paths and
authentication evidence.

``RbacGraph`` resolves every binding to the rules its role grants; ``Request`` and
``rule_allows`` decide one request as the Kubernetes RBAC authorizer does;
``EscalationFinder`` turns grants into chains of steps towards more privilege.
"""

from zt_audit.analysis.rbac.authorizer import Request, rule_allows
from zt_audit.analysis.rbac.escalation import EscalationFinder, EscalationPath, Step
from zt_audit.analysis.rbac.graph import Match, RbacGraph
from zt_audit.analysis.rbac.model import Grant, MissingRole, Role, Rule, RuleSource, Subject
from zt_audit.analysis.rbac.privileges import PRIMITIVES, Power
from zt_audit.analysis.rbac.subjects import SubjectClass, classify

__all__ = [
    "PRIMITIVES",
    "EscalationFinder",
    "EscalationPath",
    "Grant",
    "Match",
    "MissingRole",
    "Power",
    "RbacGraph",
    "Request",
    "Role",
    "Rule",
    "RuleSource",
    "Step",
    "Subject",
    "SubjectClass",
    "classify",
    "rule_allows",
]
