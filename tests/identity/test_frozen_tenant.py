"""A frozen (cancelled) tenant's users stop at once: their access tokens, their refreshes, their
sign-ins; a service token of the tenant stops as well. Activated again, the sessions go on. A
support session may still look into the frozen tenant (hardening, issue 10: item 10)."""

from __future__ import annotations

from tests.helpers import assert_error, bearer, create_key, create_tenant
from tests.identity.helpers import PASSWORD, add_user, login, service_token


def test_a_frozen_tenants_user_tokens_and_refreshes_stop_at_once(client, store):
    tenant = create_tenant(client)
    user = add_user(store, ["tenant_admin"], tenant["id"])
    pair = login(client, user.email).json()
    token = bearer(pair["access_token"])
    service = bearer(service_token(client, tenant["id"], ["tenants:read"])["access_token"])
    assert client.get(f"/v1/tenants/{tenant['id']}", headers=token).status_code == 200

    assert client.post(f"/v1/tenants/{tenant['id']}/cancel", json={}).json()["status"] == "frozen"
    assert_error(client.get(f"/v1/tenants/{tenant['id']}", headers=token), 401, "token_revoked")
    assert_error(client.get(f"/v1/tenants/{tenant['id']}", headers=service), 401, "token_revoked")
    refreshed = client.post(
        "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers={"Authorization": ""}
    )
    assert_error(refreshed, 401, "tenant_inactive")
    assert_error(login(client, user.email, password=PASSWORD), 403, "tenant_inactive")

    assert client.post(f"/v1/tenants/{tenant['id']}/activate", json={}).json()["status"] == "active"
    assert client.get(f"/v1/tenants/{tenant['id']}", headers=token).status_code == 200  # not revoked: paused
    again = client.post(
        "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers={"Authorization": ""}
    )
    assert again.status_code == 200, again.text


def test_support_still_looks_into_a_frozen_tenant(client, store):
    tenant = create_tenant(client)
    create_key(client, tenant["id"])
    support = add_user(store, ["support"])
    support_token = bearer(login(client, support.email).json()["access_token"])
    opened = client.post(
        "/v1/auth/support-session", json={"tenant_id": tenant["id"], "reason": "ticket 42"}, headers=support_token
    )
    assert opened.status_code == 201, opened.text
    session = bearer(opened.json()["access_token"])
    assert client.post(f"/v1/tenants/{tenant['id']}/cancel", json={}).status_code == 200
    assert client.get(f"/v1/api-keys?tenant_id={tenant['id']}", headers=session).status_code == 200
