"""zt-audit: how close is a Kubernetes cluster to zero trust, in numbers and with evidence."""

__version__ = "0.1.0"
