"""``zt-audit who-can VERB RESOURCE``: every subject the RBAC authorizer would allow."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.table import Table

from zt_audit.analysis.rbac import Match, RbacGraph, Request
from zt_audit.analysis.rbac.defaults import RESOURCE_GROUPS
from zt_audit.cli.environment import Environment
from zt_audit.errors import UsageError
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import Inventory, load_inventory


@dataclass
class WhoCanRequest:
    verb: str
    resource: str
    paths: list[str]
    namespace: str | None = None
    name: str | None = None
    output_format: str = "table"


def parse_request(
    verb: str, resource: str, namespace: str | None, name: str | None, inventory: Inventory
) -> Request:
    """``pods/exec``, ``deployments.apps``, ``deployments.apps/scale``, ``*`` or ``/healthz``.

    Without an explicit group, a well-known resource takes its own group, a custom
    resource the group of its CustomResourceDefinition in the input, and ``*`` every group.
    """
    if not verb or not resource:
        raise UsageError("who-can needs a VERB and a RESOURCE")
    if resource.startswith("/"):
        return Request(verb, path=resource)
    base, _, subresource = resource.partition("/")
    plural, dot, group = base.partition(".")
    if not dot:
        group = _default_group(plural, inventory)
    return Request(verb, plural, subresource, group, name or "", namespace)


def _default_group(plural: str, inventory: Inventory) -> str:
    if plural == "*":
        return "*"
    if plural in RESOURCE_GROUPS:
        return RESOURCE_GROUPS[plural]
    for crd in inventory.of_kind("CustomResourceDefinition", group="apiextensions.k8s.io"):
        names = crd.spec.get("names")
        if isinstance(names, dict) and names.get("plural") == plural:
            group = crd.spec.get("group")
            if isinstance(group, str):
                return group
    return ""


def run_who_can(request: WhoCanRequest, env: Environment) -> int:
    if not request.paths:
        raise UsageError("no input: give manifest files or folders, or '-' for stdin")
    inventory = load_inventory(request.paths, stdin=env.stdin)
    for problem in inventory.errors:
        env.stderr.write(f"zt-audit: {problem}\n")
    query = parse_request(
        request.verb, request.resource, request.namespace, request.name, inventory
    )
    graph = RbacGraph(inventory)
    matches = graph.matches(query, any_namespace=request.namespace is None)

    for missing in graph.missing:
        env.stderr.write(
            f"zt-audit: warning: {missing.binding.ref} references {missing.role_kind} "
            f"{missing.role_name!r}, which is not in the input; it grants nothing here\n"
        )
    if request.output_format == "json":
        document = _document(query, matches)
        document["bindings_to_missing_roles"] = sorted(
            f"{m.binding.ref} -> {m.role_kind}/{m.role_name}" for m in graph.missing
        )
        env.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        _table(query, matches, _scope_text(query, graph), env)
    return ExitStatus.USAGE_ERROR if inventory.errors else ExitStatus.OK


def _scope_text(query: Request, graph: RbacGraph) -> str:
    if query.path is not None or graph.is_cluster_scoped(query.resource):
        return "cluster-wide"
    return f"namespace {query.namespace}" if query.namespace else "any namespace"


def _document(query: Request, matches: list[Match]) -> dict:
    return {
        "request": {
            "verb": query.verb,
            "resource": query.combined_resource if query.path is None else None,
            "apiGroup": query.api_group if query.path is None else None,
            "name": query.name or None,
            "namespace": query.namespace,
            "nonResourceURL": query.path,
        },
        "subjects": [match.as_dict() for match in matches],
    }


def _table(query: Request, matches: list[Match], scope: str, env: Environment) -> None:
    console = env.out
    if not matches:
        console.print(f"No subject may {query.describe()} ({scope}).")
        return
    table = Table(title=f"Who can {query.describe()} ({scope})")
    for column in ("SUBJECT", "SCOPE", "BINDING", "ROLE"):
        # Names are evidence: wrap them rather than cut them short.
        table.add_column(column, overflow="fold")
    for match in matches:
        grant = match.grant
        table.add_row(str(grant.subject), grant.scope, str(grant.binding.ref), grant.role.key)
    console.print(table)
