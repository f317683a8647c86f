"""Idempotency-Key through the real app, on every store (charter.idempotency; issue 11, part 5)."""

from __future__ import annotations

import time

import pytest

from charter import idempotency
from tests.helpers import ADMIN, all_events, bearer, create_tenant, new_slug, settings
from tests.identity.helpers import session
from tests.store.helpers import holding

KEY = {"Idempotency-Key": "3f0c9a52-7a55-4f0e-9a57-6b1d6c1e2a11"}


def _create(client, body: dict, key: dict = KEY):
    return client.post("/v1/tenants", json=body, headers=key)


def _created_events(client, slug: str) -> list[dict]:
    return [e for e in all_events(client) if e["action"] == "tenant.created" and e.get("target_name") == slug]


def test_a_repeated_create_is_replayed_and_changes_nothing(client):
    body = {"slug": new_slug(), "name": "Acme"}
    first = _create(client, body)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = _create(client, {"name": "Acme", "slug": body["slug"]})  # the same body, keys in another order
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/json"
    assert len(_created_events(client, body["slug"])) == 1


def test_a_key_used_for_another_request_answers_422(client):
    body = {"slug": new_slug(), "name": "Acme"}
    assert _create(client, body).status_code == 201
    for other in (
        lambda: _create(client, {**body, "name": "Other"}),
        lambda: client.post(f"/v1/tenants/{_id(client, body['slug'])}/cancel", json={}, headers=KEY),
    ):
        r = other()
        assert r.status_code == 422, r.text
        assert r.json()["error"] == idempotency.REUSED
        assert "idempotent-replayed" not in r.headers


def _id(client, slug: str) -> str:
    return client.get(f"/v1/tenants/by-slug/{slug}").json()["id"]


def test_an_answer_the_handler_refused_is_kept_too(client):
    """A 4xx the operation itself gave (a slug taken) is the request's answer: replayed, even
    after the slug is free again would not matter; the key stays bound to it."""
    slug = new_slug()
    create_tenant(client, slug=slug)
    first = _create(client, {"slug": slug, "name": "Acme"})
    assert first.status_code == 409 and first.json()["error"] == "slug_taken"
    again = _create(client, {"slug": slug, "name": "Acme"})
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_a_request_refused_before_the_handler_leaves_the_key_free(client):
    slug = new_slug()
    bad = _create(client, {"slug": slug})  # no name: 400 from validation
    assert bad.status_code == 400
    unauthenticated = client.post("/v1/tenants", json={"slug": slug, "name": "A"}, headers={**KEY, "Authorization": ""})
    assert unauthenticated.status_code == 401
    good = _create(client, {"slug": slug, "name": "Acme"})
    assert good.status_code == 201 and "idempotent-replayed" not in good.headers


def test_without_a_key_nothing_is_kept(client):
    slug = new_slug()
    assert client.post("/v1/tenants", json={"slug": slug, "name": "A"}).status_code == 201
    assert client.post("/v1/tenants", json={"slug": slug, "name": "A"}).status_code == 409


def test_a_malformed_key_answers_400(client):
    for value in (b"", b" leading", b"x" * 256, "caf\u00e9".encode(), b"tab\there"):
        r = client.post("/v1/tenants", json={"slug": new_slug(), "name": "A"}, headers={"Idempotency-Key": value})
        assert r.status_code == 400, (value, r.text)


def test_the_same_key_in_two_tenants_is_two_requests(client, store):
    a, b = create_tenant(client), create_tenant(client)
    answers = []
    for t in (a, b):
        admin = session(client, store, ["tenant_admin"], t["id"])
        body = {"tenant_id": t["id"], "product": "licensing"}
        r = client.post("/v1/catalog/request", json=body, headers={**bearer(admin["access_token"]), **KEY})
        assert r.status_code == 202, r.text
        answers.append(r)
    assert all("idempotent-replayed" not in r.headers for r in answers)
    requested = [e for e in all_events(client) if e["action"] == "catalog.requested"]
    assert sorted(e["tenant_id"] for e in requested) == sorted([a["id"], b["id"]])


def test_another_caller_of_the_same_tenant_does_not_get_the_answer(client, store):
    """A new key's plaintext is in the answer: a second admin of the tenant reusing the key gets
    422, never the first admin's key."""
    t = create_tenant(client)
    first, second = (session(client, store, ["tenant_admin"], t["id"]) for _ in range(2))
    body = {"tenant_id": t["id"], "name": "ci"}
    made = client.post("/v1/api-keys", json=body, headers={**bearer(first["access_token"]), **KEY})
    assert made.status_code == 201, made.text
    replay = client.post("/v1/api-keys", json=body, headers={**bearer(first["access_token"]), **KEY})
    assert replay.json()["plaintext"] == made.json()["plaintext"]
    other = client.post("/v1/api-keys", json=body, headers={**bearer(second["access_token"]), **KEY})
    assert other.status_code == 422
    assert made.json()["plaintext"] not in other.text


def test_a_key_held_by_a_running_request_answers_409(client, app):
    """The key's lock is what a running request holds; holding it here stands for one."""
    where = f"{idempotency.PLATFORM}\0{idempotency.key_hash(KEY['Idempotency-Key'])}".encode()
    with holding(app.services.store, idempotency.lock_of(where)):
        r = _create(client, {"slug": new_slug(), "name": "Acme"})
        assert r.status_code == 409, r.text
        assert r.json()["error"] == idempotency.IN_PROGRESS
    slug = new_slug()
    assert _create(client, {"slug": slug, "name": "Acme"}).status_code == 201  # free again, and nothing was kept


@pytest.fixture
def short_window_client(store):
    from server.app import create_app

    app = create_app(store=store, settings=settings(CHARTER_IDEMPOTENCY_WINDOW_S="1"))
    with app.test_client(headers=ADMIN) as c:
        yield c


def test_a_replay_after_the_window_runs_again(short_window_client):
    client = short_window_client
    slug = new_slug()
    assert _create(client, {"slug": slug, "name": "Acme"}).status_code == 201
    assert _create(client, {"slug": slug, "name": "Acme"}).headers.get("idempotent-replayed") == "true"
    time.sleep(1.1)
    late = _create(client, {"slug": slug, "name": "Acme"})
    assert late.status_code == 409 and late.json()["error"] == "slug_taken"  # it ran again
    assert "idempotent-replayed" not in late.headers
