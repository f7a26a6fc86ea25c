"""Service mesh analysis: which mesh carries each workload, and its effective mTLS modes.

Istio (sidecar and ambient), Linkerd and Cilium are read as their documentation
describes them; see the module of each for the rules it implements.
"""

from zt_audit.analysis.mesh.model import DataPlane, Mesh, Mode, PortMode, WorkloadMtls
from zt_audit.analysis.mesh.resolve import MeshAnalysis, workload_key

__all__ = ["DataPlane", "Mesh", "MeshAnalysis", "Mode", "PortMode", "WorkloadMtls", "workload_key"]
