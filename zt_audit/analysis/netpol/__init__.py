"""NetworkPolicy analysis: who may connect to whom, as the network plugin decides it.

``NetworkEngine`` indexes the endpoints (workloads through their pod templates) and the
normalised policies of an inventory; ``connection`` answers one question with its
reasons, and the whole-cluster views feed checks, posture and the connectivity map.
"""

from zt_audit.analysis.netpol.engine import Connection, NetworkEngine
from zt_audit.analysis.netpol.model import EGRESS, INGRESS, Endpoint, Policy

__all__ = ["EGRESS", "INGRESS", "Connection", "Endpoint", "NetworkEngine", "Policy"]
