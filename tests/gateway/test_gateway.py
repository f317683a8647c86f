"""What every API shares: /v1/health, X-API-Version on every answer, the documents at both paths."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import ADMIN, assert_error, settings


def test_health_reports_each_dependency(anonymous, store):
    r = anonymous.get("/v1/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["version"] == "v1"
    assert set(body["checks"]) == {"store", "signing_keys"}
    assert body["checks"]["store"]["status"] == "ok"
    assert body["checks"]["store"]["detail"] == getattr(store, "dialect", "memory")
    assert body["checks"]["store"]["latency_ms"] >= 0
    assert body["checks"]["signing_keys"]["status"] == "ok"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_health_is_503_with_every_check_when_the_store_is_down(store, tmp_path):
    from server.app import create_app
    from store.sql import SqlStore

    gone = SqlStore(f"sqlite:///{tmp_path}/missing-dir/none.db")
    with create_app(store=gone, settings=settings()).test_client() as c:
        r = c.get("/v1/health")
    body = assert_error(r, 503, "unavailable")
    assert body["status"] == "down" and body["checks"]["store"]["status"] == "down"
    assert "store" in body["message"] and set(body["checks"]) == {"store", "signing_keys"}


def test_every_answer_carries_the_api_version(client, anonymous):
    answers = [
        anonymous.get("/healthz"),
        anonymous.get("/v1/health"),
        anonymous.get("/openapi.json"),
        anonymous.get("/v1/catalog"),  # 401
        client.get(f"/v1/tenants/{uuid.uuid4()}"),  # 404
        client.get("/v1/tenants/not-a-uuid"),  # 400
        client.put("/v1/tenants"),  # 405
        client.get("/nowhere"),  # 404 from routing
        client.post("/v1/tenants", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"}),
    ]
    assert [r.headers.get("x-api-version") for r in answers] == ["v1"] * len(answers)
    assert {r.status_code for r in answers} >= {200, 400, 401, 404, 405, 413}


def test_the_api_version_is_configurable(store):
    from server.app import create_app

    with create_app(store=store, settings=settings(CHARTER_API_VERSION="v1.3")).test_client() as c:
        assert c.get("/healthz").headers["x-api-version"] == "v1.3"
        assert c.get("/v1/health").json()["version"] == "v1.3"


def test_the_document_is_public_at_both_paths_with_swagger_ui(anonymous):
    plain, versioned = anonymous.get("/openapi.json"), anonymous.get("/v1/openapi.json")
    assert plain.status_code == versioned.status_code == 200
    assert plain.json() == versioned.json()
    paths = plain.json()["paths"]
    assert {"/v1/tenants", "/v1/auth/login", "/.well-known/jwks.json", "/v1/health"} <= set(paths)
    schemes = plain.json()["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    docs = anonymous.get("/docs/")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_public_operations_are_exactly_the_ones_meant_to_be(anonymous):
    """The spec decides: probes, documents, JWKS and the ledger's keys, login and refresh, key verification, and the
    licensing calls a buyer's app makes (the license key in the body is their credential), a payment
    provider's webhook (its signature is its credential), and an audit bundle's download (its token
    is)."""
    from charter import specs

    public = sorted(f"{m.upper()} {p}" for m, p, op in specs.operations(specs.load_merged()) if op["security"] == [])
    assert public == [
        "GET /.well-known/jwks.json",
        "GET /healthz",
        "GET /licensing/{tenant_slug}/v1/issuer/public-key",
        "GET /licensing/{tenant_slug}/v1/products/{product_slug}/policies",
        "GET /licensing/{tenant_slug}/v1/pubkey",
        "GET /licensing/{tenant_slug}/v1/purchase/{invoice_id}",
        "GET /readyz",
        "GET /v1/compliance/audit-exports/{export_id}/bundle",
        "GET /v1/compliance/keys",
        "GET /v1/health",
        "POST /licensing/{tenant_slug}/v1/machines/activate",
        "POST /licensing/{tenant_slug}/v1/machines/deactivate",
        "POST /licensing/{tenant_slug}/v1/machines/heartbeat",
        "POST /licensing/{tenant_slug}/v1/payments/{provider}/webhook",
        "POST /licensing/{tenant_slug}/v1/purchase",
        "POST /licensing/{tenant_slug}/v1/recover",
        "POST /licensing/{tenant_slug}/v1/redeem",
        "POST /licensing/{tenant_slug}/v1/subscriptions/cancel",
        "POST /licensing/{tenant_slug}/v1/upgrade",
        "POST /licensing/{tenant_slug}/v1/upgrade-quote",
        "POST /licensing/{tenant_slug}/v1/validate",
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "POST /v1/internal/api-keys/verify",
    ]


def test_a_short_admin_key_refuses_to_start():
    from charter.config import Settings
    from server.app import create_app

    with pytest.raises(SystemExit, match="at least 32"):
        create_app(settings=Settings.from_env({"DATABASE_URL": "memory://", "CHARTER_ADMIN_KEY": "too-short"}))
    assert ADMIN["Authorization"].startswith("Bearer ")
