"""The loader reads real manifests, remembers where each object came from, and survives
hostile input without losing what it already read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES

from zt_audit.inventory import load_inventory

CORPORA = FIXTURES / "corpora"
RELEASE = CORPORA / "microservices-demo" / "release-kubernetes-manifests.yaml"


def _line_of(path: Path, text: str, start: int = 1) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if number >= start and text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def test_multi_document_release_file_keeps_every_object_and_its_line():
    inventory = load_inventory([str(RELEASE)])
    assert inventory.kind_counts() == {"Deployment": 12, "Service": 12, "ServiceAccount": 11}
    assert inventory.problems == []
    frontend = inventory.get("Deployment", "default", "frontend", group="apps")
    assert frontend is not None
    # The object's line is the line of its first key, not of the '---' separator.
    first_key = _line_of(RELEASE, "name: frontend") - 3
    assert frontend.origin.line == first_key
    assert RELEASE.read_text().splitlines()[first_key - 1] == "apiVersion: apps/v1"


def test_field_paths_resolve_to_their_own_lines():
    inventory = load_inventory([str(RELEASE)])
    frontend = inventory.get("Deployment", "default", "frontend", group="apps")
    path = ("spec", "template", "spec", "containers", 0, "image")
    location = inventory.locator.locate(frontend.origin, path)
    line = RELEASE.read_text().splitlines()[location.line - 1]
    assert "image: us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend" in (
        line
    )
    # A field that is absent resolves to its deepest existing ancestor.
    missing = inventory.locator.locate(frontend.origin, (*path[:-1], "no", "such"))
    assert missing.line == _line_of(RELEASE, "- name: server", frontend.origin.line)


def test_folder_is_read_recursively_in_sorted_order_and_kustomization_is_kept():
    folder = CORPORA / "microservices-demo" / "kubernetes-manifests"
    inventory = load_inventory([str(folder)])
    sources = [r.origin.source for r in inventory]
    assert sources == sorted(sources)
    assert inventory.kind_counts()["Deployment"] == 12
    # Unknown kinds are kept: checks may use them.
    assert inventory.kind_counts()["Kustomization"] == 1


def test_kind_list_is_unwrapped_with_item_lines():
    path = CORPORA / "kube-score" / "list.yaml"
    inventory = load_inventory([str(path)])
    assert [r.kind for r in inventory] == ["Service", "Deployment"]
    deployment = inventory.of_kind("Deployment")[0]
    assert deployment.origin.line == _line_of(path, "kind: Deployment") - 1
    image = inventory.locator.locate(
        deployment.origin, ("spec", "template", "spec", "containers", 0, "image")
    )
    assert image.line == _line_of(path, "image: nginx")


def test_typed_json_list_from_the_api_gets_kind_and_api_version_from_the_list(tmp_path):
    # The API server returns list items without kind/apiVersion (kubectl adds them).
    pods = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "1"},
        "items": [
            {
                "metadata": {"name": f"web-{i}", "namespace": "shop"},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            }
            for i in range(3)
        ],
    }
    path = tmp_path / "pods.json"
    path.write_text(json.dumps(pods, indent=2))
    inventory = load_inventory([str(path)])
    assert [(r.kind, r.api_version, r.namespace, r.name) for r in inventory] == [
        ("Pod", "v1", "shop", "web-0"),
        ("Pod", "v1", "shop", "web-1"),
        ("Pod", "v1", "shop", "web-2"),
    ]
    second = inventory.get("Pod", "shop", "web-1")
    # The item starts at its opening brace, two lines above its name.
    assert second.origin.line == _line_of(path, '"name": "web-1"') - 2


def test_stdin_is_read_and_located():
    from io import BytesIO, StringIO

    class Stdin(StringIO):
        buffer = BytesIO(RELEASE.read_bytes())

    inventory = load_inventory(["-"], stdin=Stdin())
    assert len(inventory) == 35
    service = inventory.get("Service", "default", "frontend-external")
    assert service.origin.source == "<stdin>"
    location = inventory.locator.locate(service.origin, ("spec", "type"))
    assert location.line == _line_of(RELEASE, "type: LoadBalancer")


def test_objects_without_kind_are_skipped_with_a_warning(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(
        "replicaCount: 2\nimage:\n  tag: v1\n---\napiVersion: v1\nkind: Namespace\n"
        "metadata:\n  name: shop\n"
    )
    inventory = load_inventory([str(path)])
    assert [r.ref.name for r in inventory] == ["shop"]
    assert [str(p) for p in inventory.warnings] == [
        f"{path}:1: not a Kubernetes object (no kind/apiVersion); skipped"
    ]
    assert inventory.errors == []


def test_namespace_defaults_and_cluster_scoped_kinds(tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        "metadata: {name: b, namespace: ignored}\n"
    )
    inventory = load_inventory([str(path)])
    assert [(r.kind, r.namespace) for r in inventory] == [
        ("ConfigMap", "default"),
        ("ClusterRole", None),
    ]


def test_a_duplicate_object_counts_once_and_the_later_wins(tmp_path):
    one, two = tmp_path / "a.yaml", tmp_path / "b.yaml"
    one.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
    two.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {x: y}\n")
    inventory = load_inventory([str(one), str(two)])
    assert len(inventory) == 1
    assert inventory.of_kind("Namespace")[0].labels == {"x": "y"}
    assert "also defined at" in str(inventory.warnings[0])


def test_timestamps_stay_text(tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
        "  creationTimestamp: 2024-05-01T10:00:00Z\n"
    )
    pod = load_inventory([str(path)]).of_kind("Pod")[0]
    assert pod.metadata["creationTimestamp"] == "2024-05-01T10:00:00Z"


# Bad and hostile input: one line naming file and line, and nothing already read is lost.


def _load_with(tmp_path: Path, name: str, content: bytes):
    good = tmp_path / "a-good.yaml"
    good.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kept\n")
    bad = tmp_path / name
    bad.write_bytes(content)
    return load_inventory([str(tmp_path)]), bad


def test_an_unrendered_helm_template_is_named_as_such():
    template = CORPORA / "microservices-demo" / "helm-chart" / "templates" / "adservice.yaml"
    inventory = load_inventory([str(template)])
    assert len(inventory) == 0
    [error] = map(str, inventory.errors)
    assert error.startswith(f"{template}:15: invalid YAML: ")
    assert "unrendered Helm or Go template" in error and "helm template" in error
    assert "\n" not in error


def test_template_braces_in_valid_yaml_are_plain_text(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("kind: ConfigMap\napiVersion: v1\nmetadata: {name: t}\ndata: {a: '{{ x }}'}\n")
    inventory = load_inventory([str(path)])
    assert inventory.errors == []
    assert inventory.get("ConfigMap", "default", "t").obj["data"] == {"a": "{{ x }}"}


def test_syntax_error_names_file_and_line_and_keeps_earlier_documents(tmp_path):
    content = (
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: before\n---\n"
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n"
    )
    inventory, bad = _load_with(tmp_path, "broken.yaml", content)
    assert sorted(r.name for r in inventory) == ["before", "kept"]
    assert len(inventory.errors) == 1
    error = str(inventory.errors[0])
    assert error.startswith(f"{bad}:10: invalid YAML: ")
    assert "\n" not in error


def test_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    content = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n"
        + "\n".join("  " + line for line in lines)
        + "\n"
    ).encode()
    inventory, bad = _load_with(tmp_path, "bomb.yaml", content)
    assert [r.name for r in inventory] == ["kept"]
    assert str(inventory.errors[0]) == (
        f"{bad}:1: document expands to too many nodes (alias bomb?); skipped"
    )


def test_small_aliases_are_fine(tmp_path):
    content = (
        b"apiVersion: apps/v1\nkind: Deployment\n"
        b"metadata: {name: web, labels: &labels {app: web}}\n"
        b"spec:\n  selector: {matchLabels: *labels}\n"
        b"  template:\n    metadata: {labels: *labels}\n"
        b"    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    inventory, _ = _load_with(tmp_path, "anchors.yaml", content)
    assert inventory.errors == []
    web = inventory.get("Deployment", "default", "web", group="apps")
    assert web.spec["template"]["metadata"]["labels"] == {"app": "web"}


def test_recursive_alias_is_refused(tmp_path):
    content = b"apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: loop, self: *m}\n"
    inventory, bad = _load_with(tmp_path, "loop.yaml", content)
    assert [r.name for r in inventory] == ["kept"]
    [error] = inventory.errors
    assert str(error).startswith(f"{bad}:1: ")
    assert "alias" in error.message


def test_merge_keys_are_honoured_and_lines_stay_right(tmp_path):
    content = (
        b"# leading comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n"
        b"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        b"  template:\n    spec:\n      containers:\n        - &base {name: web, image: nginx}\n"
        b"        - <<: *base\n          name: sidecar\n"
    )
    inventory, _ = _load_with(tmp_path, "merge.yaml", content)
    assert inventory.errors == []
    web = inventory.get("Deployment", "default", "web", group="apps")
    containers = web.spec["template"]["spec"]["containers"]
    assert containers[1] == {"name": "sidecar", "image": "nginx"}
    assert web.origin.line == 7
    sidecar = inventory.locator.locate(
        web.origin, ("spec", "template", "spec", "containers", 1, "name")
    )
    assert sidecar.line == 16
    assert inventory.get("ConfigMap", "default", "first").origin.line == 3


def test_an_unknown_tag_is_an_error_for_its_document_only(tmp_path):
    content = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tagged}\ndata: {a: !Ref x}\n---\n"
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"
    )
    inventory, bad = _load_with(tmp_path, "tags.yaml", content)
    assert sorted(r.name for r in inventory) == ["after", "kept"]
    [error] = inventory.errors
    assert str(error).startswith(f"{bad}:4: invalid YAML: ")


def test_last_applied_configuration_and_managed_fields_are_dropped(tmp_path):
    content = (
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n"
        b'    kubectl.kubernetes.io/last-applied-configuration: \'{"data":{"k":"c2VjcmV0"}}\'\n'
        b"    team: a\n  managedFields: [{manager: kubectl}]\ntype: Opaque\n"
    )
    inventory, _ = _load_with(tmp_path, "secret.yaml", content)
    secret = inventory.of_kind("Secret")[0]
    assert secret.annotations == {"team": "a"}
    assert "managedFields" not in secret.metadata


def test_deep_nesting_is_refused(tmp_path):
    depth = 300
    content = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: "
        + "[" * depth
        + "]" * depth
        + "\n"
    ).encode()
    inventory, bad = _load_with(tmp_path, "deep.yaml", content)
    assert [r.name for r in inventory] == ["kept"]
    assert str(inventory.errors[0]) == f"{bad}:1: document nested deeper than 200 levels; skipped"


def test_nesting_tens_of_thousands_deep_is_one_error_line(tmp_path):
    # Recent libyaml stops such documents itself; older versions leave it to zt-audit.
    depth = 30000
    content = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: "
        + "[" * depth
        + "]" * depth
        + "\n"
    ).encode()
    inventory, bad = _load_with(tmp_path, "deep.yaml", content)
    assert [r.name for r in inventory] == ["kept"]
    [error] = inventory.errors
    assert str(error).startswith(f"{bad}:")
    assert "nest" in error.message


def test_binary_file_is_refused(tmp_path):
    inventory, bad = _load_with(tmp_path, "image.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert [str(p) for p in inventory.errors] == [f"{bad}: binary file, not YAML or JSON"]
    assert [r.name for r in inventory] == ["kept"]


def test_wrong_encoding_names_the_line(tmp_path):
    content = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: café\n".encode("latin-1")
    inventory, bad = _load_with(tmp_path, "latin1.yaml", content)
    assert [str(p) for p in inventory.errors] == [f"{bad}:4: not valid UTF-8 (byte 0xe9)"]


def test_utf16_with_bom_is_read(tmp_path):
    content = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: wide\n".encode("utf-16")
    inventory, _ = _load_with(tmp_path, "wide.yaml", content)
    assert sorted(r.name for r in inventory) == ["kept", "wide"]
    assert inventory.errors == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just a string\n", "document is not a mapping; skipped"),
        (b"- a\n- b\n", "document is not a mapping; skipped"),
        (b"42\n", "document is not a mapping; skipped"),
        (b"apiVersion: v1\nkind: Pod\nmetadata: nope\n", "Pod: metadata is not a mapping; skipped"),
        (b"apiVersion: 3\nkind: Pod\n", "not a Kubernetes object (no kind/apiVersion); skipped"),
    ],
)
def test_documents_of_the_wrong_shape_are_skipped_with_a_warning(tmp_path, content, message):
    inventory, bad = _load_with(tmp_path, "odd.yaml", content)
    assert [str(p) for p in inventory.warnings] == [f"{bad}:1: {message}"]
    assert [r.name for r in inventory] == ["kept"]


def test_missing_path_is_an_error_but_other_inputs_are_read(tmp_path):
    good = tmp_path / "ns.yaml"
    good.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kept\n")
    inventory = load_inventory([str(tmp_path / "nope"), str(good)])
    assert [str(p) for p in inventory.errors] == [f"{tmp_path / 'nope'}: no such file or directory"]
    assert [r.name for r in inventory] == ["kept"]


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cluster"


def _example_objects() -> list[dict]:
    return [resource.obj for resource in load_inventory([str(EXAMPLE)])]


def _as_loaded(path: Path, shift: tuple[int, int] = (0, 0)) -> list[tuple]:
    lines, chars = shift
    return [
        (
            json.dumps(r.obj, sort_keys=True),
            r.origin.line - lines,
            r.origin.column,
            r.origin.start - chars,
            r.origin.end - chars,
        )
        for r in load_inventory([str(path)])
    ]


@pytest.mark.parametrize(
    "layout",
    [{"indent": None}, {"indent": 1}, {"indent": 4}, {"separators": (",", ":")}],
)
@pytest.mark.parametrize("wrapper", ["List", "single"])
def test_json_is_read_as_the_yaml_loader_reads_it(tmp_path, layout, wrapper):
    """The JSON fast path gives the YAML loader's objects and spans, byte for byte."""
    objects = _example_objects()
    if wrapper == "single":
        document: dict = objects[0]
    else:
        document = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
    text = json.dumps(document, ensure_ascii=False, **layout)
    fast = tmp_path / "dump.json"
    fast.write_text(text)
    # A leading comment is not JSON, so the same text then goes through the YAML loader.
    prefix = "# the same document\n"
    slow = tmp_path / "dump-yaml.json"
    slow.write_text(prefix + text)
    assert _as_loaded(fast) == _as_loaded(slow, shift=(1, len(prefix)))
    assert len(_as_loaded(fast)) == (1 if wrapper == "single" else len(objects))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"apiVersion": "v1", "kind": "List", "items": [{"kind": ]}', ":1: invalid YAML: "),
        ("{" * 100_000, ":1: "),
        ('{"apiVersion": "v1"}\n{"apiVersion": "v1"}\n', ":2: invalid YAML: "),
    ],
)
def test_broken_json_gets_the_yaml_loaders_one_line_error(tmp_path, text, expected):
    path = tmp_path / "broken.json"
    path.write_text(text)
    [error] = map(str, load_inventory([str(path)]).errors)
    assert error.startswith(f"{path}{expected}")
    assert "\n" not in error
