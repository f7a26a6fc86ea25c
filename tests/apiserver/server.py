"""The HTTPS server: real REST paths over a Store, with faults injected on demand."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from apiserver.certs import self_signed
from apiserver.resources import SUBRESOURCES, Resource
from apiserver.store import Store

METADATA_LIST = "as=PartialObjectMetadataList"
METADATA_ITEM = "as=PartialObjectMetadata"


@dataclass
class Fault:
    """Misbehave on requests whose path matches ``path`` (a regular expression).

    ``status`` None answers normally after ``delay`` seconds; ``times`` None is forever.
    """

    path: str
    status: int | None = None
    times: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    body: bytes | None = None  # with status 200: this body instead of the real answer


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    accept: str
    authorized: bool
    at: float


@dataclass
class ApiServer:
    store: Store
    workdir: Path
    token: str = "zt-audit-test-token-5f1c2e"
    faults: list[Fault] = field(default_factory=list)
    # (group, plural, namespace or None for every scope) the token may not read.
    forbidden: set[tuple[str, str, str | None]] = field(default_factory=set)
    # A user bound only inside one namespace (a RoleBinding to "view"): everything outside
    # it is refused, the Namespace object itself included only by name.
    only_namespace: str | None = None
    requests: list[Request] = field(default_factory=list)

    def start(self) -> ApiServer:
        cert, key = self_signed(self.workdir)
        self.ca_pem = cert.read_text()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if re.search(fault.path, path) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_to(self, pattern: str) -> list[Request]:
        return [r for r in self.requests if re.search(pattern, r.path)]


def _handler(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            accept = self.headers.get("Accept", "")
            scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
            authorized = scheme.lower() == "bearer" and credential == server.token
            server.record(Request(parts.path, query, accept, authorized, time.monotonic()))
            # The client may have given up already (a timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self._answer(parts.path, query, accept, authorized)

        def _answer(self, path: str, query: dict[str, str], accept: str, authorized: bool):
            fault = server.fault(path)
            if fault is not None:
                time.sleep(fault.delay)
                if fault.body is not None:
                    return self._send_raw(fault.status or 200, fault.body)
                if fault.status is not None:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                    return self._status(fault.status, "injected fault", headers)
            if not authorized:
                return self._status(401, "Unauthorized")
            status, body = route(server, path, query, accept)
            if status != 200:
                return self._status(status, body)
            self._send(200, body)

        def _status(self, code: int, message: str, headers: dict[str, str] | None = None):
            reason = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}.get(code, "")
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason or "InternalError",
                "code": code,
            }
            self._send(code, body, headers or {})

        def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
            self._send_raw(code, json.dumps(body).encode(), headers)

        def _send_raw(self, code: int, data: bytes, headers: dict[str, str] | None = None):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def route(server: ApiServer, path: str, query: dict[str, str], accept: str) -> tuple[int, Any]:
    store = server.store
    if path == "/version":
        major, minor = store.version.lstrip("v").split(".")[:2]
        return 200, {"major": major, "minor": minor, "gitVersion": store.version}
    if path == "/api":
        return 200, {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        return 200, _group_list(store)
    segments = [s for s in path.split("/") if s]
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return 404, f"the server could not find the requested resource ({path})"
    if not rest:
        return _resource_list(store, group, version)
    return _objects(server, group, version, rest, query, accept)


def _group_list(store: Store) -> dict[str, Any]:
    groups = []
    for name, versions in store.groups().items():
        if not name:
            continue
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        groups.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_list(store: Store, group: str, version: str) -> tuple[int, Any]:
    served = [r for r in store.resources if (r.group, r.version) == (group, version)]
    if not served:
        return 404, "the server could not find the requested resource"
    resources = [
        {
            "name": r.plural,
            "singularName": r.kind.lower(),
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        for r in served
    ]
    plurals = {r.plural for r in served}
    for sub in SUBRESOURCES:
        if sub.split("/")[0] in plurals:
            resources.append({"name": sub, "namespaced": True, "kind": "Status", "verbs": ["get"]})
    group_version = f"{group}/{version}" if group else version
    return 200, {"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}


def _objects(
    server: ApiServer,
    group: str,
    version: str,
    rest: list[str],
    query: dict[str, str],
    accept: str,
) -> tuple[int, Any]:
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    plural, name = rest[0], rest[1] if len(rest) > 1 else None
    resource = server.store.lookup(group, version, plural)
    if resource is None or len(rest) > 2:
        return 404, "the server could not find the requested resource"
    if server.only_namespace is not None:
        own = namespace == server.only_namespace or (
            (group, plural, name) == ("", "namespaces", server.only_namespace)
        )
        if not own:
            return 403, f'{plural} is forbidden: User "dev@example.com" cannot list it here'
    for rule_group, rule_plural, rule_ns in server.forbidden:
        if (rule_group, rule_plural) == (group, plural) and rule_ns in (None, namespace):
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            return 403, (
                f'{plural} is forbidden: User "system:serviceaccount:audit:zt-audit" cannot '
                f'list resource "{plural}" in API group "{group}" {scope}'
            )
    items = server.store.items(resource, namespace if resource.namespaced else None)
    if name is not None:
        found = [o for o in items if o["metadata"]["name"] == name]
        if not found:
            return 404, f'{plural} "{name}" not found'
        return 200, _item(found[0], resource, accept, single=True)
    items = [o for o in items if _selected(o, query.get("fieldSelector", ""))]
    return 200, _page(items, resource, query, accept)


def _selected(obj: dict[str, Any], selector: str) -> bool:
    """Field selectors as the API server applies them: comma means and."""
    for term in filter(None, selector.split(",")):
        negate = "!=" in term
        field_name, value = re.split(r"!=|==|=", term, maxsplit=1)
        actual = obj.get("type") if field_name == "type" else obj["metadata"].get(field_name[9:])
        if (actual == value) == negate:
            return False
    return True


def _page(items: list[dict[str, Any]], resource: Resource, query: dict[str, str], accept: str):
    start = 0
    if "continue" in query:
        start = json.loads(base64.urlsafe_b64decode(query["continue"]))["start"]
    limit = int(query.get("limit") or 0) or len(items) or 1
    page, more = items[start : start + limit], start + limit < len(items)
    metadata: dict[str, Any] = {"resourceVersion": "4242"}
    if more:
        token = json.dumps({"start": start + limit, "rv": 4242}).encode()
        metadata["continue"] = base64.urlsafe_b64encode(token).decode()
        metadata["remainingItemCount"] = len(items) - start - limit
    if METADATA_LIST in accept:
        kind, api_version = "PartialObjectMetadataList", "meta.k8s.io/v1"
    else:
        kind, api_version = f"{resource.kind}List", resource.group_version
    entries = [_item(o, resource, accept, single=False) for o in page]
    return {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": entries}


def _item(obj: dict[str, Any], resource: Resource, accept: str, *, single: bool):
    if METADATA_LIST in accept or METADATA_ITEM in accept:
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    body = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
    if single:  # a single GET names its kind; list items do not
        return {"kind": resource.kind, "apiVersion": resource.group_version, **body}
    return body
