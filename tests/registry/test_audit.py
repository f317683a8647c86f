"""The audit log through the real app, on every store: append, filter, keyset paging."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.helpers import assert_error, audit, create_tenant


def _append(client, **fields):
    r = client.post("/v1/audit", json={"action": "doc.viewed", **fields}, headers={"user-agent": "audit-test/1"})
    assert r.status_code == 201, r.text
    return r.json()


def test_append_returns_the_event(client):
    t = create_tenant(client)
    project = str(uuid.uuid4())
    e = _append(
        client,
        tenant_id=t["id"],
        project_id=project,
        actor_id="u1",
        actor_name="Uma",
        actor_type="user",
        target_id="d1",
        target_type="doc",
        target_name="Plan",
        product="analytics",
        metadata={"page": 2, "tags": ["a"]},
    )
    assert isinstance(e["id"], int) and e["tenant_id"] == t["id"] and e["project_id"] == project
    assert e["metadata"] == {"page": 2, "tags": ["a"]} and e["user_agent"] == "audit-test/1"
    assert e["source_ip"] and e["created_at"].endswith("Z")
    assert audit(client, action="doc.viewed") == [e]


def test_append_validation(client):
    assert_error(client.post("/v1/audit", json={}), 400)
    assert_error(client.post("/v1/audit", json={"action": "x", "tenant_id": "nope"}), 400)
    assert_error(client.post("/v1/audit", json={"action": "x", "metadata": []}), 400)
    assert_error(
        client.post("/v1/audit", json={"action": "x", "tenant_id": str(uuid.uuid4())}), 404, "tenant_not_found"
    )
    assert audit(client) == []


def test_every_filter(client):
    a, b = create_tenant(client), create_tenant(client)
    _append(client, tenant_id=a["id"], actor_id="u1", product="p1", action="x.one")
    _append(client, tenant_id=b["id"], actor_id="u2", product="p2", action="x.two")
    _append(client, tenant_id=a["id"], actor_id="u2", product="p2", action="x.one")

    def actions(**f):
        return [(e["action"], e.get("actor_id"), e.get("product")) for e in audit(client, **f)]

    assert actions(action="x.one") == [("x.one", "u2", "p2"), ("x.one", "u1", "p1")]
    assert actions(actor_id="u2") == [("x.one", "u2", "p2"), ("x.two", "u2", "p2")]
    assert actions(product="p1") == [("x.one", "u1", "p1")]
    assert [e["tenant_id"] for e in audit(client, tenant_id=b["id"])] == [b["id"], b["id"]]  # event + created
    assert actions(tenant_id=a["id"], actor_id="u2", action="x.one") == [("x.one", "u2", "p2")]
    now = datetime.now(UTC)
    assert audit(client, since=(now + timedelta(minutes=1)).isoformat()) == []
    assert len(audit(client, until=(now + timedelta(minutes=1)).isoformat())) == 5
    assert audit(client, until=(now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")) == []
    assert len(audit(client, since="2000-01-01T00:00:00Z")) == 5


def test_since_is_inclusive_until_exclusive(client):
    e = _append(client)
    assert [x["id"] for x in audit(client, since=e["created_at"])] == [e["id"]]
    assert audit(client, until=e["created_at"]) == []


def test_keyset_paging(client):
    ids = [_append(client, actor_id="pager")["id"] for _ in range(12)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5, "actor_id": "pager", **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/audit", params=params).json()
        seen += [e["id"] for e in body["items"]]
        pages += 1
        if "next_cursor" not in body:
            break
        cursor = body["next_cursor"]
        assert cursor == body["items"][-1]["id"]
    assert pages == 3 and seen == sorted(ids, reverse=True)
    # a page that ends exactly on the last event has no next_cursor
    body = client.get("/v1/audit", params={"limit": 12, "actor_id": "pager"}).json()
    assert len(body["items"]) == 12 and "next_cursor" not in body


def test_query_validation(client):
    for params in (
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"cursor": "abc"},
        {"cursor": str(2**63)},
        {"since": "yesterday"},
        {"until": "2026-13-01T00:00:00Z"},
        {"tenant_id": "nope"},
    ):
        assert_error(client.get("/v1/audit", params=params), 400)
    assert client.get("/v1/audit", params={"limit": 500}).status_code == 200
    assert client.get("/v1/audit", params={"cursor": 2**63 - 1}).status_code == 200


def test_date_time_bounds_at_the_edges_of_the_calendar(client):
    e = _append(client, actor_id="edge")
    for since, until, expected in (
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", [e["id"]]),
        ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", [e["id"]]),
        ("9999-12-31T23:59:59.999999Z", None, []),
        (None, "0001-01-01T17:00:00Z", []),
    ):
        params = {"actor_id": "edge", **({"since": since} if since else {}), **({"until": until} if until else {})}
        r = client.get("/v1/audit", params=params)
        assert r.status_code == 200, r.text
        assert [x["id"] for x in r.json()["items"]] == expected, params
