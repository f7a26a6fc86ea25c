"""One API request with the manners a shared API server expects: bounded retries with
backoff on 429 and 5xx, honouring Retry-After, and answers mapped to zt-audit's errors."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from zt_audit.errors import SourceError
from zt_audit.sources.transport import Reply, Transport, TransportError

log = logging.getLogger(__name__)

JSON = "application/json"
# Names, labels and annotations only: the server never sends the objects' data.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

RETRYABLE = frozenset({429, 500, 502, 503, 504})
LOGGED_BODY_CHARS = 200  # API error bodies are truncated before they reach a log


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_wait: float = 0.5  # doubled after each failure, with jitter
    max_wait: float = 30.0  # also caps a server's Retry-After


class RequestFailed(Exception):
    """The API answered, but not with the list: ``status`` 0 means no answer at all."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def get_json(
    transport: Transport,
    path: str,
    query: list[tuple[str, str]] | None = None,
    *,
    accept: str = JSON,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """GET ``path`` and decode the JSON object it returns.

    401 raises SourceError (nothing else will work either); other failures raise
    RequestFailed once retries are spent, and the caller decides what it costs.
    """
    query = query or []
    retry = retry or RetryPolicy()
    for attempt in range(1, retry.attempts + 1):
        try:
            reply = transport.get(path, query, accept)
        except TransportError as error:
            failure = RequestFailed(0, str(error))
            wait = _backoff(retry, attempt)
        else:
            if 200 <= reply.status < 300:
                return _decode(reply, path)
            failure = _failure(reply, path, transport)
            if reply.status not in RETRYABLE:
                raise failure
            wait = _retry_after(reply, retry) or _backoff(retry, attempt)
        if attempt == retry.attempts:
            break
        log.info("GET %s: %s; retry %d in %.1fs", path, failure.reason, attempt, wait)
        time.sleep(wait)
    raise RequestFailed(failure.status, f"{failure.reason} (after {retry.attempts} attempts)")


def _decode(reply: Reply, path: str) -> dict[str, Any]:
    try:
        data = json.loads(reply.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestFailed(reply.status, f"GET {path}: answer is not JSON") from error
    except RecursionError as error:
        raise RequestFailed(reply.status, f"GET {path}: answer nested too deeply") from error
    if not isinstance(data, dict):
        raise RequestFailed(reply.status, f"GET {path}: answer is not a JSON object")
    return data


def _failure(reply: Reply, path: str, transport: Transport) -> RequestFailed:
    message = _status_message(reply.body)
    log.debug("GET %s: HTTP %d: %s", path, reply.status, message)
    if reply.status == 401:
        raise SourceError(
            f"{transport.server}: the credentials were rejected (401 Unauthorized); "
            "log in again or check the kubeconfig user"
        )
    names = {403: "forbidden", 404: "not found", 410: "expired", 429: "too many requests"}
    name = names.get(reply.status, "server error" if reply.status >= 500 else "refused")
    return RequestFailed(reply.status, f"HTTP {reply.status} {name}")


def _status_message(body: bytes) -> str:
    """The ``message`` of a Kubernetes Status, truncated: bodies can echo request data."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body[:LOGGED_BODY_CHARS].decode("utf-8", "replace")
    message = data.get("message") if isinstance(data, dict) else None
    return str(message)[:LOGGED_BODY_CHARS] if message else ""


def _retry_after(reply: Reply, retry: RetryPolicy) -> float | None:
    value = reply.headers.get("retry-after", "").strip()
    if not value.isdigit():
        return None  # an HTTP date or garbage: fall back to our own backoff
    return min(float(value), retry.max_wait)


def _backoff(retry: RetryPolicy, attempt: int) -> float:
    wait = min(retry.first_wait * 2 ** (attempt - 1), retry.max_wait)
    return wait * random.uniform(0.8, 1.2)  # spread concurrent retries apart
