"""What the cluster's network plugin and cloud are, from the objects that run them.

The network plugin is recognised by its DaemonSet (name, container names and images):
a NetworkPolicy only takes effect when the plugin enforces it. The cloud is read from
Node ``providerID`` and well-known node labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from zt_audit.inventory import Inventory, Resource, Workload

# (plugin, words looked for in DaemonSet names, container names and images)
ENFORCING = (
    ("Calico", ("calico-node", "calico/node", "canal")),
    ("Cilium", ("cilium-agent", "cilium/cilium", "anetd")),
    ("Antrea", ("antrea-agent", "antrea/antrea")),
    ("kube-router", ("kube-router",)),
    ("Weave Net", ("weave-npc",)),
    ("Azure NPM", ("azure-npm",)),
    ("kube-network-policies", ("kube-network-policies",)),
)
NON_ENFORCING = (
    ("Flannel", ("kube-flannel", "flannel")),
    ("AWS VPC CNI", ("aws-node", "amazon-k8s-cni")),
    ("kindnet", ("kindnet",)),
    ("Azure CNI", ("azure-cns", "azure-cni")),
)
AWS_POLICY_AGENT = "aws-network-policy-agent"
CLOUD_PROVIDER_PREFIXES = {
    "aws://": "aws",
    "gce://": "gcp",
    "azure://": "azure",
    "alicloud://": "alibaba",
    "openstack://": "openstack",
    "oci://": "oracle",
}
CLOUD_NODE_LABELS = {
    "eks.amazonaws.com/nodegroup": "aws",
    "cloud.google.com/gke-nodepool": "gcp",
    "kubernetes.azure.com/cluster": "azure",
}


@dataclass(frozen=True)
class Plugin:
    name: str
    enforcing: bool
    resource: Resource
    note: str = ""


def _words(workload: Workload) -> list[str]:
    words = [workload.name.lower()]
    for container in workload.containers():
        words.append(container.name.lower())
        if container.image:
            words.append(container.image.lower())
    return words


def _cilium(words: list[str]) -> bool:
    return any(w == "cilium" or "cilium/cilium" in w or w == "anetd" for w in words)


def _aws_agent_enabled(workload: Workload) -> bool | None:
    """None without the agent; otherwise whether its --enable-network-policy is true."""
    for container in workload.containers():
        if AWS_POLICY_AGENT in container.name or AWS_POLICY_AGENT in (container.image or ""):
            args = container.spec.get("args")
            args = [a for a in args if isinstance(a, str)] if isinstance(args, list) else []
            return any(a.replace(" ", "=") == "--enable-network-policy=true" for a in args)
    return None


def network_plugins(inventory: Inventory) -> list[Plugin]:
    """Every recognised network plugin DaemonSet, enforcing ones first."""
    found: list[Plugin] = []
    for workload in inventory.workloads:
        if workload.kind != "DaemonSet":
            continue
        words = _words(workload)
        if workload.name == "aws-node" or any("amazon-k8s-cni" in w for w in words):
            agent = _aws_agent_enabled(workload)
            if agent:
                found.append(
                    Plugin("AWS VPC CNI with network policy agent", True, workload.resource)
                )
                continue
            note = "the network policy agent is not enabled" if agent is False else ""
            found.append(Plugin("AWS VPC CNI", False, workload.resource, note))
            continue
        plugin = _match(words)
        if plugin is not None:
            found.append(Plugin(plugin[0], plugin[1], workload.resource))
    found.sort(key=lambda p: (not p.enforcing, p.name, str(p.resource.ref)))
    return found


def _match(words: list[str]) -> tuple[str, bool] | None:
    if _cilium(words):
        return "Cilium", True
    for table, enforcing in ((ENFORCING, True), (NON_ENFORCING, False)):
        for name, needles in table:
            if any(needle in word for word in words for needle in needles):
                return name, enforcing
    return None


def cloud_provider(inventory: Inventory) -> str | None:
    """'aws', 'gcp', 'azure', ..., 'none' for nodes of no known cloud, None without nodes."""
    nodes = inventory.of_kind("Node", group="")
    if not nodes:
        return None
    for node in nodes:
        provider = node.spec.get("providerID")
        if isinstance(provider, str):
            for prefix, cloud in CLOUD_PROVIDER_PREFIXES.items():
                if provider.startswith(prefix):
                    return cloud
        for label, cloud in CLOUD_NODE_LABELS.items():
            if label in node.labels:
                return cloud
    return "none"
