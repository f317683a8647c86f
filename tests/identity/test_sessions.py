"""Login, refresh rotation with reuse detection, and logout, through the real app on every store."""

from __future__ import annotations

import time
import uuid

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import PASSWORD, add_user, claims, header, login, new_email, session, tenant


def _cookie(response) -> dict:
    raw = response.headers["set-cookie"]
    name_value, *attributes = [part.strip() for part in raw.split(";")]
    name, _, value = name_value.partition("=")
    return {"name": name, "value": value, **{a.partition("=")[0].lower(): a.partition("=")[2] for a in attributes}}


def test_login_answers_tokens_and_a_hardened_cookie(client, store):
    t = tenant(client)
    user = add_user(store, ["tenant_admin"], t["id"])
    r = login(client, user.email.upper())  # emails are matched without regard to case
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["tenant_id"] == t["id"] and body["roles"] == ["tenant_admin"]
    assert 0 < body["expires_in"] <= 900 and body["refresh_expires_in"] > body["expires_in"]
    token = claims(body["access_token"])
    assert token["sub"] == str(user.id) and token["tid"] == t["id"] and token["roles"] == ["tenant_admin"]
    assert token["kind"] == "user" and token["sid"] == body["session_id"]
    assert token["iss"] == "charter" and token["aud"] == "charter" and token["jti"]
    assert token["exp"] - token["iat"] == 900 and header(body["access_token"])["alg"] == "EdDSA"
    cookie = _cookie(r)
    assert cookie["name"] == "charter_session" and cookie["value"] == body["refresh_token"]
    assert {"httponly", "secure"} <= set(cookie) and cookie["samesite"] == "Strict"
    assert cookie["path"] == "/v1/auth" and int(cookie["max-age"]) > 0
    # the token works, as that user, in that tenant only
    me = client.get("/v1/auth/principal", headers=bearer(body["access_token"])).json()
    assert me["kind"] == "user" and me["tenant_id"] == t["id"] and me["tenant"]["slug"] == t["slug"]
    assert "api_keys:write" in me["permissions"] and "tenants:write" not in me["permissions"]
    events = audit(client, action="auth.login")
    assert [(e["tenant_id"], e["actor_id"], e["target_id"]) for e in events] == [
        (t["id"], str(user.id), body["session_id"])
    ]


def test_wrong_password_and_unknown_email_look_alike_and_are_audited(client, store):
    user = add_user(store, ["platform_admin"])
    wrong = login(client, user.email, password="not the password at all")
    nobody = login(client, new_email("ghost"))
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(nobody, 401, "invalid_credentials")
    assert wrong.json()["message"] == nobody.json()["message"]
    assert wrong.headers["www-authenticate"] == nobody.headers["www-authenticate"] == 'Bearer realm="charter"'
    assert "set-cookie" not in wrong.headers
    failures = audit(client, action="auth.login_failed")
    assert len(failures) == 2
    assert {e["metadata"]["reason"] for e in failures} == {"bad_credentials"}
    assert audit(client, action="auth.login") == []


def test_choosing_the_tenant(client, store):
    a, b = tenant(client), tenant(client)
    user = add_user(store, ["tenant_member"], a["id"])
    add_user(store, ["tenant_admin"], b["id"], email=user.email)  # same user, second tenant
    assert_error(login(client, user.email), 400, "tenant_required")
    by_body = login(client, user.email, tenant_id=b["id"]).json()
    assert by_body["tenant_id"] == b["id"] and by_body["roles"] == ["tenant_admin"]
    by_header = login(client, user.email, headers={"x-tenant-id": a["id"]}).json()
    assert by_header["tenant_id"] == a["id"] and by_header["roles"] == ["tenant_member"]
    assert_error(login(client, user.email, tenant_id=a["id"], headers={"x-tenant-id": b["id"]}), 401, "tenant_mismatch")
    assert_error(login(client, user.email, tenant_id=str(uuid.uuid4())), 403, "not_a_member")


def test_platform_user_gets_a_platform_session(client, store):
    user = add_user(store, ["support"])
    body = login(client, user.email).json()
    assert "tenant_id" not in body and body["roles"] == ["support"] and "tid" not in claims(body["access_token"])


def test_refresh_rotates_and_reuse_revokes_the_family(client, store):
    t = tenant(client)
    first = session(client, store, ["tenant_admin"], t["id"])
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}, headers={"Authorization": ""})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["session_id"] == first["session_id"]
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert _cookie(r)["value"] == second["refresh_token"]
    for token in (first["access_token"], second["access_token"]):
        assert client.get(f"/v1/tenants/{t['id']}", headers=bearer(token)).status_code == 200

    # the spent token used again: it leaked, so the whole session goes
    reuse = client.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}, headers={"Authorization": ""}
    )
    assert_error(reuse, 401, "refresh_token_reused")
    assert _cookie(reuse)["max-age"] == "0"  # the browser drops the dead session's cookie
    for token in (first["access_token"], second["access_token"]):
        assert_error(client.get(f"/v1/tenants/{t['id']}", headers=bearer(token)), 401, "token_revoked")
    newest = client.post(
        "/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}, headers={"Authorization": ""}
    )
    assert_error(newest, 401, "invalid_refresh_token")
    assert [e["action"] for e in audit(client, tenant_id=t["id"]) if e["action"].startswith("auth.")] == [
        "auth.refresh_reused",
        "auth.refreshed",
        "auth.login",
    ]


def test_refresh_from_the_cookie_and_bad_tokens(client, anonymous, store):
    first = session(client, store, ["platform_admin"])
    r = anonymous.post("/v1/auth/refresh", cookies={"charter_session": first["refresh_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["session_id"] == first["session_id"]
    assert_error(anonymous.post("/v1/auth/refresh"), 401, "refresh_token_missing")
    for bad in ("rt_" + "A" * 43, "nonsense", first["refresh_token"] + "x"):
        assert_error(anonymous.post("/v1/auth/refresh", json={"refresh_token": bad}), 401, "invalid_refresh_token")
    assert_error(anonymous.post("/v1/auth/refresh", json={"refresh_token": 7}), 400)
    assert_error(anonymous.post("/v1/auth/refresh", json={"refresh_token": first["access_token"]}), 400)  # > 256


def test_logout_revokes_the_session_at_once_in_every_worker(client, store):
    from server.app import create_app
    from tests.helpers import settings

    t = tenant(client)
    s = session(client, store, ["tenant_member"], t["id"])
    other_worker = create_app(store=store, settings=settings()).test_client()
    with other_worker:
        assert other_worker.get(f"/v1/tenants/{t['id']}", headers=bearer(s["access_token"])).status_code == 200
        r = client.post("/v1/auth/logout", headers=bearer(s["access_token"]))
        assert r.status_code == 204 and r.content == b""
        cleared = _cookie(r)
        assert cleared["name"] == "charter_session" and cleared["value"] == "" and cleared["max-age"] == "0"
        # the other worker had verified (and cached) the token: it still refuses it at once
        assert_error(
            other_worker.get(f"/v1/tenants/{t['id']}", headers=bearer(s["access_token"])), 401, "token_revoked"
        )
    assert_error(client.post("/v1/auth/logout", headers=bearer(s["access_token"])), 401, "token_revoked")
    refreshed = client.post(
        "/v1/auth/refresh", json={"refresh_token": s["refresh_token"]}, headers={"Authorization": ""}
    )
    assert_error(refreshed, 401, "invalid_refresh_token")
    assert len(audit(client, action="auth.logout")) == 1


def test_logout_needs_a_session(client, anonymous):
    assert_error(anonymous.post("/v1/auth/logout"), 401, "unauthorized")
    assert_error(client.post("/v1/auth/logout"), 409, "no_session")  # the bootstrap key has none


def test_a_session_ends_when_the_user_loses_its_roles(client, store):
    from services.identity import users

    t = tenant(client)
    s = session(client, store, ["tenant_admin"], t["id"])
    user = users.existing(store, s["email"])
    from dataclasses import replace

    from store.models import utcnow

    with store.write() as w:
        w.users.save(replace(user, disabled_at=utcnow()))
    refreshed = client.post(
        "/v1/auth/refresh", json={"refresh_token": s["refresh_token"]}, headers={"Authorization": ""}
    )
    assert_error(refreshed, 401, "invalid_refresh_token")
    assert_error(client.get(f"/v1/tenants/{t['id']}", headers=bearer(s["access_token"])), 401, "token_revoked")
    assert_error(login(client, s["email"]), 401, "invalid_credentials")


def test_access_token_lifetime_never_outlives_the_session(client, store):
    from server.app import create_app
    from tests.helpers import ADMIN, settings

    app = create_app(store=store, settings=settings(CHARTER_SESSION_TTL="5", CHARTER_ACCESS_TOKEN_TTL="900"))
    with app.test_client(headers=ADMIN) as c:
        user = add_user(store, ["platform_admin"])
        body = login(c, user.email).json()
        assert body["expires_in"] <= 5 and claims(body["access_token"])["exp"] <= time.time() + 5
        assert PASSWORD not in str(body)
