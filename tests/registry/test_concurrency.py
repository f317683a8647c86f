"""Races over real HTTP: the store, not the handler, decides who wins."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.helpers import ADMIN, audit


def _race(base: str, n: int, send) -> list[int]:
    barrier = threading.Barrier(n)

    def one(i):
        with httpx.Client(base_url=base, timeout=60, headers=ADMIN) as c:
            barrier.wait()
            return send(c, i).status_code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_50_parallel_creates_of_one_slug(app, client):
    from tools.server import running

    with running(app) as base:
        statuses = _race(base, 50, lambda c, i: c.post("/v1/tenants", json={"slug": "same-slug", "name": f"n{i}"}))
    assert sorted(statuses).count(201) == 1 and statuses.count(409) == 49, statuses
    assert len(audit(client, action="tenant.created")) == 1


def test_parallel_revokes_write_one_event(app, client):
    from tests.helpers import create_key, create_tenant
    from tools.server import running

    key = create_key(client, create_tenant(client)["id"])["api_key"]
    with running(app) as base:
        statuses = _race(base, 10, lambda c, i: c.delete(f"/v1/api-keys/{key['id']}"))
    assert statuses == [204] * 10
    assert len(audit(client, action="api_key.revoked")) == 1
