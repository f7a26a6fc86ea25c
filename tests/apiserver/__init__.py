"""A loopback HTTPS stand-in for kube-apiserver, for end-to-end tests of live scans.

No real API server can be installed where these tests run, so this one serves real
manifests through the real REST paths (discovery, lists across and within namespaces,
paging with limit/continue, metadata-only lists, field selectors on Secret types) behind
bearer-token auth, and misbehaves on demand (401, 403, 404, 429, 500, slow answers). It
records every request so that tests can assert what the client asked for.
"""

from apiserver.server import ApiServer, Fault
from apiserver.store import Store

__all__ = ["ApiServer", "Fault", "Store"]
