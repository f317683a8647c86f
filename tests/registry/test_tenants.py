"""Tenants through the real app, on every store."""

import uuid

from tests.helpers import assert_error, audit, create_tenant, new_slug


def test_create_customer_starts_a_14_day_trial(client):
    t = create_tenant(client, plan="pro", sales_owner="sam")
    assert t["status"] == "trial" and t["kind"] == "customer" and t["plan"] == "pro"
    assert t["sales_owner"] == "sam"
    uuid.UUID(t["id"])
    from datetime import datetime

    created = datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
    ends = datetime.fromisoformat(t["trial_ends_at"].replace("Z", "+00:00"))
    assert (ends - created).days == 14


def test_create_demo_and_defaults(client):
    t = create_tenant(client, kind="demo")
    assert t["status"] == "demo" and t["plan"] == "starter" and t["trial_ends_at"] is None
    assert "sales_owner" not in t and "erp_customer_id" not in t


def test_create_writes_one_audit_event(client):
    t = create_tenant(client)
    events = audit(client, tenant_id=t["id"])
    assert [e["action"] for e in events] == ["tenant.created"]
    assert events[0]["target_id"] == t["id"] and events[0]["target_type"] == "tenant"


def test_duplicate_slug_is_409_and_not_audited(client):
    t = create_tenant(client)
    r = client.post("/v1/tenants", json={"slug": t["slug"], "name": "Other"})
    assert_error(r, 409, "slug_taken")
    assert len(audit(client, action="tenant.created")) == 1


def test_create_validation_errors(client):
    for body in (
        {"slug": "A", "name": "x"},
        {"slug": "-bad-", "name": "x"},
        {"slug": "ok-slug"},
        {"slug": "ok-slug", "name": ""},
        {"slug": "ok-slug", "name": "x" * 256},
        {"slug": "ok-slug", "name": "x", "kind": "partner"},
        {"slug": "ok-slug", "name": 7},
        {"slug": "ok-slug\n", "name": "x"},  # `$` ends the text, as in ECMA-262
    ):
        assert_error(client.post("/v1/tenants", json=body), 400, "invalid_input")
    assert_error(client.post("/v1/tenants", content=b"[1,", headers={"content-type": "application/json"}), 400)
    assert_error(client.post("/v1/tenants", content=b"slug=a", headers={"content-type": "text/plain"}), 415)
    assert audit(client) == []


def test_get_by_id_and_slug(client):
    t = create_tenant(client)
    assert client.get(f"/v1/tenants/{t['id']}").json() == t
    assert client.get(f"/v1/tenants/by-slug/{t['slug']}").json() == t
    assert_error(client.get(f"/v1/tenants/{uuid.uuid4()}"), 404, "tenant_not_found")
    assert_error(client.get("/v1/tenants/by-slug/nobody-here"), 404, "tenant_not_found")
    assert_error(client.get("/v1/tenants/not-a-uuid"), 400, "invalid_input")
    assert_error(client.get("/v1/tenants/by-slug/UPPER"), 400, "invalid_input")


def test_activate_then_cancel_then_reactivate(client):
    t = create_tenant(client)
    r = client.post(
        f"/v1/tenants/{t['id']}/activate",
        json={
            "plan": "enterprise",
            "contract_start": "2026-01-01",
            "contract_end": "2026-12-31",
            "erp_customer_id": "ERP-1",
        },
    )
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["status"] == "active" and a["plan"] == "enterprise" and a["erp_customer_id"] == "ERP-1"
    assert a["contract_start"] == "2026-01-01" and a["contract_end"] == "2026-12-31"
    assert a["trial_ends_at"] is None and a["updated_at"] >= t["updated_at"]
    assert_error(client.post(f"/v1/tenants/{t['id']}/activate"), 409, "invalid_transition")

    r = client.post(f"/v1/tenants/{t['id']}/cancel", json={"reason": "budget", "at_period_end": True})
    assert r.status_code == 200 and r.json()["status"] == "frozen"
    assert_error(client.post(f"/v1/tenants/{t['id']}/cancel"), 409, "invalid_transition")
    r = client.post(f"/v1/tenants/{t['id']}/activate")  # no body at all
    assert r.status_code == 200 and r.json()["status"] == "active"

    events = audit(client, tenant_id=t["id"])
    assert [e["action"] for e in events] == [
        "tenant.activated",
        "tenant.cancelled",
        "tenant.activated",
        "tenant.created",
    ]
    cancelled = events[1]
    assert cancelled["metadata"]["reason"] == "budget" and cancelled["metadata"]["at_period_end"] is True
    assert cancelled["metadata"]["from"] == "active" and cancelled["metadata"]["to"] == "frozen"


def test_demo_can_be_cancelled(client):
    t = create_tenant(client, kind="demo")
    assert client.post(f"/v1/tenants/{t['id']}/cancel").json()["status"] == "frozen"


def test_contract_ending_before_it_starts_is_409(client):
    t = create_tenant(client)
    r = client.post(
        f"/v1/tenants/{t['id']}/activate", json={"contract_start": "2026-05-01", "contract_end": "2026-04-30"}
    )
    assert_error(r, 409, "invalid_contract_dates")
    assert client.get(f"/v1/tenants/{t['id']}").json()["status"] == "trial"
    assert [e["action"] for e in audit(client, tenant_id=t["id"])] == ["tenant.created"]


def test_transition_validation_and_404(client):
    t = create_tenant(client)
    assert_error(client.post(f"/v1/tenants/{t['id']}/activate", json={"contract_start": "2026-02-30"}), 400)
    assert_error(client.post(f"/v1/tenants/{t['id']}/activate", json={"contract_start": "soon"}), 400)
    assert_error(client.post(f"/v1/tenants/{t['id']}/cancel", json={"at_period_end": "yes"}), 400)
    assert_error(client.post(f"/v1/tenants/{uuid.uuid4()}/activate"), 404, "tenant_not_found")
    assert_error(client.post(f"/v1/tenants/{uuid.uuid4()}/cancel", json={}), 404, "tenant_not_found")
    assert_error(client.post("/v1/tenants/xyz/cancel", json={}), 400)


def test_slug_pattern_edges(client):
    assert client.post("/v1/tenants", json={"slug": "abc", "name": "x"}).status_code == 201
    assert client.post("/v1/tenants", json={"slug": "a" * 40, "name": "x"}).status_code == 201
    assert_error(client.post("/v1/tenants", json={"slug": "a" * 41, "name": "x"}), 400)
    assert_error(client.post("/v1/tenants", json={"slug": "ab", "name": "x"}), 400)
    assert new_slug() != new_slug()
