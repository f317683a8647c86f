"""`charter check` passes on the project and fails on each kind of contract break."""

import shutil

import yaml

from tests.tools.project_copy import ROOT, charter, copy_project
from tools.check import problems


def test_the_project_passes():
    assert problems() == []


_PUBLIC = object()


def _with_extra_op(tmp_path, path, method, op_id, security=_PUBLIC):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "registry.yaml").read_text())
    op = {"operationId": op_id, "responses": {"200": {"description": "ok"}}}
    if security is not None:
        op["security"] = [] if security is _PUBLIC else security
    doc["paths"].setdefault(path, {})[method] = op
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return specs


def test_unbound_operation_id_fails(tmp_path):
    specs = _with_extra_op(tmp_path, "/v1/nothing", "get", "handlers.registry.tenants.does_not_exist")
    found = problems(specs)
    assert len(found) == 1 and "handlers.registry.tenants.does_not_exist names no handler" in found[0]


def test_missing_module_fails(tmp_path):
    specs = _with_extra_op(tmp_path, "/v1/nothing", "get", "handlers.registry.nowhere.thing")
    assert any("handlers.registry.nowhere.thing names no handler" in p for p in problems(specs))


def test_operation_without_security_fails(tmp_path):
    specs = _with_extra_op(tmp_path, "/v1/catalog", "post", "handlers.registry.catalog.post_it", security=None)
    found = [p for p in problems(specs) if "POST /v1/catalog" in p and "security" in p]
    assert len(found) == 1 and "declares no security" in found[0], found


def test_unknown_scope_or_scheme_fails(tmp_path):
    specs = _with_extra_op(
        tmp_path,
        "/v1/catalog",
        "post",
        "handlers.registry.catalog.post_it",
        security=[{"bearerAuth": ["tenants:destroy"]}],
    )
    assert any("unknown scopes ['tenants:destroy']" in p for p in problems(specs))
    specs = _with_extra_op(
        tmp_path / "b", "/v1/catalog", "post", "handlers.registry.catalog.post_it", security=[{"basicAuth": []}]
    )
    assert any("unknown security scheme 'basicAuth'" in p for p in problems(specs))


def test_handler_without_operation_fails(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "registry.yaml").read_text())
    del doc["paths"]["/v1/catalog"]
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert problems(specs) == ["handler handlers.registry.catalog.list_products is bound to no operation"]


def test_two_specs_claiming_one_route_fail(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "other.yaml").write_text(
        yaml.safe_dump(
            {
                "openapi": "3.0.3",
                "info": {"title": "o", "version": "1"},
                "paths": {
                    "/healthz": {
                        "get": {
                            "operationId": "handlers.registry.health.healthz",
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                },
            }
        )
    )
    found = problems(specs)
    assert any("GET /healthz is claimed by both" in p for p in found), found


def test_invalid_spec_fails(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "broken.yaml").write_text("openapi: 3.0.3\ninfo: {title: b}\npaths: {}\n")
    assert any(p.startswith("broken.yaml: does not validate") for p in problems(specs))


def test_cli_exit_status(tmp_path):
    project = copy_project(tmp_path / "p")
    ok = charter(project, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    spec = project / "specs" / "registry.yaml"
    spec.write_text(
        spec.read_text().replace(
            "operationId: handlers.registry.catalog.list_products",
            "operationId: handlers.registry.catalog.list_everything",
        )
    )
    bad = charter(project, "check")
    assert bad.returncode == 1
    assert "handlers.registry.catalog.list_everything names no handler" in bad.stdout
    assert "handlers.registry.catalog.list_products is bound to no operation" in bad.stdout


KEY_REF = {"$ref": "shared/components.yaml#/components/parameters/IdempotencyKey"}


def _post_variant(tmp_path, edit) -> list[str]:
    """Problems of POST /v1/tenants, edited by `edit(op)` (it takes the key and documents 409 and 422)."""
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "registry.yaml").read_text())
    edit(doc["paths"]["/v1/tenants"]["post"])
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return [p for p in problems(specs) if "POST /v1/tenants:" in p]


def test_a_post_that_takes_no_idempotency_key_and_is_not_exempt_fails(tmp_path):
    def drop_key(op):
        op["parameters"] = [p for p in op["parameters"] if p != KEY_REF]

    found = _post_variant(tmp_path, drop_key)
    assert len(found) == 1 and "takes no Idempotency-Key" in found[0], found

    def exempt(op):
        drop_key(op)
        op["x-idempotency-exempt"] = "answers fresh credentials"

    assert _post_variant(tmp_path / "b", exempt) == []

    def exempt_without_reason(op):
        drop_key(op)
        op["x-idempotency-exempt"] = " "

    found = _post_variant(tmp_path / "c", exempt_without_reason)
    assert len(found) == 1 and "must say" in found[0], found


def test_a_post_that_takes_the_key_documents_409_and_422(tmp_path):
    def undocument(op):
        del op["responses"]["422"]

    found = _post_variant(tmp_path, undocument)
    assert len(found) == 1 and "documents no 422" in found[0], found

    def both(op):
        op["x-idempotency-exempt"] = "changes nothing"

    found = _post_variant(tmp_path / "b", both)
    assert len(found) == 1 and "one or the other" in found[0], found


def _event_variant(tmp_path, edit) -> list[str]:
    """Problems about events, after `edit(x_events)` of specs/registry.yaml's `x-events`."""
    specs = tmp_path / edit.__name__ / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "registry.yaml").read_text())
    edit(doc["x-events"])
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return [p for p in problems(specs) if "event" in p]


def test_an_event_without_a_payload_schema_fails(tmp_path):
    def unchanged(events):
        pass

    assert _event_variant(tmp_path, unchanged) == []

    def drop(events):
        del events["tenant.created"]["payload"]

    assert _event_variant(tmp_path, drop) == ["registry.yaml: event tenant.created declares no payload schema"]

    def empty(events):
        events["api_key.revoked"] = {"description": "no schema", "payload": {}}

    assert _event_variant(tmp_path, empty) == ["registry.yaml: event api_key.revoked declares no payload schema"]


def test_an_event_whose_payload_names_no_component_fails(tmp_path):
    def dangling(events):
        events["tenant.created"]["payload"] = {"$ref": "#/components/schemas/Nowhere"}

    found = _event_variant(tmp_path, dangling)
    assert any(
        "event tenant.created: payload $ref '#/components/schemas/Nowhere' names no component" in p for p in found
    )


def test_an_event_declared_by_two_specs_fails(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "webhooks.yaml").read_text())
    doc["x-events"] = {
        "tenant.created": {"description": "again", "payload": {"$ref": "#/components/schemas/WebhookEndpoint"}}
    }
    (specs / "webhooks.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert "event tenant.created is declared by both registry and webhooks" in problems(specs)


def test_a_pattern_with_a_dialect_dependent_class_fails(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    doc = yaml.safe_load((specs / "registry.yaml").read_text())
    schema = doc["components"]["schemas"]["TenantCreate"]["properties"]["name"]
    schema["pattern"] = r"^\S(?:.*\S)?$"
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    found = problems(specs)
    assert found == [
        "registry.yaml: /components/schemas/TenantCreate/properties/name: pattern '^\\\\S(?:.*\\\\S)?$' uses \\S,"
        " which regex dialects read differently; spell the characters out"
    ], found
    # an escaped backslash followed by a letter is no class
    schema["pattern"] = r"^[a-z\\]+$"
    (specs / "registry.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert problems(specs) == []
