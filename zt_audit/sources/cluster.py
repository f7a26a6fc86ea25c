"""The connection to a live cluster: the only module that imports ``kubernetes``.

It does two things: turn a kubeconfig (or the pod's own service account) into an
authenticated client, and send one GET. Everything else (discovery, paging, retries,
what to list) works on the small ``Transport`` interface so that it never needs the
client's types.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader

from zt_audit.errors import SourceError, UsageError
from zt_audit.sources.transport import Reply, TransportError

log = logging.getLogger(__name__)

DEFAULT_KUBECONFIG = "~/.kube/config"
# Where the kubelet mounts a pod's service-account token and the cluster's CA.
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class ConnectOptions:
    kubeconfig: Path | None = None
    context: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    workers: int = 4  # sized to the connection pool


class ClusterTransport:
    """GET requests through the official client, with its authentication and TLS."""

    def __init__(self, api: k8s_client.ApiClient, description: str, timeout: tuple[float, float]):
        self._api = api
        self._timeout = timeout
        self.description = description
        self.server = api.configuration.host

    def get(self, path: str, query: list[tuple[str, str]], accept: str) -> Reply:
        method, url, headers, _, _ = self._api.param_serialize(
            "GET",
            path,
            query_params=list(query),
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(method, url, headers, _request_timeout=self._timeout)
            body = response.read()
        except urllib3.exceptions.HTTPError as error:
            raise TransportError(_describe_network_error(error)) from error
        except ApiException as error:  # the client wraps TLS failures this way
            raise TransportError(f"TLS error ({_first_line(error.reason)})") from error
        except ConfigException as error:  # an exec plugin failed to refresh the token
            raise SourceError(f"credentials: {_first_line(str(error))}") from error
        headers = {str(k).lower(): str(v) for k, v in response.headers.items()}
        return Reply(response.status, headers, body or b"")

    def close(self) -> None:
        self._api.close()


def connect(options: ConnectOptions) -> ClusterTransport:
    """An authenticated transport for the chosen kubeconfig context, or the pod's identity.

    Raises SourceError (one line, no credentials) when there is nothing to connect with.
    """
    configuration = k8s_client.Configuration()
    kubeconfig = _kubeconfig_files(options.kubeconfig)
    if kubeconfig is not None:
        context = _load_kubeconfig(kubeconfig, options.context, configuration)
        description = f"context {context}"
    elif _in_cluster():
        if options.context:
            raise UsageError("--context needs a kubeconfig; none was found")
        loader = InClusterConfigLoader(
            token_filename=str(SERVICE_ACCOUNT / "token"),
            cert_filename=str(SERVICE_ACCOUNT / "ca.crt"),
        )
        try:
            loader.load_and_set(configuration)
        except ConfigException as error:
            raise SourceError(f"in-cluster configuration: {_first_line(str(error))}") from error
        description = "in-cluster service account"
    else:
        raise SourceError(
            "no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config) and not running "
            "in a pod: pass --kubeconfig FILE, or give manifest files to scan"
        )

    # Retries are ours (they honour Retry-After and are logged); the pool serves the workers.
    configuration.retries = False
    configuration.connection_pool_maxsize = max(1, options.workers)
    api = k8s_client.ApiClient(configuration)
    host = urlsplit(configuration.host).netloc or configuration.host
    timeout = (options.connect_timeout, options.read_timeout)
    return ClusterTransport(api, f"{description} ({host})", timeout)


def _kubeconfig_files(explicit: Path | None) -> str | None:
    """The kubeconfig path list to read, as kubectl chooses it, or None if there is none."""
    if explicit is not None:
        if not explicit.is_file():
            raise SourceError(f"{explicit}: no such kubeconfig file")
        return str(explicit)
    listed = os.environ.get("KUBECONFIG", "")
    paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    existing = [str(p) for p in paths if p.is_file()]
    if existing:
        return os.pathsep.join(existing)
    if not listed:
        default = Path(DEFAULT_KUBECONFIG).expanduser()
        if default.is_file():
            return str(default)
    return None


def _load_kubeconfig(files: str, context: str | None, configuration) -> str:
    try:
        contexts, active = k8s_config.list_kube_config_contexts(config_file=files)
        names = {item.get("name") for item in contexts if isinstance(item, dict)}
        if context is not None and context not in names:
            raise SourceError(f"{files}: no context named {context!r}")
        chosen = context or (active or {}).get("name") or "<none>"
        k8s_config.load_kube_config(
            config_file=files,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except ConfigException as error:
        raise SourceError(f"{files}: {_first_line(str(error))}") from error
    except (OSError, ValueError, TypeError, KeyError) as error:
        # A kubeconfig that is not YAML, or lacks required fields; the text is not echoed.
        raise SourceError(f"{files}: not a usable kubeconfig ({type(error).__name__})") from error
    return chosen


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT / "token").is_file()


def _describe_network_error(error: urllib3.exceptions.HTTPError) -> str:
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "timed out waiting for the response"
    # urllib3 makes NewConnectionError a ConnectTimeoutError: ask about it first.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "timed out connecting"
    if isinstance(error, urllib3.exceptions.SSLError):
        return "TLS error (check the cluster's certificate authority)"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "connection closed by the server"
    return type(error).__name__


def _first_line(text: object) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0][:200] if lines else "unknown error"
