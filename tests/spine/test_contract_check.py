"""The independent contract check of tests/contract.py can fail, and fails for each kind of drift:
an answer's field of the wrong type, a missing field, an undeclared status, the wrong media type,
a declared header out of its schema, a request the document forbids taken as if valid, and an
answer from a path the document does not have. Its opt-out is explicit and counted."""

from __future__ import annotations

import httpx
import pytest

import handlers.registry.tenants as tenant_handlers
from server.app import create_app
from store.memory import MemoryStore
from tests import contract
from tests.contract import ContractMismatch, judge, unchecked
from tests.helpers import ADMIN, create_tenant, settings


@pytest.fixture
def memory_app():
    store = MemoryStore()
    yield lambda: create_app(store=store, settings=settings())
    store.close()


def test_a_handler_answering_a_field_of_the_wrong_type_fails_the_api_test(memory_app, monkeypatch):
    real = tenant_handlers.get
    monkeypatch.setattr(tenant_handlers, "get", lambda id: {**real(id), "name": 7})
    with memory_app().test_client(headers=ADMIN) as client:
        tenant = create_tenant(client)
        with pytest.raises(ContractMismatch) as failure:
            client.get(f"/v1/tenants/{tenant['id']}")
    message = str(failure.value)
    assert f"GET /v1/tenants/{tenant['id']} -> 200" in message
    assert "at name: 7 is not of type 'string'" in message


def test_an_undeclared_status_fails(memory_app, monkeypatch):
    real = tenant_handlers.get
    monkeypatch.setattr(tenant_handlers, "get", lambda id: (real(id), 202))
    with memory_app().test_client(headers=ADMIN) as client:
        tenant = create_tenant(client)
        with pytest.raises(ContractMismatch, match="ResponseNotFound"):
            client.get(f"/v1/tenants/{tenant['id']}")


def test_an_opt_out_is_explicit_and_counted(memory_app, monkeypatch):
    real = tenant_handlers.get
    monkeypatch.setattr(tenant_handlers, "get", lambda id: {**real(id), "name": 7})
    before = contract.opt_outs["a test of the opt-out itself"]
    with memory_app().test_client(headers=ADMIN) as client:
        tenant = create_tenant(client)
        with unchecked("a test of the opt-out itself"):
            assert client.get(f"/v1/tenants/{tenant['id']}").json()["name"] == 7
    assert contract.opt_outs["a test of the opt-out itself"] == before + 1


# The judge itself, on exchanges made up against the real served document.

TENANT = {
    "id": "0b5f6d3e-8f57-4f8e-9a43-2f1d3c4b5a69",
    "slug": "acme",
    "name": "Acme GmbH",
    "kind": "customer",
    "status": "demo",
    "plan": "starter",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


@pytest.fixture(scope="module")
def served():
    store = MemoryStore()
    try:
        with create_app(store=store, settings=settings()).test_client() as client:
            return contract.document(client.get("/openapi.json").content)
    finally:
        store.close()


def exchange(method, path, status, *, body=None, sent=None, headers=None, content_type="application/json"):
    request = httpx.Request(method, f"http://testserver{path}", json=sent, headers=ADMIN)
    if body is None:
        raw = b""
    else:
        raw = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
    answer_headers = {"content-type": content_type, **(headers or {})}
    return request, httpx.Response(status, content=raw, headers=answer_headers, request=request)


def test_a_real_answer_passes(served):
    assert judge(served, *exchange("GET", f"/v1/tenants/{TENANT['id']}", 200, body=TENANT)) == "checked"


def test_a_missing_required_field_fails(served):
    body = {k: v for k, v in TENANT.items() if k != "slug"}
    with pytest.raises(ContractMismatch, match="'slug' is a required property"):
        judge(served, *exchange("GET", f"/v1/tenants/{TENANT['id']}", 200, body=body))


def test_the_wrong_media_type_fails(served):
    with pytest.raises(ContractMismatch, match="MediaTypeNotFound|media"):
        judge(served, *exchange("GET", f"/v1/tenants/{TENANT['id']}", 200, body=b"ok", content_type="text/plain"))


def test_a_declared_header_out_of_its_schema_fails(served):
    error = {"error": "rate_limited", "message": "slow down"}
    ok = exchange("POST", "/v1/auth/token", 429, body=error, sent={"grant_type": "x"}, headers={"Retry-After": "7"})
    assert judge(served, *ok) in ("checked", "refused")
    bad = exchange("POST", "/v1/auth/token", 429, body=error, sent={"grant_type": "x"}, headers={"Retry-After": "soon"})
    with pytest.raises(ContractMismatch, match="HeaderValidationError.*soon"):
        judge(served, *bad)


def test_a_forbidden_request_the_server_took_fails(served):
    with pytest.raises(ContractMismatch, match="forbids this request, yet the server did not refuse it"):
        judge(served, *exchange("POST", "/v1/tenants", 201, body=TENANT, sent={"slug": "A"}))
    error = {"error": "invalid_input", "message": "slug"}
    assert judge(served, *exchange("POST", "/v1/tenants", 400, body=error, sent={"slug": "A"})) == "refused"


def test_a_path_the_document_lacks_may_only_answer_unrouted(served):
    error = {"error": "not_found", "message": "no such path"}
    assert judge(served, *exchange("GET", "/v1/nowhere", 404, body=error)) == "unrouted"
    with pytest.raises(ContractMismatch, match="no operation"):
        judge(served, *exchange("GET", "/v1/nowhere", 200, body={"ok": True}))
