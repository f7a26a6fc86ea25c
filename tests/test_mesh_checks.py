"""MTLS-01 to MTLS-07 and NET-07 on real manifests, with their exact findings."""

from __future__ import annotations

import pytest
from conftest import CORPORA, FIXTURES, result_of, scan_files

from zt_audit.engine.model import Stage, Status

MESH = FIXTURES / "mesh"
KYVERNO = MESH / "kyverno"
ISTIO_COMPANION = MESH / "kyverno-istio-companion.yaml"
LINKERD_COMPANION = MESH / "kyverno-linkerd-companion.yaml"
CHECKOV = CORPORA / "checkov-controlplane" / "tests" / "kubernetes" / "checks"
MESH_CHECKS = ("MTLS-01", "MTLS-02", "MTLS-03", "MTLS-04", "MTLS-05", "MTLS-06", "MTLS-07")


def findings(outcome, check_id):
    return [
        (f.status.value, f.location.line if f.location else None, f.field, f.message)
        for f in result_of(outcome, check_id).findings
    ]


def status(outcome, check_id):
    return result_of(outcome, check_id).status


@pytest.fixture(scope="module")
def shop():
    return scan_files(MESH / "istio-shop.yaml")


@pytest.fixture(scope="module")
def emojivoto():
    return scan_files(MESH / "linkerd-emojivoto.yaml")


class TestIstioShop:
    def test_coverage_counts_meshed_workloads(self, shop):
        result = result_of(shop, "MTLS-01")
        assert result.status is Status.WARN
        assert result.reason == "3 of 4 workloads in a mesh (75%)"
        assert findings(shop, "MTLS-01") == [
            (
                "warn",
                232,
                "spec.template.spec",
                "Deployment legacy/legacy-api is outside any mesh",
            )
        ]
        assert result.facts["mesh_coverage"] == {
            "mutually_authenticated": 1,
            "workloads": 4,
            "ratio": 0.25,
        }
        assert result.facts["meshes"] == {"istio": 2, "istio-ambient": 1}
        assert result.stage_scores == {Stage.INITIAL: 1.0, Stage.ADVANCED: 0.75}

    def test_peer_authentication_resolves_ports(self, shop):
        result = result_of(shop, "MTLS-02")
        assert result.status is Status.FAIL
        assert result.reason == "2 of 4 Istio workload ports are not STRICT"
        assert findings(shop, "MTLS-02") == [
            (
                "fail",
                298,
                "spec.mtls.mode",
                "CronJob batch/report-gen port 8080: PERMISSIVE (PeerAuthentication/batch/"
                "default (namespace-wide): mtls.mode=DISABLE; DISABLE is not supported in "
                "ambient mode: ztunnel accepts plaintext too)",
            ),
            (
                "fail",
                130,
                "spec.portLevelMtls.9090.mode",
                "Deployment shop/cart port 9090/metrics: PERMISSIVE (PeerAuthentication/shop/"
                "cart-metrics (workload): portLevelMtls[9090].mode=PERMISSIVE)",
            ),
        ]
        assert result.facts["modes"] == {"PERMISSIVE": 2, "STRICT": 2}
        assert result.facts["workload_cert_ttl"] == "24h (Istio default)"

    def test_destination_rule_disable_toward_meshed_host(self, shop):
        assert status(shop, "MTLS-03") is Status.FAIL
        assert findings(shop, "MTLS-03") == [
            (
                "fail",
                141,
                "spec.trafficPolicy.tls.mode",
                "DestinationRule/shop/cart sets tls.mode=DISABLE (all ports) toward cart, "
                "served by meshed Deployment/shop/cart",
            )
        ]

    def test_plain_ingress_fails_redirected_gateway_passes(self, shop):
        assert status(shop, "MTLS-06") is Status.FAIL
        assert findings(shop, "MTLS-06") == [
            (
                "fail",
                256,
                "spec",
                "Ingress/legacy/legacy-api: has no spec.tls, so it is served over HTTP",
            )
        ]

    def test_allow_everyone_rule_fails_identity_authz(self, shop):
        result = result_of(shop, "NET-07")
        assert result.status is Status.FAIL
        assert result.facts["postures"] == {"allow-all": 1, "identity": 2}
        assert findings(shop, "NET-07") == [
            (
                "fail",
                308,
                "spec.rules[0]",
                "CronJob batch/report-gen: AuthorizationPolicy/batch/allow-all: rule 0 is "
                "empty and allows every request",
            )
        ]

    def test_other_meshes_do_not_apply(self, shop):
        assert status(shop, "MTLS-04") is Status.NOT_APPLICABLE
        assert status(shop, "MTLS-05") is Status.NOT_APPLICABLE
        assert status(shop, "MTLS-07") is Status.NOT_OBSERVABLE


class TestLinkerd:
    def test_skipped_port_fails_default_policy_warns(self, emojivoto):
        assert status(emojivoto, "MTLS-04") is Status.FAIL
        assert findings(emojivoto, "MTLS-04") == [
            (
                "fail",
                65,
                "spec.template.metadata.annotations.config.linkerd.io/skip-inbound-ports",
                "Deployment emojivoto/emoji port 8801/prom: DISABLE (Deployment/emojivoto/"
                "emoji: config.linkerd.io/skip-inbound-ports=8801)",
            ),
            (
                "warn",
                10,
                "data.values",
                "Deployment booksapp/authors port 7001/service: PERMISSIVE (ConfigMap/linkerd/"
                "linkerd-config: proxy.defaultInboundPolicy=all-unauthenticated)",
            ),
        ]

    def test_server_with_mesh_identities(self, emojivoto):
        result = result_of(emojivoto, "NET-07")
        assert result.status is Status.FAIL
        assert result.facts["postures"] == {"any-identity": 1, "open": 1, "partial": 1}
        assert [f[3] for f in findings(emojivoto, "NET-07")] == [
            "Deployment booksapp/authors accepts any caller (no deny-by-default policy)",
            "Deployment emojivoto/emoji allows some callers without naming their identity",
            "Deployment emojivoto/web admits any mesh identity, not an allow-list",
        ]

    def test_coverage_and_mutual_authentication(self, emojivoto):
        result = result_of(emojivoto, "MTLS-01")
        assert result.status is Status.PASS
        assert result.facts["mesh_coverage"]["mutually_authenticated"] == 1


def test_mesh_control_plane_is_not_counted_as_uncovered():
    outcome = scan_files(MESH / "istio-shop.yaml", MESH / "istio-control-plane.yaml")
    result = result_of(outcome, "MTLS-01")
    assert result.reason == "4 of 5 workloads in a mesh (80%)"
    assert result.facts["mesh_infrastructure_excluded"] == [
        "DaemonSet istio-system/ztunnel",
        "Deployment istio-system/istiod",
    ]
    # istiod's DEFAULT_WORKLOAD_CERT_TTL sets the lifetime of workload certificates.
    peer = result_of(outcome, "MTLS-02")
    assert peer.facts["workload_cert_ttl"] == "12h"
    # The ingress gateway is meshed, but its listeners are MTLS-06's business.
    assert peer.reason == "2 of 4 Istio workload ports are not STRICT"
    gateway = next(w for w in outcome_workloads(outcome) if w["name"] == "istio-ingressgateway")
    assert gateway["mtls"]["mesh"] == "istio"
    assert gateway["mtls"]["data_plane"] == "verified"
    assert gateway["mtls"]["notes"] == [
        "Istio gateway: its external listeners follow Gateway TLS settings"
    ]


def test_running_pods_verify_or_contradict_injection():
    outcome = scan_files(MESH / "live-export.yaml")
    posture = {w["name"]: w["mtls"] for w in outcome_workloads(outcome)}
    assert posture["orders"]["data_plane"] == "verified"
    assert posture["orders"]["decided_by"] == [
        "1 running pod(s) run istio-proxy, e.g. Pod/store/orders-7c9d8b6f5-x2k4p"
    ]
    assert posture["billing"]["data_plane"] == "missing"
    assert posture["billing"]["mode"] == "none"
    result = result_of(outcome, "MTLS-01")
    assert result.reason == "1 of 2 workloads in a mesh (50%)"
    assert findings(outcome, "MTLS-01") == [
        (
            "warn",
            104,
            "spec.template.spec",
            "Deployment store/billing asks for a sidecar, but running pods without "
            "istio-proxy: billing-55f6d7c8b9-lq8vn",
        )
    ]


def test_cilium_wireguard_without_mutual_auth():
    outcome = scan_files(MESH / "cilium-wireguard.yaml")
    result = result_of(outcome, "MTLS-05")
    assert result.status is Status.WARN
    assert result.facts == {"ipsec": False, "mutual_auth": False, "wireguard": True}
    assert findings(outcome, "MTLS-05") == [
        (
            "warn",
            8,
            "data",
            "ConfigMap/kube-system/cilium-config: wireguard encryption without mutual "
            "authentication",
        ),
        (
            "warn",
            52,
            "spec.ingress[0].authentication.mode",
            "CiliumNetworkPolicy/payments/ledger-ingress requires authentication, but mutual "
            "auth is not enabled",
        ),
    ]
    assert status(outcome, "MTLS-01") is Status.FAIL


class TestCorpora:
    """Upstream samples: no PeerAuthentication anywhere, so Istio's default PERMISSIVE."""

    def test_bookinfo_in_an_injected_namespace_is_permissive(self):
        bookinfo = CORPORA / "istio-samples" / "samples" / "bookinfo"
        outcome = scan_files(
            bookinfo / "platform" / "kube" / "bookinfo.yaml",
            bookinfo / "networking" / "bookinfo-gateway.yaml",
            bookinfo / "networking" / "destination-rule-all-mtls.yaml",
            ISTIO_COMPANION,
        )
        posture = {
            w["name"]: w["mtls"]
            for w in outcome_workloads(outcome)
            if w["namespace"] == "default" and w["kind"] == "Deployment"
        }
        bookinfo_names = {
            "details-v1",
            "productpage-v1",
            "ratings-v1",
            "reviews-v1",
            "reviews-v2",
            "reviews-v3",
        }
        assert bookinfo_names <= set(posture)
        for name in bookinfo_names:
            assert posture[name]["mesh"] == "istio"
            assert [(p["port"], p["mode"]) for p in posture[name]["ports"]] == [
                ("9080", "PERMISSIVE")
            ]
        assert status(outcome, "MTLS-03") is Status.PASS  # every rule is ISTIO_MUTUAL
        peer = result_of(outcome, "MTLS-02")
        assert peer.hint == (
            "include PeerAuthentication objects of every namespace, or pass "
            "--bundle-is-complete if there are none"
        )
        assert [f[3] for f in findings(outcome, "MTLS-06")] == [
            "Gateway/default/bookinfo-gateway: server http serves HTTP without tls.httpsRedirect"
        ]

    def test_bookinfo_without_namespace_is_not_observable(self):
        outcome = scan_files(CORPORA / "istio-samples/samples/bookinfo/platform/kube/bookinfo.yaml")
        result = result_of(outcome, "MTLS-01")
        assert result.status is Status.NOT_OBSERVABLE
        assert result.hint == "include the Namespace objects (their labels decide mesh injection)"

    def test_microservices_demo_istio_variant(self):
        rendered = CORPORA / "microservices-demo/_derived/rendered-base+service-mesh-istio.yaml"
        outcome = scan_files(rendered, MESH / "namespace-default-injected.yaml")
        modes = {w["name"]: w["mtls"]["mode"] for w in outcome_workloads(outcome)}
        assert len(modes) == 12  # eleven services and the load generator
        assert set(modes.values()) == {"PERMISSIVE"}
        assert result_of(outcome, "MTLS-01").status is Status.PASS
        assert result_of(outcome, "MTLS-02").status is Status.FAIL
        assert [f[3] for f in findings(outcome, "MTLS-06")] == [
            "Gateway/default/istio-gateway: listener http serves HTTP without an HTTPS redirect"
        ]


def outcome_workloads(outcome):
    from zt_audit.report.posture import workload_posture

    return workload_posture(outcome.context)


class TestKyvernoResources:
    """kyverno/policies test resources. Where kyverno's verdict differs, the docs win."""

    def test_injection_namespaces(self):
        files = sorted((KYVERNO / "istio").glob("enforce-*-namespace-ns-*.yaml"))
        outcome = scan_files(*files, ISTIO_COMPANION)
        meshes = {
            w["namespace"]: w["mtls"]["mesh"]
            for w in outcome_workloads(outcome)
            if w["name"] == "app"
        }
        assert meshes == {
            "bad-istio-amb01": None,  # dataplane-mode "other" is not ambient
            "bad-istio-sinj01": None,
            "bad-istio-sinj02": None,
            "bad-istio-sinj03": None,
            "good-istio-amb01": "istio-ambient",
            "good-istio-amb02": "istio-ambient",
            "good-istio-sinj01": "istio",
            "good-istio-sinj02": "istio",
        }

    def test_bad_peer_authentications(self):
        outcome = scan_files(KYVERNO / "istio" / "enforce-strict-mtls-pa-bad.yaml", ISTIO_COMPANION)
        assert status(outcome, "MTLS-02") is Status.FAIL
        messages = [f[3] for f in findings(outcome, "MTLS-02") if "default/" in f[3]]
        assert messages == [
            "Deployment default/web port 8080: PERMISSIVE (PeerAuthentication/default/pa-bad01 "
            "(namespace-wide): mtls.mode=PERMISSIVE)",
            "PeerAuthentication/default/pa-bad02 is ignored: PeerAuthentication/default/pa-bad01 "
            "is the older namespace-level PeerAuthentication",
            "Deployment default/finance port 8080: DISABLE (PeerAuthentication/default/pa-bad03 "
            "(workload): mtls.mode=DISABLE)",
        ]

    def test_good_peer_authentications_compete(self):
        """kyverno accepts each alone; together only the oldest counts, so MTLS-02 warns."""
        outcome = scan_files(
            KYVERNO / "istio" / "enforce-strict-mtls-pa-good.yaml", ISTIO_COMPANION
        )
        web = next(w for w in outcome_workloads(outcome) if w["name"] == "web")
        assert web["mtls"]["mode"] == "STRICT"
        ignored = [f[3] for f in findings(outcome, "MTLS-02") if "is ignored" in f[3]]
        assert len(ignored) == 3  # good-pa04 is alone at the workload level

    def test_destination_rules_toward_meshed_ratings(self):
        outcome = scan_files(
            KYVERNO / "istio" / "enforce-tls-hosts-host-subnets-dr-bad.yaml",
            KYVERNO / "istio" / "enforce-tls-hosts-host-subnets-dr-good.yaml",
            ISTIO_COMPANION,
        )
        assert [(f[0], f[3].split(" toward")[0]) for f in findings(outcome, "MTLS-03")] == [
            ("fail", "DestinationRule/default/bad-dr01 sets tls.mode=DISABLE (all ports)"),
            ("fail", "DestinationRule/default/bad-dr02 sets tls.mode=DISABLE (all ports)"),
            # kyverno allows these; toward a meshed host they bypass the mesh identity.
            ("warn", "DestinationRule/default/good-dr01 sets tls.mode=MUTUAL (all ports)"),
            ("warn", "DestinationRule/default/good-dr02 sets tls.mode=SIMPLE (all ports)"),
        ]

    def test_destination_rules_toward_unknown_membership(self):
        """Without the prod Namespace, a DISABLE toward ratings can be judged neither way."""
        outcome = scan_files(
            KYVERNO / "istio" / "enforce-tls-hosts-host-subnets-dr-bad.yaml",
            MESH / "ratings-prod.yaml",
        )
        result = result_of(outcome, "MTLS-03")
        assert result.status is Status.NOT_OBSERVABLE
        assert result.reason == (
            "client TLS settings toward hosts whose mesh membership is unknown: "
            "DestinationRule/default/bad-dr01 (DISABLE toward ratings.prod.svc.cluster.local), "
            "DestinationRule/default/bad-dr02 (DISABLE toward ratings.prod.svc.cluster.local)"
        )

    def test_pods_opting_out_of_injection(self):
        outcome = scan_files(
            KYVERNO / "istio" / "prevent-disabling-injection-pods-pod-bad.yaml",
            KYVERNO / "istio" / "prevent-disabling-injection-pods-pod-good.yaml",
            ISTIO_COMPANION,
        )
        pods = {
            w["name"]: w["mtls"]["mesh"] for w in outcome_workloads(outcome) if w["kind"] == "Pod"
        }
        assert pods == {
            "badpod01": None,
            "badpod02": None,
            "goodpod01": "istio",
            "goodpod02": "istio",
        }

    def test_linkerd_namespaces_and_server_policy(self):
        outcome = scan_files(
            KYVERNO / "linkerd" / "require-linkerd-mesh-injection-good-ns.yaml",
            KYVERNO / "linkerd" / "require-linkerd-mesh-injection-bad-ns.yaml",
            KYVERNO / "linkerd" / "check-linkerd-authorizationpolicy-server.yaml",
            KYVERNO / "linkerd" / "check-linkerd-authorizationpolicy-good-authz.yaml",
            KYVERNO / "linkerd" / "check-linkerd-authorizationpolicy-bad-authz.yaml",
            LINKERD_COMPANION,
        )
        posture = {f"{w['namespace']}/{w['name']}": w["mtls"] for w in outcome_workloads(outcome)}
        assert {k: v["mesh"] for k, v in posture.items()} == {
            "default/emoji": "linkerd",
            "ld-meshinj-badns01/app": None,
            "ld-meshinj-badns02/app": None,
            "ld-meshinj-badns03/app": None,
            "ld-meshinj-goodns01/app": "linkerd",
            "ld-meshinj-goodns02/app": "linkerd",
        }
        emoji = posture["default/emoji"]["ports"]
        assert emoji == [
            {
                "port": "8080/grpc",
                "mode": "STRICT",
                "decided_by": [
                    "Server/default/authors: accessPolicy=deny",
                    "AuthorizationPolicy/default/good-policy02: authorizes",
                ],
            }
        ]

    def test_linkerd_pod_overrides(self):
        """skip-inbound-ports "true" names no port, so Linkerd skips none (kyverno flags it)."""
        skipping = scan_files(
            KYVERNO / "linkerd" / "prevent-linkerd-port-skipping-bad-pod.yaml", LINKERD_COMPANION
        )
        modes = {
            w["name"]: w["mtls"]["mode"] for w in outcome_workloads(skipping) if w["kind"] == "Pod"
        }
        assert modes == {
            "badpod01": "PERMISSIVE",
            "badpod02": "PERMISSIVE",
            "badpod03": "PERMISSIVE",
        }
        override = scan_files(
            KYVERNO / "linkerd" / "prevent-linkerd-pod-injection-override-bad-pod.yaml",
            LINKERD_COMPANION,
        )
        pods = [w for w in outcome_workloads(override) if w["kind"] == "Pod"]
        assert [(w["name"], w["mtls"]["mesh"]) for w in pods] == [("badpod01", None)]


class TestControlPlane:
    """kube-apiserver static pods from checkov's PASSED/FAILED examples."""

    def test_missing_serving_certificate(self):
        outcome = scan_files(CHECKOV / "example_ApiServerTlsCertAndKey" / "ApiServer-FAILED.yaml")
        messages = [f[3] for f in findings(outcome, "MTLS-07")]
        assert "Pod/kube-system/kube-apiserver-missing: --tls-cert-file is not set" in messages
        assert status(outcome, "MTLS-07") is Status.FAIL

    def test_serving_certificate_present(self):
        outcome = scan_files(CHECKOV / "example_ApiServerTlsCertAndKey" / "ApiServer-PASSED.yaml")
        messages = " ".join(f[3] for f in findings(outcome, "MTLS-07"))
        assert "--tls-cert-file" not in messages
        assert "--tls-private-key-file" not in messages

    def test_weak_ciphers_warn(self):
        folder = CHECKOV / "example_ApiServerStrongCryptographicCiphers"
        outcome = scan_files(folder / "ApiServerStrongCryptographicCiphers-FAILED.yaml")
        weak = [f for f in findings(outcome, "MTLS-07") if "cipher" in f[3]]
        assert weak == [
            (
                "warn",
                14,
                "spec.containers[0].command[1]",
                "Pod/kube-system/kube-apiserver: weak or unknown TLS cipher suites "
                "TLS_ECDHE_ECDSA_WITH_AES_64_GCM_SHA256",
            )
        ]


def test_kubeadm_flags_and_kubelet_configuration():
    outcome = scan_files(MESH / "kubeadm-control-plane.yaml")
    assert status(outcome, "MTLS-07") is Status.FAIL
    assert findings(outcome, "MTLS-07") == [
        (
            "fail",
            9,
            "data.ClusterConfiguration",
            "ConfigMap/kube-system/kubeadm-config: --kubelet-certificate-authority is not set",
        ),
        (
            "warn",
            9,
            "data.ClusterConfiguration",
            "ConfigMap/kube-system/kubeadm-config: --tls-min-version=VersionTLS11 allows old TLS",
        ),
        (
            "warn",
            9,
            "data.ClusterConfiguration",
            "ConfigMap/kube-system/kubeadm-config: weak or unknown TLS cipher suites "
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        ),
        (
            "fail",
            25,
            "data.kubelet",
            "ConfigMap/kube-system/kubelet-config: rotateCertificates is not true, so client "
            "certificates expire",
        ),
    ]


@pytest.mark.parametrize("check_id", [*MESH_CHECKS, "NET-07"])
def test_checks_survive_malformed_input(check_id):
    outcome = scan_files(MESH / "malformed.yaml")
    assert status(outcome, check_id) is not Status.ERROR


def test_posture_survives_malformed_input():
    outcome = scan_files(MESH / "malformed.yaml")
    odd = next(w for w in outcome_workloads(outcome) if w["name"] == "odd")
    assert odd["mtls"]["mesh"] == "istio"
    assert odd["mtls"]["ports"] == [
        {"port": "*", "mode": "PERMISSIVE", "decided_by": ["Istio default: PERMISSIVE"]}
    ]
