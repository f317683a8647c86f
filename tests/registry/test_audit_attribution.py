"""Who appended an audit event is the server's to say (recorded_by, from the credential); the
actor fields of a reported event are the reporter's claims, and a tenant's credential cannot
claim a platform actor (hardening, issue 10: item 9). On every store."""

from __future__ import annotations

from tests.helpers import assert_error, audit, bearer, create_tenant
from tests.identity.helpers import service_token


def test_a_tenant_token_cannot_pass_for_the_platform_and_is_recorded_as_itself(client):
    tenant = create_tenant(client)
    minted = service_token(client, tenant["id"], ["audit:write", "audit:read"])
    token = bearer(minted["access_token"])
    for claimed in ("admin_key", "support", "cli", "system", "job"):
        r = client.post(
            "/v1/audit", json={"action": "forged", "actor_type": claimed, "actor_id": "bootstrap"}, headers=token
        )
        assert_error(r, 403, "platform_actor")
    assert audit(client, action="forged") == []

    r = client.post("/v1/audit", json={"action": "doc.viewed", "actor_type": "user", "actor_id": "u-7"}, headers=token)
    assert r.status_code == 201, r.text
    event = r.json()
    assert (event["actor_type"], event["actor_id"]) == ("user", "u-7")  # the claim, kept as a claim
    assert event["recorded_by"] == {"kind": "service", "id": minted["key_id"], "tenant_id": tenant["id"]}
    assert audit(client, action="doc.viewed") == [event]


def test_the_platform_may_report_any_actor_and_is_recorded_too(client):
    r = client.post("/v1/audit", json={"action": "imported", "actor_type": "system", "actor_id": "etl"})
    assert r.status_code == 201, r.text
    assert r.json()["recorded_by"] == {"kind": "admin_key", "id": "bootstrap"}


def test_events_the_server_records_name_their_recorder(client):
    tenant = create_tenant(client)
    created = audit(client, action="tenant.created", tenant_id=tenant["id"])[0]
    assert created["recorded_by"] == {"kind": "admin_key", "id": "bootstrap"}
    assert (created["actor_type"], created["actor_id"]) == ("admin_key", "bootstrap")
