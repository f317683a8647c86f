"""Who the caller is, as two real gunicorn workers see it: X-Forwarded-For counts only from a
trusted proxy (CHARTER_TRUSTED_PROXIES, none by default), so a spoofed header neither buys a fresh
rate-limit bucket nor writes its address into the audit log (hardening, issue 10: item 8)."""

from __future__ import annotations

import signal

import httpx
import pytest

from tests.helpers import ADMIN
from tests.identity.test_rate_limits import _serve


def _verify(base: str, forwarded: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/internal/api-keys/verify",
        json={"key": "bp_" + "A" * 22},
        headers={"x-forwarded-for": forwarded, "connection": "close"},  # a new connection: either worker
        timeout=30,
    )


def _source_ip_of_a_new_tenant(base: str, slug: str, forwarded: str) -> str:
    created = httpx.post(
        f"{base}/v1/tenants", json={"slug": slug, "name": "P"}, headers={**ADMIN, "x-forwarded-for": forwarded}
    )
    assert created.status_code == 201, created.text
    events = httpx.get(f"{base}/v1/audit", params={"action": "tenant.created"}, headers=ADMIN).json()["items"]
    return next(e["source_ip"] for e in events if e["target_id"] == created.json()["id"])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_spoofed_forwarded_for_changes_nothing(database, tmp_path, request):
    from store.sql.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'proxy.db'}" if database == "sqlite" else request.getfixturevalue("pg_empty_url")
    upgrade(url)
    proc, base = _serve(tmp_path, {"DATABASE_URL": url, "CHARTER_RATE_LIMITS": "verify.ip=3/600"})
    try:
        statuses = [_verify(base, f"198.51.100.{n}").status_code for n in range(8)]
        assert statuses == [200] * 3 + [429] * 5, statuses  # one bucket, the socket peer's
        assert _source_ip_of_a_new_tenant(base, "spoofed", "203.0.113.9") == "127.0.0.1"
        # the address is over its failures, on both workers: a key that verifies still does
        tenant = httpx.get(f"{base}/v1/tenants/by-slug/spoofed", headers=ADMIN).json()["id"]
        key = httpx.post(f"{base}/v1/api-keys", json={"tenant_id": tenant, "name": "k"}, headers=ADMIN).json()
        for _ in range(10):
            r = httpx.post(
                f"{base}/v1/internal/api-keys/verify",
                json={"key": key["plaintext"]},
                headers={"connection": "close"},
                timeout=30,
            )
            assert r.status_code == 200 and r.json()["valid"] is True, r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_trusted_proxy_names_the_client(tmp_path):
    from store.sql.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    upgrade(url)
    env = {"DATABASE_URL": url, "CHARTER_RATE_LIMITS": "verify.ip=2/600", "CHARTER_TRUSTED_PROXIES": "127.0.0.0/8"}
    proc, base = _serve(tmp_path, env)
    try:
        # the client is the last address the trusted proxies did not add
        assert _source_ip_of_a_new_tenant(base, "behind", "203.0.113.9, 127.0.0.5") == "203.0.113.9"
        assert _source_ip_of_a_new_tenant(base, "spoofed-left", "6.6.6.6, 203.0.113.10") == "203.0.113.10"
        statuses = [_verify(base, f"198.51.100.{n}").status_code for n in range(4)]
        assert statuses == [200] * 4, statuses  # each client its own bucket
        statuses = [_verify(base, "198.51.100.200").status_code for _ in range(3)]
        assert statuses == [200, 200, 429], statuses
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
