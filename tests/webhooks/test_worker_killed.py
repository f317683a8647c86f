"""kill -9 of a `charter worker` process in the middle of a delivery, on PostgreSQL: the other
worker takes the job once its lease runs out, and the delivery arrives again, with the same
webhook-id, still verifying (at least once)."""

from __future__ import annotations

import os
import signal
import time

from charter.domain import ADMIN_KEY, Actor
from charter.sealing import Sealer, parse_key
from services.registry import api_keys, tenants
from services.webhooks import endpoints
from services.webhooks.catalog import EventCatalog
from services.webhooks.endpoints import Webhooks
from tests.helpers import SECRET_KEY, new_slug
from tests.tools.serving import start_worker, wait_for


def test_a_delivery_whose_worker_is_killed_arrives_with_its_id(tmp_path, pg_url, pg_store, receiver):
    receiver.hold_s = 30.0  # the first attempt hangs until its worker is gone
    hooks = Webhooks(Sealer(parse_key(SECRET_KEY)), EventCatalog.load(), allow_private=True)
    platform = Actor(ADMIN_KEY, "bootstrap")
    tenant = tenants.create(pg_store, platform, slug=new_slug("killed"), name="Killed")
    actor = Actor(ADMIN_KEY, "bootstrap", tenant_id=tenant.id)
    endpoint, secret = endpoints.create(pg_store, actor, hooks, url=receiver.url)
    receiver.secrets = [secret]
    env = {
        "DATABASE_URL": pg_url,
        "CHARTER_JOB_LEASE_S": "2",
        "CHARTER_JOB_POLL_MS": "100",
        "CHARTER_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    first = start_worker(tmp_path, env=env, log=logs[0])
    wait_for(first, logs[0], "charter worker: ")
    second = None
    try:
        api_keys.create(pg_store, actor, tenant_id=tenant.id, name="ci")
        receiver.wait(1)  # the first worker is inside the attempt now
        second = start_worker(tmp_path, env=env, log=logs[1])
        wait_for(second, logs[1], "charter worker: ")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        got = receiver.wait(2, timeout=30)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    assert got[0].id == got[1].id
    assert got[0].verified[secret] and got[1].verified[secret]
    deadline = time.monotonic() + 10
    while True:
        with pg_store.read() as s:
            [delivery] = s.webhook_deliveries.list(endpoint_id=endpoint.id)
        if delivery.status == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert delivery.status == "delivered" and [a.get("status_code") for a in delivery.attempts] == [200]
