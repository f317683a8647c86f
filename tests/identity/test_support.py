"""Support sessions: a support user, one tenant, at most an hour, a reason, and every action audited."""

from __future__ import annotations

import uuid

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import claims, session, tenant


def _open(client, support_token: str, tenant_id: str, **body):
    return client.post("/v1/auth/support-session", json={"tenant_id": tenant_id, **body}, headers=bearer(support_token))


def test_support_session_is_bound_time_boxed_and_says_so(client, store):
    t = tenant(client)
    support = session(client, store, ["support"])
    r = _open(client, support["access_token"], t["id"], reason="ticket 4711: keys not verifying")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tenant_id"] == t["id"] and body["reason"] == "ticket 4711: keys not verifying"
    assert 3590 <= body["expires_in"] <= 3600
    token = claims(body["access_token"])
    assert token["kind"] == "support" and token["tid"] == t["id"] and token["reason"] == body["reason"]
    assert token["sub"] == support["user_id"] and token["sid"] == body["session_id"]
    assert token["exp"] - token["iat"] == 3600
    me = client.get("/v1/auth/principal", headers=bearer(body["access_token"])).json()
    assert me["kind"] == "support" and me["tenant_id"] == t["id"] and me["reason"] == body["reason"]
    [started] = audit(client, action="auth.support_session_started")
    assert started["tenant_id"] == t["id"] and started["actor_id"] == support["user_id"]
    assert started["metadata"]["reason"] == body["reason"]

    # a control character that no regex dialect calls whitespace is a reason, if a poor one
    assert _open(client, support["access_token"], t["id"], reason="\x07").status_code == 201
    short = _open(client, support["access_token"], t["id"], reason="quick look", expires_in=300).json()
    assert claims(short["access_token"])["exp"] - claims(short["access_token"])["iat"] == 300


def test_reason_and_length_are_enforced(client, store):
    t = tenant(client)
    support = session(client, store, ["support"])["access_token"]
    for body in (
        {},
        {"reason": ""},
        {"reason": "   "},
        # blank in some dialect is blank: the pattern spells out both ECMA-262's and Python's whitespace
        {"reason": "\x1c"},
        {"reason": " \x85\t"},
        {"reason": "\u3000\ufeff"},
        {"reason": "x" * 501},
        {"reason": "ok", "expires_in": 3601},
        {"reason": "ok", "expires_in": 59},
    ):
        assert_error(_open(client, support, t["id"], **body), 400, "invalid_input")
    assert_error(_open(client, support, str(uuid.uuid4()), reason="nobody"), 404, "tenant_not_found")
    assert audit(client, action="auth.support_session_started") == []


def test_only_platform_support_users_open_one(client, store):
    t = tenant(client)
    admin_of_t = session(client, store, ["tenant_admin"], t["id"])["access_token"]
    assert_error(_open(client, admin_of_t, t["id"], reason="let me in"), 403, "forbidden")
    # the bootstrap key is platform_admin but no user: a support session belongs to a person
    assert_error(client.post("/v1/auth/support-session", json={"tenant_id": t["id"], "reason": "x"}), 403, "forbidden")
    admin = session(client, store, ["platform_admin"])["access_token"]
    assert _open(client, admin, t["id"], reason="platform admin may").status_code == 201


def test_everything_done_with_it_is_audited_as_support(client, store):
    t, other = tenant(client), tenant(client)
    support = session(client, store, ["support"])
    token = _open(client, support["access_token"], t["id"], reason="customer asked for a key").json()
    as_support = bearer(token["access_token"])

    created = client.post("/v1/api-keys", json={"tenant_id": t["id"], "name": "for the customer"}, headers=as_support)
    assert created.status_code == 201, created.text
    [event] = audit(client, action="api_key.created")
    assert event["actor_type"] == "support" and event["actor_id"] == support["user_id"]
    assert event["metadata"]["support_session"] == {"id": token["session_id"], "reason": "customer asked for a key"}

    assert client.get(f"/v1/tenants/{t['id']}", headers=as_support).status_code == 200
    [read] = audit(client, action="support_session.read")
    assert read["tenant_id"] == t["id"] and read["target_id"] == "handlers.registry.tenants.get"
    assert read["metadata"]["support_session"]["reason"] == "customer asked for a key"

    # bound to that tenant: others are invisible, platform actions are not granted
    assert_error(client.get(f"/v1/tenants/{other['id']}", headers=as_support), 404, "tenant_not_found")
    assert_error(client.post(f"/v1/tenants/{t['id']}/cancel", headers=as_support), 403, "forbidden")


def test_platform_support_reads_across_tenants_but_changes_nothing_without_a_session(client, store):
    t = tenant(client)
    support = bearer(session(client, store, ["support"])["access_token"])
    assert client.get(f"/v1/tenants/{t['id']}", headers=support).status_code == 200
    assert client.get("/v1/audit", headers=support).status_code == 200
    assert_error(
        client.post("/v1/api-keys", json={"tenant_id": t["id"], "name": "x"}, headers=support), 403, "forbidden"
    )
    assert audit(client, action="support_session.read") == []  # not a support session: not that kind of audit


def test_ending_a_support_session(client, store):
    t = tenant(client)
    support = session(client, store, ["support"])["access_token"]
    token = _open(client, support, t["id"], reason="done soon").json()["access_token"]
    assert client.post("/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert_error(client.get(f"/v1/tenants/{t['id']}", headers=bearer(token)), 401, "token_revoked")
    assert client.get(f"/v1/tenants/{t['id']}", headers=bearer(support)).status_code == 200  # the login lives on
