"""API key -> service token: POST /v1/auth/token and POST /v1/auth/harbor-access (one handler), on
every store, through the real app."""

from __future__ import annotations

import time

import pytest

from server.app import create_app
from tests.helpers import ADMIN, assert_error, audit, bearer, create_key, legacy_key, settings
from tests.identity.helpers import claims, header, tenant

PATHS = ["/v1/auth/token", "/v1/auth/harbor-access"]
KIT_SKEW_S = 90  # Paybond Kit refreshes this long before expires_in runs out


def exchange(client, plaintext: str, path: str = "/v1/auth/token", **headers):
    return client.post(path, headers={**bearer(plaintext), **headers})


def minted(client) -> list[dict]:
    return audit(client, action="auth.token_minted")


def get_tenant(client, token: str, tenant_id: str):
    return client.get(f"/v1/tenants/{tenant_id}", headers=bearer(token))


@pytest.mark.parametrize("path", PATHS)
def test_the_answer_and_the_token(client, store, path):
    t = tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read", "api_keys:read"])
    key_id = created["api_key"]["id"]
    started = int(time.time())
    r = exchange(client, created["plaintext"], path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "tenant_id", "scope"}, body
    assert body["token_type"] == "Bearer"
    assert KIT_SKEW_S < body["expires_in"] <= 600
    assert body["tenant_id"] == t["id"]
    assert body["scope"] == "tenants:read api_keys:read"
    token = claims(body["access_token"])
    assert token["kind"] == "service" and token["tid"] == t["id"]
    assert token["scope"] == "tenants:read api_keys:read"
    assert token["sid"] == key_id and token["sub"] == key_id
    assert token["iss"] == "charter" and token["aud"] == "charter"
    assert token["exp"] - token["iat"] == 600  # CHARTER_SERVICE_TOKEN_TTL's default
    assert token["nbf"] == token["iat"] and started <= token["iat"] <= int(time.time())
    assert token["roles"] == [] and isinstance(token["jti"], str) and token["jti"]
    head = header(body["access_token"])
    assert head["alg"] == "EdDSA" and isinstance(head["kid"], str) and len(head["kid"]) == 43
    assert head["kid"] in {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    # the principal of the token
    me = client.get("/v1/auth/principal", headers=bearer(body["access_token"])).json()
    assert me["kind"] == "service" and me["subject"] == key_id and "session_id" not in me  # no session behind it
    assert me["tenant_id"] == t["id"] and me["scopes"] == ["tenants:read", "api_keys:read"]
    assert set(me["permissions"]) == {"tenants:read", "api_keys:read"}
    # each exchange mints a new token
    again = exchange(client, created["plaintext"], path).json()["access_token"]
    assert again != body["access_token"] and claims(again)["jti"] != token["jti"]


def test_the_lifetime_is_the_service_ttl_setting(store):
    app = create_app(store=store, settings=settings(CHARTER_SERVICE_TOKEN_TTL="300"))
    with app.test_client(headers=ADMIN) as client:
        t = tenant(client)
        created = create_key(client, t["id"], scopes=["tenants:read"])
        for path in PATHS:
            r = exchange(client, created["plaintext"], path)
            assert r.status_code == 200, r.text
            token = claims(r.json()["access_token"])
            assert token["exp"] - token["iat"] == 300
            assert KIT_SKEW_S < r.json()["expires_in"] <= 300


def test_a_key_without_scopes_answers_an_empty_scope(client, store):
    t = tenant(client)
    created = create_key(client, t["id"])
    r = exchange(client, created["plaintext"])
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "" and "scope" not in claims(r.json()["access_token"])
    assert_error(get_tenant(client, r.json()["access_token"], t["id"]), 403, "forbidden")


def test_the_token_can_do_what_its_scopes_allow_in_its_own_tenant_only(client, store):
    mine, other = tenant(client), tenant(client)
    # tenants:write is a platform permission: a key may carry it, it grants nothing
    created = create_key(client, mine["id"], scopes=["tenants:read", "tenants:write", "harbor:write"])
    body = exchange(client, created["plaintext"]).json()
    token = body["access_token"]
    assert body["scope"] == "tenants:read tenants:write harbor:write"
    as_token = bearer(token)
    r = get_tenant(client, token, mine["id"])
    assert r.status_code == 200 and r.json()["id"] == mine["id"]
    assert_error(get_tenant(client, token, other["id"]), 404)  # another tenant is not even seen
    assert client.get(f"/v1/tenants/by-slug/{mine['slug']}", headers=as_token).status_code == 200
    assert_error(client.get(f"/v1/tenants/by-slug/{other['slug']}", headers=as_token), 404)
    beyond = [
        client.get("/v1/api-keys", params={"tenant_id": mine["id"]}, headers=as_token),
        client.post("/v1/api-keys", json={"tenant_id": mine["id"], "name": "more"}, headers=as_token),
        client.delete(f"/v1/api-keys/{created['api_key']['id']}", headers=as_token),
        client.get("/v1/audit", headers=as_token),
        client.get("/v1/entitlements", params={"tenant_id": mine["id"]}, headers=as_token),
        client.post("/v1/tenants", json={"slug": "sneaky-tenant", "name": "x"}, headers=as_token),
        client.post(f"/v1/tenants/{mine['id']}/cancel", headers=as_token),
        client.post(f"/v1/tenants/{mine['id']}/activate", headers=as_token),
    ]
    for r in beyond:
        assert_error(r, 403, "forbidden")
    # nothing happened
    assert [k["id"] for k in client.get("/v1/api-keys", params={"tenant_id": mine["id"]}).json()["items"]] == [
        created["api_key"]["id"]
    ]
    assert client.get(f"/v1/tenants/{mine['id']}").json()["status"] == "trial"
    assert client.get("/v1/tenants/by-slug/sneaky-tenant").status_code == 404
    # a token of a key with api_keys:read reads its own tenant's keys, not another's
    reader = exchange(client, create_key(client, mine["id"], scopes=["api_keys:read"])["plaintext"]).json()
    ok = client.get("/v1/api-keys", params={"tenant_id": mine["id"]}, headers=bearer(reader["access_token"]))
    assert ok.status_code == 200 and len(ok.json()["items"]) == 2
    assert_error(
        client.get("/v1/api-keys", params={"tenant_id": other["id"]}, headers=bearer(reader["access_token"])), 404
    )


@pytest.mark.parametrize("path", PATHS)
def test_revoking_the_key_ends_its_tokens_at_once_and_mints_nothing(client, store, path):
    t = tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read"])
    kept = create_key(client, t["id"], scopes=["tenants:read"])  # another key of the same tenant
    token = exchange(client, created["plaintext"], path).json()["access_token"]
    other = exchange(client, kept["plaintext"], path).json()["access_token"]
    assert get_tenant(client, token, t["id"]).status_code == 200  # verified and cached by the worker
    assert len(minted(client)) == 2
    assert client.delete(f"/v1/api-keys/{created['api_key']['id']}").status_code == 204
    r = get_tenant(client, token, t["id"])
    assert_error(r, 401, "token_revoked")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_error(client.get("/v1/auth/principal", headers=bearer(token)), 401, "token_revoked")
    # a second worker, which never saw the token, refuses it too
    with create_app(store=store, settings=settings()).test_client() as second:
        assert_error(get_tenant(second, token, t["id"]), 401, "token_revoked")
        assert_error(exchange(second, created["plaintext"], path), 401, "invalid_api_key")
    r = exchange(client, created["plaintext"], path)
    assert_error(r, 401, "invalid_api_key")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert len(minted(client)) == 2  # the revoked key minted nothing
    # the other key and its token are untouched
    assert get_tenant(client, other, t["id"]).status_code == 200
    assert exchange(client, kept["plaintext"], path).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_freezing_the_tenant_ends_its_tokens_and_mints_nothing(client, store, path):
    t, elsewhere = tenant(client), tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read"])
    unrelated = create_key(client, elsewhere["id"], scopes=["tenants:read"])
    token = exchange(client, created["plaintext"], path).json()["access_token"]
    unrelated_token = exchange(client, unrelated["plaintext"], path).json()["access_token"]
    assert get_tenant(client, token, t["id"]).status_code == 200
    r = client.post(f"/v1/tenants/{t['id']}/cancel", json={"reason": "unpaid"})
    assert r.status_code == 200 and r.json()["status"] == "frozen", r.text
    assert_error(get_tenant(client, token, t["id"]), 401, "token_revoked")
    assert_error(client.get("/v1/auth/principal", headers=bearer(token)), 401, "token_revoked")
    assert_error(exchange(client, created["plaintext"], path), 401, "invalid_api_key")
    assert_error(client.get("/v1/auth/principal", headers=bearer(created["plaintext"])), 401, "invalid_api_key")
    assert [e["target_id"] for e in minted(client)].count(created["api_key"]["id"]) == 1
    # another tenant's tokens are not affected
    assert get_tenant(client, unrelated_token, elsewhere["id"]).status_code == 200


def test_every_mint_is_audited_once_and_refusals_not_at_all(client, store):
    t, other = tenant(client), tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read"])
    key_id = created["api_key"]["id"]
    answers = [exchange(client, created["plaintext"], path) for path in PATHS + PATHS]
    assert all(r.status_code == 200 for r in answers)
    events = minted(client)
    assert len(events) == 4
    for event in events:
        assert event["tenant_id"] == t["id"]
        assert event["target_type"] == "api_key" and event["target_id"] == key_id
        assert event["actor_type"] == "api_key" and event["actor_id"] == key_id
    exps = sorted(e["metadata"]["expires_at"] for e in events)
    assert exps == sorted(claims(r.json()["access_token"])["exp"] for r in answers)
    # refusals: malformed, unknown, no credential, another tenant's header, a revoked key
    refusals = [
        client.post("/v1/auth/token", headers=bearer("bp_not-a-key")),
        client.post("/v1/auth/token", headers=bearer("bp_" + "A" * 22)),
        client.post("/v1/auth/harbor-access", headers={"Authorization": ""}),
        client.post("/v1/auth/token", headers={"Authorization": f"Basic {created['plaintext']}"}),
        exchange(client, created["plaintext"], "/v1/auth/token", **{"x-tenant-id": other["id"]}),
        exchange(client, created["plaintext"], "/v1/auth/harbor-access", **{"x-tenant-id": other["id"]}),
    ]
    for r in refusals:
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.delete(f"/v1/api-keys/{key_id}").status_code == 204
    assert_error(exchange(client, created["plaintext"]), 401, "invalid_api_key")
    assert len(minted(client)) == 4


def test_the_tenant_header_contract_applies_to_the_exchange(client, store):
    t, other = tenant(client), tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read"])
    for path in PATHS:
        r = exchange(client, created["plaintext"], path, **{"x-tenant-id": other["id"]})
        assert_error(r, 401, "tenant_mismatch")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert_error(exchange(client, created["plaintext"], path, **{"x-tenant-id": "acme"}), 401, "tenant_mismatch")
        ok = exchange(client, created["plaintext"], path, **{"x-tenant-id": t["id"]})
        assert ok.status_code == 200 and ok.json()["tenant_id"] == t["id"], ok.text
    assert len(minted(client)) == 2
    mismatches = audit(client, action="auth.tenant_mismatch")
    assert len(mismatches) == 4 and {e["tenant_id"] for e in mismatches} == {t["id"]}


def test_a_raw_key_is_no_access_token_but_the_principal_takes_it(client, anonymous, store):
    t = tenant(client)
    created = create_key(client, t["id"], scopes=["tenants:read", "api_keys:read"])
    raw = bearer(created["plaintext"])
    for r in (
        anonymous.get(f"/v1/tenants/{t['id']}", headers=raw),
        anonymous.get("/v1/api-keys", params={"tenant_id": t["id"]}, headers=raw),
        anonymous.get("/v1/catalog", headers=raw),
        anonymous.post("/v1/auth/logout", headers=raw),
    ):
        body = assert_error(r, 401, "invalid_token")
        assert "exchange" in body["message"]
        assert r.headers["www-authenticate"].startswith("Bearer")
    # Paybond Kit resolves its tenant with the raw key
    r = anonymous.get("/v1/auth/principal", headers=raw)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["tenant_id"] == t["id"] and me["kind"] == "api_key"
    assert me["subject"] == created["api_key"]["id"] and me["scopes"] == ["tenants:read", "api_keys:read"]
    assert me["tenant"]["id"] == t["id"] and me["tenant"]["slug"] == t["slug"]
    assert "expires_at" not in me
    assert_error(anonymous.get("/v1/auth/principal", headers=bearer("bp_" + "B" * 22)), 401, "invalid_api_key")
    # an access token is not accepted where only a key is
    token = exchange(client, created["plaintext"]).json()["access_token"]
    assert_error(anonymous.post("/v1/auth/token", headers=bearer(token)), 401, "invalid_api_key")
    assert_error(anonymous.post("/v1/auth/harbor-access", headers=ADMIN), 401, "invalid_api_key")
    assert len(minted(client)) == 1


def test_the_exchange_refuses_an_address_its_failures_but_never_a_key_that_verifies(store):
    app = create_app(store=store, settings=settings(CHARTER_RATE_LIMITS="exchange.ip=3/60"))
    with app.test_client(headers=ADMIN) as client:
        t = tenant(client)
        key = create_key(client, t["id"], scopes=["tenants:read"])
        wrong = "bp_" + "W" * 22
        for path in ["/v1/auth/token", "/v1/auth/harbor-access", "/v1/auth/token"]:
            assert_error(exchange(client, wrong, path), 401, "invalid_api_key")
        for path in PATHS:
            r = exchange(client, wrong, path)
            assert_error(r, 429, "rate_limited")
            retry_after = r.headers["retry-after"]
            assert retry_after.isdigit() and 1 <= int(retry_after) <= 60, retry_after
        for path in [*PATHS, *PATHS]:  # the same address, over its failures: a good key still passes
            assert exchange(client, key["plaintext"], path).status_code == 200
        assert len(minted(client)) == 2 * len(PATHS)


def test_knowing_a_prefix_locks_no_key_out(store):
    """Bad keys on a key's own display prefix (it is shown in listings), sent to a worker that has
    never seen the key, refuse nothing but themselves. Only a key made before SHA-256 costs argon2,
    and its prefix's failures then ration the runs; where it is known, it costs nothing."""
    limits = settings(CHARTER_RATE_LIMITS="exchange.key=2/60,exchange.ip=off")
    app = create_app(store=store, settings=limits)
    with app.test_client(headers=ADMIN) as client:
        t = tenant(client)
        key = create_key(client, t["id"], scopes=["tenants:read"])["plaintext"]
        wrong = key[:11] + ("A" if key[11] != "A" else "B") + key[12:]
        with create_app(store=store, settings=limits).test_client() as cold:
            for _ in range(50):
                assert_error(exchange(cold, wrong), 401, "invalid_api_key")
            assert exchange(cold, key).status_code == 200  # never refused
        old = legacy_key(store, t["id"], ["tenants:read"])
        assert exchange(client, old).status_code == 200  # this worker now knows the old key
        old_wrong = old[:11] + ("A" if old[11] != "A" else "B") + old[12:]
        with create_app(store=store, settings=limits).test_client() as cold:
            for _ in range(2):  # each costs the cold worker an argon2 run
                assert_error(exchange(cold, old_wrong), 401, "invalid_api_key")
            assert_error(exchange(cold, old_wrong), 429, "rate_limited")  # no third run for that prefix
        for _ in range(3):  # where the old key is known it costs nothing to check
            assert exchange(client, old_wrong).status_code == 401
            assert exchange(client, old).status_code == 200
