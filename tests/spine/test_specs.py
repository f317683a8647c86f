"""The specs share their common parts through specs/shared/components.yaml; the merge pulls them in
under their own names, keeps every `$ref`, drops what nothing uses, and still refuses clashes; the
app serves that document with its `$ref`s."""

from __future__ import annotations

import json

import pytest
import yaml

from charter import specs
from charter.config import SPECS_DIR

SHARED = SPECS_DIR / "shared" / "components.yaml"


def _refs(node):
    """Every `$ref` string anywhere in node."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for key, value in node.items():
            if key != "$ref":
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _target(doc: dict, ref: str):
    assert ref.startswith("#/components/"), ref
    section, name = ref.removeprefix("#/components/").split("/")
    assert name in doc["components"].get(section, {}), f"{ref} points at nothing"
    return section, name


def _reachable(doc: dict) -> set[tuple[str, str]]:
    """Components reached from the paths, transitively, plus the security schemes operations name
    (written here independently of charter.specs, which the test checks)."""
    seen: set[tuple[str, str]] = set()
    todo = [_target(doc, ref) for ref in _refs(doc["paths"])]
    for item in doc["paths"].values():
        for method in specs.HTTP_METHODS:
            for requirement in (item.get(method) or {}).get("security") or []:
                todo += [("securitySchemes", name) for name in requirement]
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo += [_target(doc, ref) for ref in _refs(doc["components"][key[0]][key[1]])]
    return seen


def _defined(doc: dict) -> set[tuple[str, str]]:
    return {(section, name) for section, entries in doc.get("components", {}).items() for name in entries}


def _write(path, doc: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _api(paths: dict, components: dict | None = None) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        **({"components": components} if components else {}),
    }


def _get(op_id: str, responses: dict, **extra) -> dict:
    return {"get": {"operationId": op_id, "security": [], "responses": responses, **extra}}


# --------------------------------------------------------------------------- the files


def test_no_api_spec_carries_a_copy_of_a_shared_component():
    shared = specs.read(SHARED)
    names = _defined(shared)
    assert {
        ("schemas", "Error"),
        ("responses", "NotFound"),
        ("responses", "Unauthorized"),
        ("securitySchemes", "bearerAuth"),
        ("securitySchemes", "serviceKey"),
        ("parameters", "TenantHeader"),
        ("parameters", "Limit"),
        ("parameters", "Cursor"),
    } <= names
    assert shared["components"]["parameters"]["TenantHeader"]["name"] == "x-tenant-id"
    for path in specs.spec_files():
        raw = specs.read(path)
        for section, name in _defined(raw) & names:
            # a security requirement can only name the document's own schemes: those are refs
            assert section == "securitySchemes", f"{path.name} copies components/{section}/{name}"
            assert raw["components"][section][name] == {"$ref": f"shared/components.yaml#/components/{section}/{name}"}
        assert any(ref.startswith("shared/components.yaml#/components/") for ref in _refs(raw)), path.name


def test_shared_document_is_not_an_api():
    assert SHARED not in specs.spec_files()
    assert specs.read(SHARED)["paths"] == {}


def test_probes_belong_to_the_gateway():
    gateway = {op["operationId"] for _, _, op in specs.operations(specs.read(SPECS_DIR / "gateway.yaml"))}
    registry = {p for _, p, _ in specs.operations(specs.read(SPECS_DIR / "registry.yaml"))}
    assert {"handlers.gateway.health.healthz", "handlers.gateway.health.readyz"} <= gateway
    assert not {"/healthz", "/readyz"} & registry


# --------------------------------------------------------------------------- load and merge


def test_load_pulls_shared_refs_in_and_rewrites_them():
    raw = specs.read(SPECS_DIR / "registry.yaml")
    doc = specs.load(SPECS_DIR / "registry.yaml")
    assert all(ref.startswith("#/components/") for ref in _refs(doc))
    shared = specs.read(SHARED)["components"]
    # the shared response comes in under its own name, its own refs still refs
    assert doc["components"]["responses"]["NotFound"] == shared["responses"]["NotFound"]
    assert doc["components"]["schemas"]["Error"] == shared["schemas"]["Error"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == shared["securitySchemes"]["bearerAuth"]
    get = doc["paths"]["/v1/tenants/{id}"]["get"]
    assert get["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    assert get["parameters"][0] == {"$ref": "#/components/parameters/TenantHeader"}
    assert raw["paths"]["/v1/tenants/{id}"]["get"]["responses"]["404"] == {
        "$ref": "shared/components.yaml#/components/responses/NotFound"
    }
    # only what the registry reaches: it never names the serviceKey scheme
    assert "serviceKey" not in doc["components"]["securitySchemes"]


def test_the_merged_document_has_no_unused_components_and_every_ref_resolves():
    merged = specs.load_merged()
    assert all(ref.startswith("#/components/") for ref in _refs(merged))
    assert _defined(merged) == _reachable(merged)
    assert _reachable(merged) == specs.used_components(merged)
    assert {"Tenant", "Error", "TenantProduct", "APIKeyCreated"} <= set(merged["components"]["schemas"])
    assert set(merged["components"]["securitySchemes"]) == {"bearerAuth", "serviceKey"}
    created = merged["paths"]["/v1/tenants"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/Tenant"}


def test_one_api_alone_gets_only_what_it_uses():
    gateway = specs.load_merged(["gateway"])
    assert _defined(gateway) == _reachable(gateway)
    assert "securitySchemes" not in gateway["components"]  # every probe is public
    assert set(gateway["components"]["responses"]) == {"BadRequest"}  # what the probes share
    assert {"Error", "Health", "HealthFailure", "Probe"} <= set(gateway["components"]["schemas"])


def test_merge_prunes_transitively_and_keeps_schemes_used_by_security():
    doc = _api(
        {
            "/a": {
                "get": {
                    "operationId": "m.a",
                    "security": [{"used": []}],
                    "responses": {"200": {"$ref": "#/components/responses/Ok"}},
                }
            }
        },
        {
            "responses": {
                "Ok": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outer"}}},
                }
            },
            "schemas": {
                "Outer": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Inner"}}},
                "Inner": {"type": "string"},
                "Orphan": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Inner"}}},
            },
            "parameters": {"Unused": {"in": "query", "name": "q", "schema": {"type": "string"}}},
            "securitySchemes": {
                "used": {"type": "http", "scheme": "bearer"},
                "unused": {"type": "http", "scheme": "basic"},
            },
        },
    )
    merged = specs.merge({"a": doc})
    assert _defined(merged) == {
        ("responses", "Ok"),
        ("schemas", "Outer"),
        ("schemas", "Inner"),
        ("securitySchemes", "used"),
    }


def test_a_document_level_security_counts():
    doc = _api(
        {"/a": {"get": {"operationId": "m.a", "responses": {"200": {"description": "ok"}}}}},
        {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "k"}}},
    )
    doc["security"] = [{"key": []}]
    merged = specs.merge({"a": doc})
    assert merged["paths"]["/a"]["get"]["security"] == [{"key": []}]
    assert set(merged["components"]["securitySchemes"]) == {"key"}


def test_external_refs_in_tmp_files_bundle_recursively(tmp_path):
    _write(
        tmp_path / "shared" / "parts.yaml",
        {
            "openapi": "3.0.3",
            "info": {"title": "s", "version": "1"},
            "paths": {},
            "components": {
                "schemas": {
                    "Node": {
                        "type": "object",
                        "properties": {
                            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                            "meta": {"$ref": "more.yaml#/components/schemas/Meta"},
                        },
                    }
                },
                "responses": {
                    "Tree": {
                        "description": "a tree",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
                    }
                },
            },
        },
    )
    _write(tmp_path / "shared" / "more.yaml", {"components": {"schemas": {"Meta": {"type": "string"}}}})
    doc = _api({"/a": _get("m.a", {"200": {"$ref": "shared/parts.yaml#/components/responses/Tree"}})})
    path = _write(tmp_path / "api.yaml", doc)
    loaded = specs.load(path)
    assert _defined(loaded) == {("responses", "Tree"), ("schemas", "Node"), ("schemas", "Meta")}
    node = loaded["components"]["schemas"]["Node"]["properties"]
    assert node["children"]["items"] == {"$ref": "#/components/schemas/Node"}
    assert node["meta"] == {"$ref": "#/components/schemas/Meta"}
    assert specs.served(specs.merge({"api": specs.read(path)}, tmp_path)) == specs.load_merged(["api"], tmp_path)


def test_a_ref_to_something_that_is_not_a_component_is_inlined(tmp_path):
    _write(tmp_path / "schemas" / "thing.yaml", {"type": "object", "properties": {"id": {"type": "string"}}})
    path = _write(
        tmp_path / "api.yaml",
        _api(
            {
                "/a": _get(
                    "m.a",
                    {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "schemas/thing.yaml"}}},
                        }
                    },
                )
            }
        ),
    )
    schema = specs.load(path)["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"type": "object", "properties": {"id": {"type": "string"}}}


# --------------------------------------------------------------------------- clashes


def test_two_documents_with_different_components_of_one_name_clash():
    a = _api(
        {"/a": _get("m.a", {"200": {"$ref": "#/components/responses/R"}})}, {"responses": {"R": {"description": "one"}}}
    )
    b = _api(
        {"/b": _get("m.b", {"200": {"$ref": "#/components/responses/R"}})}, {"responses": {"R": {"description": "two"}}}
    )
    with pytest.raises(specs.SpecConflict, match="components/responses/R differs between a and b"):
        specs.merge({"a": a, "b": b})
    same = _api(
        {"/b": _get("m.b", {"200": {"$ref": "#/components/responses/R"}})}, {"responses": {"R": {"description": "one"}}}
    )
    assert specs.merge({"a": a, "b": same})["components"]["responses"] == {"R": {"description": "one"}}


def test_two_documents_claiming_one_route_clash():
    a = _api({"/a": _get("m.a", {"200": {"description": "ok"}})})
    with pytest.raises(specs.SpecConflict, match="GET /a is claimed by both a and b"):
        specs.merge({"a": a, "b": a})


def test_a_local_component_that_differs_from_the_shared_one_it_meets_clashes(tmp_path):
    """registry.yaml's own Error against the shared Error its shared responses reference."""
    shared = tmp_path / "shared" / "components.yaml"
    shared.parent.mkdir()
    shared.write_text(SHARED.read_text())
    doc = specs.read(SPECS_DIR / "registry.yaml")
    doc["components"]["schemas"]["Error"] = {"type": "object", "properties": {"code": {"type": "integer"}}}
    path = _write(tmp_path / "registry.yaml", doc)
    with pytest.raises(specs.SpecConflict, match="components/schemas/Error differs"):
        specs.load(path)
    with pytest.raises(specs.SpecConflict, match="components/schemas/Error differs"):
        specs.merge({"registry": doc}, tmp_path)


def test_one_name_from_two_files_that_differ_clashes(tmp_path):
    _write(tmp_path / "one.yaml", {"components": {"schemas": {"E": {"type": "string"}}}})
    _write(tmp_path / "two.yaml", {"components": {"schemas": {"E": {"type": "integer"}}}})
    path = _write(
        tmp_path / "api.yaml",
        _api(
            {
                "/a": _get(
                    "m.a",
                    {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "one.yaml#/components/schemas/E"},
                                            {"$ref": "two.yaml#/components/schemas/E"},
                                        ]
                                    }
                                }
                            },
                        }
                    },
                )
            }
        ),
    )
    with pytest.raises(specs.SpecConflict, match="comes from both one.yaml"):
        specs.load(path)


def test_a_dangling_or_remote_ref_is_refused(tmp_path):
    _write(tmp_path / "other.yaml", {"components": {"schemas": {"X": {"type": "string"}}}})
    for ref, message in (
        ("missing.yaml#/components/schemas/X", "does not exist"),
        ("other.yaml#/components/schemas/Nope", "points at nothing"),
        ("https://example.com/x.yaml#/components/schemas/X", "remote"),
    ):
        path = _write(
            tmp_path / "api.yaml",
            _api(
                {
                    "/a": _get(
                        "m.a",
                        {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": ref}}}}},
                    )
                }
            ),
        )
        with pytest.raises(specs.SpecConflict, match=message):
            specs.load(path)


def test_a_ref_into_the_document_by_its_own_file_name_becomes_internal(tmp_path):
    path = _write(
        tmp_path / "api.yaml",
        _api(
            {"/a": _get("m.a", {"200": {"$ref": "api.yaml#/components/responses/R"}})},
            {"responses": {"R": {"description": "ok"}}},
        ),
    )
    assert specs.load(path)["paths"]["/a"]["get"]["responses"]["200"] == {"$ref": "#/components/responses/R"}


# --------------------------------------------------------------------------- what the app serves


@pytest.mark.parametrize("store", ["memory"], indirect=True)
def test_the_served_document_keeps_refs_and_component_names(app):
    with app.test_client() as client:
        served = client.get("/openapi.json").json()
        assert client.get("/v1/openapi.json").json() == served
    assert any(ref.startswith("#/components/") for ref in _refs(served))
    assert "Tenant" in served["components"]["schemas"]
    created = served["paths"]["/v1/tenants"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/Tenant"}
    assert served["paths"]["/v1/tenants/{id}"]["get"]["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    assert _defined(served) == _reachable(served)
    assert json.loads(json.dumps({**specs.load_merged(), "servers": served["servers"]})) == served


# --------------------------------------------------------------------------- charter check


def _copy_specs(tmp_path):
    import shutil

    shutil.copytree(SPECS_DIR, tmp_path / "specs")
    return tmp_path / "specs"


def test_check_validates_each_spec_with_its_external_refs(tmp_path):
    from tools.check import problems

    specs_dir = _copy_specs(tmp_path)
    assert problems(specs_dir) == []
    registry = specs_dir / "registry.yaml"
    registry.write_text(
        registry.read_text().replace(
            "shared/components.yaml#/components/responses/Conflict",
            "shared/components.yaml#/components/responses/Clash",
        )
    )
    found = problems(specs_dir)
    assert [p for p in found if p.startswith("registry.yaml: does not validate")], found


def test_check_validates_the_shared_components_a_spec_pulls_in(tmp_path):
    """The validator resolves an external ref without validating what it finds: the bundled
    document, where the shared component is the spec's own, is validated too."""
    from tools.check import problems

    specs_dir = _copy_specs(tmp_path)
    shared = specs_dir / "shared" / "components.yaml"
    shared.write_text(
        shared.read_text().replace(
            "      description: Resource does not exist.\n", "      summary: Resource does not exist.\n"
        )
    )
    found = problems(specs_dir)
    assert {p.split(":")[0] for p in found if "does not validate" in p} == {
        "registry.yaml",
        "identity.yaml",
        "webhooks.yaml",
        "licensing.yaml",
        "compliance.yaml",
        "disputes.yaml",
    }, found
