"""Fill audit_events with N events in one bulk statement, bypassing the API.

Every event looks like one the registry writes for a tenant creation (tenant_id NULL, a
request_id in metadata), so a page of 1k-row and 1M-row tables costs the same to render; ids
run 1..N in creation order.
"""

from __future__ import annotations

import sqlite3
import time

_PG = """
INSERT INTO audit_events (created_at, action, actor_type, target_type, target_id, target_name,
                          metadata, source_ip, user_agent)
SELECT timestamptz '2024-01-01 00:00:00+00' + n * interval '1 second',
       'tenant.created', 'anonymous', 'tenant', md5(n::text), 'seed-' || n,
       jsonb_build_object('request_id', md5(n::text)), '127.0.0.1', 'bench-seed'
FROM generate_series(1, %(n)s) AS n
"""

_SQLITE = """
INSERT INTO audit_events (created_at, action, actor_type, target_type, target_id, target_name,
                          metadata, source_ip, user_agent)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n)
SELECT strftime('%Y-%m-%d %H:%M:%S', 1704067200 + n, 'unixepoch') || '.000000',
       'tenant.created', 'anonymous', 'tenant', printf('%032d', n), 'seed-' || n,
       json_object('request_id', printf('%032d', n)), '127.0.0.1', 'bench-seed'
FROM seq
"""


def seed_postgres(url: str, events: int) -> tuple[float, int, int]:
    """Insert `events` events; returns (seconds taken, smallest id, largest id)."""
    import psycopg

    from store.sql.engine import normalise_url

    started = time.perf_counter()
    plain = normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(_PG, {"n": events})
        # Settle now what autovacuum and the checkpointer would otherwise do during the rounds.
        conn.execute("VACUUM (ANALYZE) audit_events")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass
        low, high = conn.execute("SELECT min(id), max(id) FROM audit_events").fetchone()
    return time.perf_counter() - started, low, high


def seed_sqlite(path: str, events: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(_SQLITE, {"n": events})
        conn.execute("ANALYZE")
        low, high = conn.execute("SELECT min(id), max(id) FROM audit_events").fetchone()
    finally:
        conn.close()
    return time.perf_counter() - started, low, high
