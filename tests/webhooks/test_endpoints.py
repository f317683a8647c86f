"""Webhook endpoints through the real app, on every store: the secret shown once and sealed at
rest, rotation, the event catalog, tenancy, roles and the egress guard."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from charter.sealing import Sealer, parse_key
from services.webhooks import egress
from tests.helpers import ADMIN, SECRET_KEY, assert_error, audit, bearer, create_tenant, settings
from tests.identity.helpers import session

URL = "https://hooks.example.com/in"
SECRET = re.compile(r"^whsec_([A-Za-z0-9+/]+={0,2})$")
FIELDS = {"id", "tenant_id", "url", "event_types", "disabled", "created_at", "updated_at"}


@pytest.fixture
def private_app(store):
    """The app with CHARTER_WEBHOOK_ALLOW_PRIVATE=1: loopback endpoints allowed, as a local receiver needs."""
    from server.app import create_app

    return create_app(store=store, settings=settings(CHARTER_WEBHOOK_ALLOW_PRIVATE="1"))


@pytest.fixture
def tenant(client):
    return create_tenant(client)


def _in(tenant: dict, **headers) -> dict:
    return {"x-tenant-id": tenant["id"], **headers}


def _create(client, tenant, **body) -> dict:
    r = client.post("/v1/webhooks/endpoints", json={"url": URL, **body}, headers=_in(tenant))
    assert r.status_code == 201, r.text
    return r.json()


def _secret_bytes(secret: str) -> bytes:
    m = SECRET.match(secret)
    assert m, secret
    raw = base64.b64decode(m[1], validate=True)
    assert 24 <= len(raw) <= 64
    return raw


def test_create_shows_the_secret_once(client, tenant):
    made = _create(client, tenant, description="billing", event_types=["tenant.created", "api_key.revoked"])
    assert set(made) == FIELDS | {"description", "secret"}
    assert made["url"] == URL and made["tenant_id"] == tenant["id"] and made["disabled"] is False
    assert made["event_types"] == ["tenant.created", "api_key.revoked"] and made["description"] == "billing"
    _secret_bytes(made["secret"])
    got = client.get(f"/v1/webhooks/endpoints/{made['id']}", headers=_in(tenant))
    assert got.status_code == 200 and "secret" not in got.json()
    assert made["secret"] not in got.text
    listed = client.get("/v1/webhooks/endpoints", headers=_in(tenant))
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["items"]] == [made["id"]]
    assert made["secret"] not in listed.text and "secret" not in listed.json()["items"][0]
    events = audit(client, tenant_id=tenant["id"], action="webhook_endpoint.created")
    assert len(events) == 1 and made["secret"] not in str(events)


def test_without_event_types_it_gets_every_event(client, tenant):
    made = _create(client, tenant)
    assert made["event_types"] is None and "description" not in made
    assert made["secret"] != _create(client, tenant)["secret"]


def test_unknown_event_type_answers_400(client, tenant):
    r = client.post(
        "/v1/webhooks/endpoints", json={"url": URL, "event_types": ["tenant.exploded"]}, headers=_in(tenant)
    )
    assert_error(r, 400, "unknown_event_type")
    assert client.get("/v1/webhooks/endpoints", headers=_in(tenant)).json()["items"] == []


def test_patch_changes_what_it_is_given(client, tenant):
    made = _create(client, tenant, description="old")
    r = client.patch(
        f"/v1/webhooks/endpoints/{made['id']}",
        json={"disabled": True, "event_types": ["api_key.created"], "url": "https://other.example.com/h"},
        headers=_in(tenant),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["disabled"] is True and body["event_types"] == ["api_key.created"] and body["description"] == "old"
    assert body["url"] == "https://other.example.com/h" and "secret" not in body
    assert body["created_at"] == made["created_at"] and body["updated_at"] >= made["updated_at"]
    cleared = client.patch(
        f"/v1/webhooks/endpoints/{made['id']}", json={"description": None, "event_types": None}, headers=_in(tenant)
    ).json()
    assert "description" not in cleared and cleared["event_types"] is None and cleared["disabled"] is True
    assert_error(
        client.patch(f"/v1/webhooks/endpoints/{made['id']}", json={"event_types": ["nope.no"]}, headers=_in(tenant)),
        400,
        "unknown_event_type",
    )
    assert_error(
        client.patch(f"/v1/webhooks/endpoints/{made['id']}", json={"url": "http://10.0.0.1/"}, headers=_in(tenant)),
        400,
        "url_not_allowed",
    )
    assert len(audit(client, tenant_id=tenant["id"], action="webhook_endpoint.updated")) == 2


def test_delete(client, tenant):
    made = _create(client, tenant)
    assert client.delete(f"/v1/webhooks/endpoints/{made['id']}", headers=_in(tenant)).status_code == 204
    assert_error(client.get(f"/v1/webhooks/endpoints/{made['id']}", headers=_in(tenant)), 404)
    assert_error(client.delete(f"/v1/webhooks/endpoints/{made['id']}", headers=_in(tenant)), 404)
    assert len(audit(client, tenant_id=tenant["id"], action="webhook_endpoint.deleted")) == 1


def test_rotate_keeps_the_previous_secret_sealed_for_24_hours(client, tenant, store, app):
    from services.webhooks.endpoints import Webhooks

    made = _create(client, tenant)
    r = client.post(f"/v1/webhooks/endpoints/{made['id']}/rotate-secret", headers=_in(tenant))
    assert r.status_code == 200, r.text
    rotated = r.json()
    _secret_bytes(rotated["secret"])
    assert rotated["secret"] != made["secret"] and rotated["id"] == made["id"]
    until = datetime.fromisoformat(rotated["previous_secret_expires_at"].replace("Z", "+00:00"))
    now = datetime.fromisoformat(rotated["updated_at"].replace("Z", "+00:00"))
    assert abs(until - (now + timedelta(hours=24))) < timedelta(seconds=5)
    got = client.get(f"/v1/webhooks/endpoints/{made['id']}", headers=_in(tenant)).json()
    assert "secret" not in got and got["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    hooks = app.services.get(Webhooks)
    with store.read() as s:
        endpoint = s.webhook_endpoints.get(__import__("uuid").UUID(made["id"]))
    assert hooks.secret_of(endpoint) == rotated["secret"]
    assert hooks.previous_secret_of(endpoint) == made["secret"]
    assert hooks.previous_secret_of(endpoint, now=until + timedelta(seconds=1)) is None
    assert len(audit(client, tenant_id=tenant["id"], action="webhook_endpoint.secret_rotated")) == 1


def test_idempotent_create_replays_the_same_secret(client, tenant):
    headers = _in(tenant, **{"Idempotency-Key": "webhook-create-1"})
    first = client.post("/v1/webhooks/endpoints", json={"url": URL}, headers=headers)
    again = client.post("/v1/webhooks/endpoints", json={"url": URL}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len(client.get("/v1/webhooks/endpoints", headers=_in(tenant)).json()["items"]) == 1
    other = client.post("/v1/webhooks/endpoints", json={"url": URL + "2"}, headers=headers)
    assert_error(other, 422, "idempotency_key_reused")


def test_another_tenants_endpoint_answers_404(client, store, tenant):
    other = create_tenant(client)
    theirs = _create(client, other)
    admin = bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])
    for method, path, body in (
        ("GET", f"/v1/webhooks/endpoints/{theirs['id']}", None),
        ("PATCH", f"/v1/webhooks/endpoints/{theirs['id']}", {"disabled": True}),
        ("DELETE", f"/v1/webhooks/endpoints/{theirs['id']}", None),
        ("POST", f"/v1/webhooks/endpoints/{theirs['id']}/rotate-secret", None),
    ):
        r = client.request(method, path, json=body, headers={**ADMIN, **_in(tenant)})  # platform, narrowed
        assert_error(r, 404, "webhook_endpoint_not_found")
        r = client.request(method, path, json=body, headers=admin)
        assert_error(r, 404, "webhook_endpoint_not_found")
        ghost = path.replace(theirs["id"], "00000000-0000-4000-8000-000000000000")
        assert client.request(method, ghost, json=body, headers=admin).json()["error"] == r.json()["error"]
    assert client.get("/v1/webhooks/endpoints", headers=admin).json()["items"] == []
    assert client.get(f"/v1/webhooks/endpoints/{theirs['id']}", headers=_in(other)).json()["disabled"] is False
    # a platform caller without x-tenant-id sees every tenant's, and must name one to create
    assert theirs["id"] in [e["id"] for e in client.get("/v1/webhooks/endpoints").json()["items"]]
    assert_error(client.post("/v1/webhooks/endpoints", json={"url": URL}), 404, "tenant_not_found")


def test_a_member_reads_an_admin_writes(client, store, tenant):
    made = _create(client, tenant)
    member = bearer(session(client, store, ["tenant_member"], tenant["id"])["access_token"])
    admin = bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])
    assert client.get("/v1/webhooks/endpoints", headers=member).status_code == 200
    assert client.get(f"/v1/webhooks/endpoints/{made['id']}", headers=member).status_code == 200
    assert client.get("/v1/webhooks/event-types", headers=member).status_code == 200
    assert_error(client.post("/v1/webhooks/endpoints", json={"url": URL}, headers=member), 403, "forbidden")
    assert_error(client.patch(f"/v1/webhooks/endpoints/{made['id']}", json={}, headers=member), 403, "forbidden")
    assert_error(client.delete(f"/v1/webhooks/endpoints/{made['id']}", headers=member), 403, "forbidden")
    r = client.post(f"/v1/webhooks/endpoints/{made['id']}/rotate-secret", headers=member)
    assert_error(r, 403, "forbidden")
    mine = client.post("/v1/webhooks/endpoints", json={"url": URL}, headers=admin)
    assert mine.status_code == 201 and mine.json()["tenant_id"] == tenant["id"]
    assert client.delete(f"/v1/webhooks/endpoints/{made['id']}", headers=admin).status_code == 204


def test_unauthenticated_answers_401(anonymous):
    assert_error(anonymous.get("/v1/webhooks/endpoints"), 401)
    assert_error(anonymous.post("/v1/webhooks/endpoints", json={"url": URL}), 401)
    assert_error(anonymous.get("/v1/webhooks/event-types"), 401)


REFUSED = [
    "http://127.0.0.1/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/hook",
    "http://[fc00::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "http://localhost:8080/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_egress_guard_refuses_non_public_addresses(client, tenant, url):
    r = client.post("/v1/webhooks/endpoints", json={"url": url}, headers=_in(tenant))
    assert_error(r, 400, "url_not_allowed")
    assert client.get("/v1/webhooks/endpoints", headers=_in(tenant)).json()["items"] == []


def test_the_guard_judges_every_resolved_address_without_connecting():
    seen = []

    def resolver(host):
        seen.append(host)
        return {"mixed.example": ["93.184.216.34", "10.0.0.7"], "public.example": ["93.184.216.34"]}.get(host, [])

    assert "10.0.0.7" in egress.refused("https://mixed.example/x", resolver=resolver)
    assert egress.refused("https://public.example/x", resolver=resolver) is None
    assert egress.refused("https://unresolvable.example/x", resolver=resolver) is None  # checked again at delivery
    assert egress.refused("ftp://public.example/x", resolver=resolver) == "the URL must be http or https"
    assert egress.refused("https://[::1]/", allow_private=True, resolver=resolver) is None
    assert seen == ["mixed.example", "public.example", "unresolvable.example"]


def test_allow_private_lets_loopback_through(private_app, store):
    with private_app.test_client(headers=ADMIN) as c:
        t = create_tenant(c)
        r = c.post("/v1/webhooks/endpoints", json={"url": "http://127.0.0.1:9999/hook"}, headers=_in(t))
        assert r.status_code == 201, r.text
        r = c.post("/v1/webhooks/endpoints", json={"url": "ftp://127.0.0.1/hook"}, headers=_in(t))
        assert r.status_code == 400


def test_the_event_catalog_comes_from_the_specs(client):
    r = client.get("/v1/webhooks/event-types")
    assert r.status_code == 200, r.text
    items = {t["type"]: t for t in r.json()["items"]}
    assert set(items) >= {
        "tenant.created",
        "tenant.activated",
        "tenant.cancelled",
        "entitlement.created",
        "api_key.created",
        "api_key.revoked",
    }
    tenant_schema = items["tenant.created"]["payload"]
    assert tenant_schema["type"] == "object" and {"id", "slug", "status"} <= set(tenant_schema["required"])
    assert "$ref" not in r.text  # resolved: a schema a receiver can use as it is
    assert "plaintext" not in items["api_key.created"]["payload"]["properties"]
    assert "product" in items["entitlement.created"]["payload"]["required"]
    served = client.get("/openapi.json")
    if served.status_code == 200:
        assert set(served.json().get("x-events", {})) == set(items)


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_no_plaintext_secret_at_rest(store, client):
    t = create_tenant(client)
    keyed = _in(t, **{"Idempotency-Key": "webhook-secret-check"})
    made = client.post("/v1/webhooks/endpoints", json={"url": URL, "description": "secret-check"}, headers=keyed)
    assert made.status_code == 201
    rotated = client.post(f"/v1/webhooks/endpoints/{made.json()['id']}/rotate-secret", headers=_in(t)).json()
    secrets = [made.json()["secret"], rotated["secret"]]
    dump = []
    with store.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(repr(v) if isinstance(v, bytes | memoryview) else str(v) for v in row))
    text = "\n".join(dump)
    assert "secret-check" in text  # the dump really holds the endpoint row
    for secret in secrets:
        raw = _secret_bytes(secret)
        assert secret not in text and secret[6:] not in text and raw.hex() not in text.replace("\\x", "")
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, secret_sealed, previous_secret_sealed FROM webhook_endpoints")).one()
    sealer = Sealer(parse_key(SECRET_KEY))
    where = f"webhook:{made.json()['id']}".encode()
    assert sealer.open(bytes(row.secret_sealed), where).decode() == rotated["secret"]
    assert sealer.open(bytes(row.previous_secret_sealed), where).decode() == made.json()["secret"]
    with pytest.raises(ValueError):
        sealer.open(bytes(row.secret_sealed), b"webhook:another")
