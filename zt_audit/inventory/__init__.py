"""The inventory layer: Kubernetes objects from files, streams or a cluster."""

from zt_audit.inventory.loader import load_inventory, load_text
from zt_audit.inventory.locate import FieldPath, Location, Origin, format_path
from zt_audit.inventory.model import InputProblem, Inventory, ObjectRef, Resource
from zt_audit.inventory.workloads import Container, Workload

__all__ = [
    "Container",
    "FieldPath",
    "InputProblem",
    "Inventory",
    "Location",
    "ObjectRef",
    "Origin",
    "Resource",
    "Workload",
    "format_path",
    "load_inventory",
    "load_text",
]
