"""What zt-audit reads from a cluster: the API resources its checks use, and nothing else.

The same list drives API discovery, the collection, the keys under which a kind that
could not be listed is reported, and the ClusterRole in ``deploy/`` (a test keeps the two
in step). Custom resources are listed only when their API is served.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# Groups that every conformant API server serves; anything else is an add-on's API.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apps",
        "batch",
        "certificates.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
    }
)


@dataclass(frozen=True, order=True)
class ApiKind:
    """One API resource to list. ``resource`` is the plural; ``"*"`` means every
    resource of the group (Gatekeeper creates one kind per constraint template)."""

    group: str
    resource: str
    kind: str
    metadata_only: bool = False  # list as PartialObjectMetadata: never the object's data

    @property
    def builtin(self) -> bool:
        return self.group in BUILTIN_GROUPS

    @property
    def group_label(self) -> str:
        return self.group or "core"


def _kinds(group: str, *pairs: tuple[str, str]) -> list[ApiKind]:
    return [ApiKind(group, resource, kind) for resource, kind in pairs]


CATALOG: tuple[ApiKind, ...] = tuple(
    sorted(
        [
            *_kinds(
                "",
                ("namespaces", "Namespace"),
                ("nodes", "Node"),
                ("pods", "Pod"),
                ("services", "Service"),
                ("serviceaccounts", "ServiceAccount"),
                ("configmaps", "ConfigMap"),
                ("replicationcontrollers", "ReplicationController"),
            ),
            # Secrets are read as names, labels and annotations only.
            ApiKind("", "secrets", "Secret", metadata_only=True),
            *_kinds(
                "apps",
                ("deployments", "Deployment"),
                ("statefulsets", "StatefulSet"),
                ("daemonsets", "DaemonSet"),
                ("replicasets", "ReplicaSet"),
            ),
            *_kinds("batch", ("jobs", "Job"), ("cronjobs", "CronJob")),
            *_kinds(
                "networking.k8s.io",
                ("networkpolicies", "NetworkPolicy"),
                ("ingresses", "Ingress"),
                ("ingressclasses", "IngressClass"),
            ),
            *_kinds(
                "rbac.authorization.k8s.io",
                ("roles", "Role"),
                ("rolebindings", "RoleBinding"),
                ("clusterroles", "ClusterRole"),
                ("clusterrolebindings", "ClusterRoleBinding"),
            ),
            *_kinds(
                "admissionregistration.k8s.io",
                ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration"),
                ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration"),
                ("validatingadmissionpolicies", "ValidatingAdmissionPolicy"),
                ("validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding"),
            ),
            *_kinds("node.k8s.io", ("runtimeclasses", "RuntimeClass")),
            *_kinds(
                "certificates.k8s.io",
                ("certificatesigningrequests", "CertificateSigningRequest"),
            ),
            # Which add-ons are installed; their (large) schemas are dropped on collection.
            *_kinds(
                "apiextensions.k8s.io", ("customresourcedefinitions", "CustomResourceDefinition")
            ),
            *_kinds(
                "gateway.networking.k8s.io",
                ("gateways", "Gateway"),
                ("gatewayclasses", "GatewayClass"),
                ("httproutes", "HTTPRoute"),
                ("grpcroutes", "GRPCRoute"),
            ),
            *_kinds(
                "security.istio.io",
                ("peerauthentications", "PeerAuthentication"),
                ("authorizationpolicies", "AuthorizationPolicy"),
                ("requestauthentications", "RequestAuthentication"),
            ),
            *_kinds(
                "networking.istio.io",
                ("destinationrules", "DestinationRule"),
                ("gateways", "Gateway"),
            ),
            *_kinds("install.istio.io", ("istiooperators", "IstioOperator")),
            *_kinds(
                "policy.linkerd.io",
                ("servers", "Server"),
                ("serverauthorizations", "ServerAuthorization"),
                ("authorizationpolicies", "AuthorizationPolicy"),
                ("meshtlsauthentications", "MeshTLSAuthentication"),
                ("networkauthentications", "NetworkAuthentication"),
            ),
            *_kinds(
                "cilium.io",
                ("ciliumnetworkpolicies", "CiliumNetworkPolicy"),
                ("ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy"),
                ("tracingpolicies", "TracingPolicy"),
                ("tracingpoliciesnamespaced", "TracingPolicyNamespaced"),
            ),
            *_kinds(
                "policy.networking.k8s.io",
                ("adminnetworkpolicies", "AdminNetworkPolicy"),
                ("baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy"),
            ),
            *_kinds(
                "crd.projectcalico.org",
                ("networkpolicies", "NetworkPolicy"),
                ("globalnetworkpolicies", "GlobalNetworkPolicy"),
            ),
            *_kinds(
                "projectcalico.org",
                ("networkpolicies", "NetworkPolicy"),
                ("globalnetworkpolicies", "GlobalNetworkPolicy"),
            ),
            *_kinds("kyverno.io", ("clusterpolicies", "ClusterPolicy"), ("policies", "Policy")),
            *_kinds("policies.kyverno.io", ("imagevalidatingpolicies", "ImageValidatingPolicy")),
            *_kinds("templates.gatekeeper.sh", ("constrainttemplates", "ConstraintTemplate")),
            ApiKind("constraints.gatekeeper.sh", "*", "*"),
            *_kinds("config.gatekeeper.sh", ("configs", "Config")),
            *_kinds("policy.sigstore.dev", ("clusterimagepolicies", "ClusterImagePolicy")),
            *_kinds(
                "aquasecurity.github.io",
                ("vulnerabilityreports", "VulnerabilityReport"),
                ("configauditreports", "ConfigAuditReport"),
                ("exposedsecretreports", "ExposedSecretReport"),
                ("sbomreports", "SbomReport"),
                ("clustersbomreports", "ClusterSbomReport"),
            ),
            *_kinds(
                "spdx.softwarecomposition.kubescape.io",
                ("vulnerabilitymanifests", "VulnerabilityManifest"),
            ),
            *_kinds(
                "wgpolicyk8s.io",
                ("policyreports", "PolicyReport"),
                ("clusterpolicyreports", "ClusterPolicyReport"),
            ),
            *_kinds(
                "security.kubearmor.com",
                ("kubearmorpolicies", "KubeArmorPolicy"),
                ("kubearmorclusterpolicies", "KubeArmorClusterPolicy"),
                ("kubearmorhostpolicies", "KubeArmorHostPolicy"),
            ),
            *_kinds(
                "neuvector.com",
                ("nvsecurityrules", "NvSecurityRule"),
                ("nvclustersecurityrules", "NvClusterSecurityRule"),
            ),
            *_kinds(
                "external-secrets.io",
                ("externalsecrets", "ExternalSecret"),
                ("secretstores", "SecretStore"),
                ("clustersecretstores", "ClusterSecretStore"),
            ),
            *_kinds("secrets-store.csi.x-k8s.io", ("secretproviderclasses", "SecretProviderClass")),
            *_kinds("bitnami.com", ("sealedsecrets", "SealedSecret")),
            *_kinds(
                "cert-manager.io",
                ("certificates", "Certificate"),
                ("issuers", "Issuer"),
                ("clusterissuers", "ClusterIssuer"),
            ),
            *_kinds(
                "argoproj.io",
                ("applications", "Application"),
                ("applicationsets", "ApplicationSet"),
            ),
            *_kinds("kustomize.toolkit.fluxcd.io", ("kustomizations", "Kustomization")),
            *_kinds("helm.toolkit.fluxcd.io", ("helmreleases", "HelmRelease")),
            *_kinds("logging.banzaicloud.io", ("clusteroutputs", "ClusterOutput")),
        ]
    )
)

_KIND_NAMES = Counter(entry.kind for entry in CATALOG)


def evidence_key(group: str, kind: str) -> str:
    """The name under which one API's kind is reported when it cannot be collected.

    Where several APIs use the same kind name (NetworkPolicy in Kubernetes and Calico,
    AuthorizationPolicy in Istio and Linkerd), each add-on's is qualified with its group
    (``NetworkPolicy.crd.projectcalico.org``); ``bare_names`` then decides what the bare
    name, which checks ask about, reports.
    """
    if group in BUILTIN_GROUPS or _KIND_NAMES.get(kind, 0) <= 1:
        return kind
    return f"{kind}.{group}"


def bare_names(not_collected: dict[str, str], missing: set[str]) -> tuple[dict[str, str], set[str]]:
    """Add the bare kind names that checks ask about, conservatively.

    A kind is not collected if any API serving that name could not be listed: a check
    cannot know it saw every AuthorizationPolicy when Linkerd's were refused. It is absent
    only when every API serving that name is absent.
    """
    collected = dict(not_collected)
    for key, reason in not_collected.items():
        kind, _, group = key.partition(".")
        if group:
            collected.setdefault(kind, f"{reason} ({group})")
    absent = set(missing)
    for kind, count in _KIND_NAMES.items():
        providers = {evidence_key(e.group, e.kind) for e in CATALOG if e.kind == kind}
        if count > 1 and kind not in providers and providers <= missing:
            absent.add(kind)
    return dict(sorted(collected.items())), absent


def permission(group: str, resource: str, namespace: str | None) -> str:
    """The RBAC rule that would let the list succeed, in words."""
    where = f'in namespace "{namespace}"' if namespace else "cluster-wide"
    return f'missing RBAC permission: list "{resource}" in API group "{group}" {where}'
