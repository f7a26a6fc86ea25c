"""Escalation paths: how the holder of one identity can become a more powerful one.

Each path is a chain of steps, from a permission the holder was granted to the
identity or access it ends with. Chains that go through a service account are reported
only when that account is more powerful than the holder already is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zt_audit.analysis.rbac.authorizer import Request
from zt_audit.analysis.rbac.graph import RbacGraph
from zt_audit.analysis.rbac.model import MASTERS, RBAC_GROUP, Grant, RuleSource, Subject
from zt_audit.analysis.rbac.privileges import (
    PRIMITIVES,
    Power,
    held_by,
    holds_request,
    is_full_admin,
    power_of,
)
from zt_audit.analysis.rbac.privileges import (
    impersonable as _impersonable,
)
from zt_audit.gcpause import collector_paused
from zt_audit.inventory import Inventory

TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"


@dataclass(frozen=True)
class Step:
    action: str
    object: str | None = None
    via: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action}
        if self.object:
            data["object"] = self.object
        if self.via:
            data["via"] = self.via
        return data


@dataclass(frozen=True)
class EscalationPath:
    """A holder, the permission it starts from, and the steps to what it gains."""

    grant: Grant
    primitive: str
    rules: tuple[RuleSource, ...]
    steps: tuple[Step, ...]
    gains: Power
    target: str | None = None  # the identity the chain ends with, if any
    names: tuple[str, ...] = field(default=())  # resourceNames limiting the permission

    @property
    def holder(self) -> Subject:
        return self.grant.subject

    @property
    def title(self) -> str:
        return PRIMITIVES[self.primitive].title

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "holder": self.holder.as_dict(),
            "permission": self.primitive,
            "scope": self.grant.scope,
            "gains": self.gains.label,
            "steps": [{"step": n, **s.as_dict()} for n, s in enumerate(self.steps, 1)],
        }
        if self.target:
            data["target"] = self.target
        if self.names:
            data["resourceNames"] = list(self.names)
        return data


class EscalationFinder:
    """Finds the paths of every grant in an RBAC graph."""

    def __init__(self, graph: RbacGraph, inventory: Inventory) -> None:
        self.graph = graph
        self._power: dict[Subject, Power] = {}
        self._accounts = _by_namespace(_service_accounts(graph, inventory))
        self._pods = _pods_by_account(inventory)
        self._pod_accounts = _by_namespace(sorted(self._pods))
        self._token_secrets = _token_secrets(inventory)
        self._builders = {
            "impersonate": self._impersonate,
            "bind-escalate": self._bind_escalate,
            "pod-create": self._pod_create,
            "pod-exec": self._pod_exec,
            "nodes-proxy": self._nodes_proxy,
            "sa-token": self._sa_token,
            "csr-approve": self._csr_approve,
            "webhook-write": self._webhook_write,
            "pv-create": self._pv_create,
            "secrets-read": self._secrets_read,
            "token-secret": self._token_secret,
            "aws-auth-write": self._aws_auth_write,
        }
        self._eks = inventory.get("ConfigMap", "kube-system", "aws-auth") is not None
        self._ranked: dict[tuple[str, str | None], list[tuple[Subject, Power]]] = {}

    def power(self, subject: Subject) -> Power:
        if subject not in self._power:
            self._power[subject] = power_of(self.graph.reaching(subject))
        return self._power[subject]

    def paths(self) -> list[EscalationPath]:
        with collector_paused():
            return self._paths()

    def _paths(self) -> list[EscalationPath]:
        found: list[EscalationPath] = []
        for grant in self.graph.grants:
            if grant.namespace is None and is_full_admin(grant):
                continue  # already everything: reported as a cluster-admin grant
            for primitive, rules in held_by(grant):
                path = self._path(grant, primitive.id, rules)
                if path is not None:
                    found.append(path)
        return found

    # Chains

    def _path(self, grant: Grant, primitive: str, rules: tuple[RuleSource, ...]):
        start = Step(
            f"{PRIMITIVES[primitive].title} ({grant.scope})",
            str(grant.subject),
            grant.via,
        )
        names = tuple(sorted({n for s in rules for n in s.rule.resource_names}))
        chain = self._builders[primitive](grant)
        if chain is None:
            return None
        steps, gains, target = chain
        return EscalationPath(grant, primitive, rules, (start, *steps), gains, target, names)

    def _ranking(self, which: str, namespace: str | None) -> list[tuple[Subject, Power]]:
        """Accounts of a scope (``None``: all), most powerful first; computed once."""
        key = (which, namespace)
        if key not in self._ranked:
            pool = self._accounts if which == "accounts" else self._pod_accounts
            if namespace is None:
                members = [a for ns in sorted(pool) for a in pool[ns]]
            else:
                members = pool.get(namespace, [])
            ranked = [(account, self.power(account)) for account in members]
            ranked.sort(key=lambda item: (-item[1], item[0]))
            self._ranked[key] = ranked
        return self._ranked[key]

    def _best(self, which: str, grant: Grant) -> tuple[Subject, Power] | None:
        """The most powerful account in the grant's scope, if above the holder."""
        holder = self.power(grant.subject)
        for account, power in self._ranking(which, grant.namespace):
            if power <= holder:
                return None
            if account != grant.subject:
                return account, power
        return None

    def _best_account(self, grant: Grant) -> tuple[Subject, Power] | None:
        return self._best("accounts", grant)

    def _via_account(self, account: Subject, power: Power) -> Step:
        grants = self.graph.grants_of(account)
        via = ", ".join(sorted({g.via for g in grants})[:3]) or None
        return Step(f"act with {power.label}", str(account), via)

    def _pod_create(self, grant: Grant):
        best = self._best_account(grant)
        if best is None:
            return (
                [Step("run pods under the service accounts it can already use")],
                Power(max(self.power(grant.subject), _scope_power(grant))),
                None,
            )
        account, power = best
        steps = [
            Step(
                f"start a pod with serviceAccountName {account.name}; its token is mounted",
                str(account),
            ),
            self._via_account(account, power),
        ]
        return steps, power, str(account)

    def _pod_exec(self, grant: Grant):
        best = self._best("pods", grant)
        if best is None:
            holder = self.power(grant.subject)
            steps = [Step("run commands in running pods of its scope")]
            return steps, Power(max(holder, _scope_power(grant))), None
        account, power = best
        steps = [
            Step(
                "exec into the pod and read its mounted service-account token",
                self._pods[account][0],
            ),
            self._via_account(account, power),
        ]
        return steps, power, str(account)

    def _sa_token(self, grant: Grant):
        best = self._best_account(grant)
        if best is None:
            return None
        account, power = best
        steps = [
            Step("request a token for the service account (TokenRequest)", str(account)),
            self._via_account(account, power),
        ]
        return steps, power, str(account)

    def _secrets_read(self, grant: Grant):
        holder = self.power(grant.subject)
        best = None
        for secret, account in self._token_secrets:
            if grant.namespace is not None and account.namespace != grant.namespace:
                continue
            power = self.power(account)
            if power > holder and (best is None or power > best[2]):
                best = (secret, account, power)
        if best is None:
            return None
        secret, account, power = best
        steps = [
            Step("read the long-lived token stored in the Secret", secret),
            self._via_account(account, power),
        ]
        return steps, power, str(account)

    def _token_secret(self, grant: Grant):
        best = self._best_account(grant)
        if best is None:
            return None
        account, power = best
        steps = [
            Step(
                "create a Secret of type kubernetes.io/service-account-token for the account; "
                "the control plane fills in a token that never expires",
                str(account),
            ),
            Step("read the Secret back"),
            self._via_account(account, power),
        ]
        return steps, power, str(account)

    def _aws_auth_write(self, grant: Grant):
        if not self._eks:
            return None
        steps = [
            Step(
                "map an IAM identity it controls to system:masters",
                "ConfigMap/kube-system/aws-auth",
            ),
            Step(f"members of {MASTERS} bypass RBAC: cluster-admin"),
        ]
        return steps, Power.ADMIN, f"Group/{MASTERS}"

    def _impersonate(self, grant: Grant):
        groups = _impersonable(grant, "groups")
        if grant.namespace is None and (groups is None or MASTERS in groups):
            steps = [
                Step(f"send requests with Impersonate-Group: {MASTERS}"),
                Step(f"members of {MASTERS} bypass RBAC: cluster-admin"),
            ]
            return steps, Power.ADMIN, f"Group/{MASTERS}"

        # Otherwise the holder becomes the most powerful identity it may name.
        holder = self.power(grant.subject)
        candidates: list[tuple[Power, Subject]] = []
        if _impersonable(grant, "serviceaccounts") != set():
            best = self._best_account(grant)
            if best is not None:
                candidates.append((best[1], best[0]))
        if grant.namespace is None:
            for kind, names in (("User", _impersonable(grant, "users")), ("Group", groups)):
                for subject in self.graph.by_subject:
                    if subject.kind == kind and (names is None or subject.name in names):
                        candidates.append((self.power(subject), subject))
        candidates = [c for c in candidates if c[0] > holder]
        if not candidates and grant.namespace is None and _impersonable(grant, "users") is None:
            steps = [Step("send requests as any user; none more powerful is bound in the input")]
            return steps, Power.CLUSTER, None
        if not candidates:
            return None
        power, target = max(candidates, key=lambda c: (c[0], str(c[1])))
        steps = [Step(f"send requests as {target}", str(target)), self._via_account(target, power)]
        return steps, power, str(target)

    def _bind_escalate(self, grant: Grant):
        # bind and escalate are checked against the kind of the role being bound or
        # written: on clusterroles they reach cluster-admin itself.
        cluster_roles = any(
            holds_request(grant, Request(verb, "clusterroles", "", RBAC_GROUP))
            for verb in ("bind", "escalate")
        )
        where = "cluster-wide" if grant.namespace is None else f"in {grant.namespace}"
        if cluster_roles:
            steps = [Step(f"bind ClusterRole cluster-admin to itself {where}")]
            power = Power.ADMIN if grant.namespace is None else Power.NAMESPACED
            return steps, power, "ClusterRole/cluster-admin"
        steps = [Step(f"write or bind a Role with every permission {where}")]
        power = Power.CLUSTER if grant.namespace is None else Power.NAMESPACED
        return steps, power, None

    def _nodes_proxy(self, grant: Grant):
        steps = [Step("call the kubelet API (/exec, /run) on any node through the API server")]
        ranked = [r for r in self._ranking("pods", None) if r[0] != grant.subject]
        if ranked and ranked[0][1] > Power.NONE:
            account, power = ranked[0]
            steps.append(
                Step("run a command in the pod and read its token", self._pods[account][0])
            )
            steps.append(self._via_account(account, power))
            # Every pod is reachable: the most powerful one illustrates, the gain is admin.
            return steps, Power.ADMIN, None
        steps.append(Step("run commands in every pod of every node"))
        return steps, Power.ADMIN, None

    def _csr_approve(self, grant: Grant):
        steps = [
            Step("submit a CertificateSigningRequest for an admin identity and approve it"),
            Step("authenticate with the issued client certificate"),
        ]
        return steps, Power.ADMIN, None

    def _webhook_write(self, grant: Grant):
        steps = [
            Step("register a mutating webhook for pods and secrets"),
            Step("read every admitted Secret and inject containers into new pods"),
        ]
        return steps, Power.CLUSTER, None

    def _pv_create(self, grant: Grant):
        steps = [
            Step("create a hostPath PersistentVolume of the node's root filesystem"),
            Step("claim and mount it in a pod (needs pod create) to read node credentials"),
        ]
        return steps, Power.CLUSTER, None


def _by_namespace(accounts: list[Subject]) -> dict[str, list[Subject]]:
    found: dict[str, list[Subject]] = {}
    for account in accounts:
        found.setdefault(account.namespace or "", []).append(account)
    return found


def _scope_power(grant: Grant) -> Power:
    return Power.CLUSTER if grant.namespace is None else Power.NAMESPACED


def _service_accounts(graph: RbacGraph, inventory: Inventory) -> list[Subject]:
    """Every service account known: declared, used by workloads, or named by bindings."""
    found = {
        Subject("ServiceAccount", sa.name, sa.namespace)
        for sa in inventory.of_kind("ServiceAccount", group="")
        if sa.namespace
    }
    found |= {
        Subject("ServiceAccount", w.service_account, w.namespace) for w in inventory.workloads
    }
    found |= {s for s in graph.by_subject if s.kind == "ServiceAccount"}
    return sorted(found)


def _pods_by_account(inventory: Inventory) -> dict[Subject, list[str]]:
    found: dict[Subject, list[str]] = {}
    for workload in inventory.workloads:
        account = Subject("ServiceAccount", workload.service_account, workload.namespace)
        found.setdefault(account, []).append(str(workload.resource.ref))
    return {account: sorted(pods) for account, pods in found.items()}


def _token_secrets(inventory: Inventory) -> list[tuple[str, Subject]]:
    found = []
    for secret in inventory.of_kind("Secret", group=""):
        if secret.obj.get("type") != TOKEN_SECRET_TYPE:
            continue
        account = secret.annotations.get(SA_NAME_ANNOTATION)
        if account and secret.namespace:
            subject = Subject("ServiceAccount", account, secret.namespace)
            found.append((str(secret.ref), subject))
    return sorted(found)
