"""What a standard cluster already contains, so that manifests are read in context.

Manifests often bind ``cluster-admin``, ``admin``, ``edit`` or ``view`` without
carrying those ClusterRoles, because every cluster creates them at start-up. Their rules
are supplied here (summarised from the "Default roles and role bindings" section of the
Kubernetes RBAC documentation) and used only when the input does not hold the role.
"""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.rbac.model import AUTHENTICATED, SA_GROUP, UNAUTHENTICATED

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]

_VIEW_CORE = [
    "bindings",
    "configmaps",
    "endpoints",
    "events",
    "limitranges",
    "namespaces",
    "namespaces/status",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "pods",
    "pods/log",
    "pods/status",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "replicationcontrollers/status",
    "resourcequotas",
    "resourcequotas/status",
    "serviceaccounts",
    "services",
    "services/status",
]
_APPS = [
    "controllerrevisions",
    "daemonsets",
    "daemonsets/status",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
    "replicasets/status",
    "statefulsets",
    "statefulsets/scale",
    "statefulsets/status",
]
_VIEW_OTHER: list[tuple[str, list[str]]] = [
    ("apps", _APPS),
    ("autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    ("batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    ("policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    ("networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"]),
    ("discovery.k8s.io", ["endpointslices"]),
]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def _urls(urls: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"nonResourceURLs": urls, "verbs": verbs}


def _view_rules() -> list[dict[str, Any]]:
    rules = [_rule([""], _VIEW_CORE, READ)]
    rules += [_rule([group], resources, READ) for group, resources in _VIEW_OTHER]
    return rules


def _edit_rules() -> list[dict[str, Any]]:
    writable_core = [
        "configmaps",
        "endpoints",
        "persistentvolumeclaims",
        "pods",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "secrets",
        "serviceaccounts",
        "services",
        "services/proxy",
    ]
    rules = [
        _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], ["create"]),
        _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], READ),
        _rule([""], ["secrets", "services/proxy"], READ),
        _rule([""], writable_core, WRITE),
        _rule([""], ["pods/eviction"], ["create"]),
        _rule([""], ["serviceaccounts/token"], ["create"]),
        _rule([""], ["serviceaccounts"], ["impersonate"]),
    ]
    rules += [
        _rule([group], [r for r in resources if not r.endswith("/status")], WRITE)
        for group, resources in _VIEW_OTHER
        if group != "discovery.k8s.io"
    ]
    return rules


def _admin_rules() -> list[dict[str, Any]]:
    return [
        _rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], [*READ, *WRITE]),
        _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    ]


DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
ISSUER_URLS = [
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/",
    "/openid/v1/jwks",
    "/openid/v1/jwks/",
]
SELF_REVIEWS = [
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
]

# name -> (rules, labels). The user-facing roles aggregate into each other: view into
# edit, edit into admin, as the RBAC documentation describes.
DEFAULT_CLUSTER_ROLES: dict[str, tuple[list[dict[str, Any]], dict[str, str]]] = {
    "cluster-admin": (
        [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])],
        {},
    ),
    "admin": (_admin_rules() + _edit_rules() + _view_rules(), {}),
    "edit": (
        _edit_rules() + _view_rules(),
        {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
    ),
    "view": (_view_rules(), {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
    "system:discovery": ([_urls(DISCOVERY_URLS, ["get"])], {}),
    "system:public-info-viewer": ([_urls(PUBLIC_INFO_URLS, ["get"])], {}),
    "system:basic-user": (
        [_rule([group], [resource], ["create"]) for group, resource in SELF_REVIEWS],
        {},
    ),
    "system:service-account-issuer-discovery": ([_urls(ISSUER_URLS, ["get"])], {}),
}

# The user-facing roles pick up every ClusterRole carrying these labels.
DEFAULT_AGGREGATION = {
    "admin": "rbac.authorization.k8s.io/aggregate-to-admin",
    "edit": "rbac.authorization.k8s.io/aggregate-to-edit",
    "view": "rbac.authorization.k8s.io/aggregate-to-view",
}

# The bindings every cluster creates for its broad groups; grants within these are the
# upstream defaults that IAM-05 accepts.
DEFAULT_BROAD_BINDINGS = {
    "system:discovery": (AUTHENTICATED,),
    "system:basic-user": (AUTHENTICATED,),
    "system:public-info-viewer": (AUTHENTICATED, UNAUTHENTICATED),
    "system:service-account-issuer-discovery": (SA_GROUP,),
}

# Groups that contain identities nobody chose one by one.
BROAD_GROUPS = frozenset({AUTHENTICATED, UNAUTHENTICATED, SA_GROUP})
ANONYMOUS_SUBJECTS = frozenset({UNAUTHENTICATED, "system:anonymous"})

# Bindings and roles a provider creates with its own prefix.
PLATFORM_PREFIXES = ("system:", "eks:", "gce:", "gke-", "aks-", "kubeadm:")

# Well-known resources of the built-in API groups, and whether they are cluster-scoped.
RESOURCE_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        [
            "pods",
            "services",
            "secrets",
            "configmaps",
            "serviceaccounts",
            "nodes",
            "namespaces",
            "persistentvolumes",
            "persistentvolumeclaims",
            "endpoints",
            "events",
            "limitranges",
            "resourcequotas",
            "replicationcontrollers",
            "componentstatuses",
            "bindings",
            "podtemplates",
        ],
        "",
    ),
    **dict.fromkeys(
        ["deployments", "daemonsets", "statefulsets", "replicasets", "controllerrevisions"],
        "apps",
    ),
    **dict.fromkeys(["jobs", "cronjobs"], "batch"),
    "horizontalpodautoscalers": "autoscaling",
    **dict.fromkeys(
        ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
        "rbac.authorization.k8s.io",
    ),
    **dict.fromkeys(["networkpolicies", "ingresses", "ingressclasses"], "networking.k8s.io"),
    "certificatesigningrequests": "certificates.k8s.io",
    **dict.fromkeys(
        [
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
        ],
        "admissionregistration.k8s.io",
    ),
    "customresourcedefinitions": "apiextensions.k8s.io",
    "apiservices": "apiregistration.k8s.io",
    **dict.fromkeys(["tokenreviews", "selfsubjectreviews"], "authentication.k8s.io"),
    **dict.fromkeys(
        [
            "subjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
            "localsubjectaccessreviews",
        ],
        "authorization.k8s.io",
    ),
    **dict.fromkeys(
        ["storageclasses", "volumeattachments", "csidrivers", "csinodes"], "storage.k8s.io"
    ),
    "poddisruptionbudgets": "policy",
    "podsecuritypolicies": "policy",
    "priorityclasses": "scheduling.k8s.io",
    "runtimeclasses": "node.k8s.io",
    "endpointslices": "discovery.k8s.io",
    "leases": "coordination.k8s.io",
    "signers": "certificates.k8s.io",
}

CLUSTER_SCOPED_RESOURCES = frozenset(
    {
        "nodes",
        "namespaces",
        "persistentvolumes",
        "componentstatuses",
        "clusterroles",
        "clusterrolebindings",
        "certificatesigningrequests",
        "signers",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "customresourcedefinitions",
        "apiservices",
        "tokenreviews",
        "selfsubjectreviews",
        "subjectaccessreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "storageclasses",
        "volumeattachments",
        "csidrivers",
        "csinodes",
        "ingressclasses",
        "podsecuritypolicies",
        "priorityclasses",
        "runtimeclasses",
        "flowschemas",
        "prioritylevelconfigurations",
        # impersonation targets are not namespaced either
        "users",
        "groups",
        "uids",
        "userextras",
    }
)
