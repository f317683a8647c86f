"""A payment provider's signed webhook settles an invoice: signed here with the standardwebhooks
package (an independent Standard Webhooks implementation), through the real app."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import session
from tests.licensing.helpers import licensed_tenant, policy, prefix, product


def shop_with_invoice(client) -> tuple[dict, str]:
    tenant = licensed_tenant(client)
    product(client, tenant)
    policy(client, tenant, slug="team", max_machines=3)
    r = client.post(f"{prefix(tenant)}/v1/purchase", json={"product": "app", "policy_slug": "team"})
    assert r.status_code == 200, r.text
    return tenant, r.json()["invoice_id"]


def provider_secret(client, store, tenant) -> str:
    admin = bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])
    r = client.get(f"{prefix(tenant)}/v1/admin/payments/manual/webhook-secret", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url"].endswith(f"{prefix(tenant)}/v1/payments/manual/webhook")
    return body["secret"]


def signed(secret: str, body: dict, *, at: datetime | None = None, msg_id: str | None = None) -> tuple[str, dict]:
    data = json.dumps(body)
    msg_id, at = msg_id or f"msg_{uuid.uuid4().hex}", at or datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, data),
        "content-type": "application/json",
    }
    return data, headers


def paid(invoice_id: str) -> dict:
    return {"type": "invoice.paid", "data": {"invoice_id": invoice_id}}


def test_a_signed_delivery_settles_once_and_a_replay_settles_nothing_more(client, anonymous, store):
    tenant, invoice_id = shop_with_invoice(client)
    p = prefix(tenant)
    data, headers = signed(provider_secret(client, store, tenant), paid(f"manual-{invoice_id}"))
    hook = f"{p}/v1/payments/manual/webhook"
    first = anonymous.post(hook, content=data, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "settled" and first.json()["invoice_id"] == invoice_id
    again = anonymous.post(hook, content=data, headers=headers)  # the same delivery, replayed
    assert again.status_code == 200 and again.json()["license_id"] == first.json()["license_id"]
    polled = anonymous.get(f"{p}/v1/purchase/{invoice_id}").json()
    assert polled["status"] == "settled" and polled["license_key"].startswith("LIC1-")
    issued = [e for e in audit(client, action="license.issued") if e["tenant_id"] == tenant["id"]]
    assert len(issued) == 1
    settled = [e for e in audit(client, action="invoice.settled") if e["target_id"] == invoice_id]
    assert settled[0]["actor_id"] == "payments:manual"


def test_unsigned_wrongly_signed_stale_or_tampered_deliveries_are_refused(client, anonymous, store):
    tenant, invoice_id = shop_with_invoice(client)
    other, _ = shop_with_invoice(client)
    hook = f"{prefix(tenant)}/v1/payments/manual/webhook"
    secret = provider_secret(client, store, tenant)
    assert secret != provider_secret(client, store, other)  # each tenant has its own
    data, headers = signed(secret, paid(invoice_id))
    unsigned = {"content-type": "application/json"}
    assert_error(anonymous.post(hook, content=data, headers=unsigned), 401, "bad_signature")
    _, theirs = signed(provider_secret(client, store, other), paid(invoice_id))
    assert_error(anonymous.post(hook, content=data, headers=theirs), 401, "bad_signature")
    tampered = data.replace(invoice_id, str(uuid.uuid4()))
    assert_error(anonymous.post(hook, content=tampered, headers=headers), 401, "bad_signature")
    old_data, old = signed(secret, paid(invoice_id), at=datetime.now(UTC) - timedelta(minutes=10))
    assert_error(anonymous.post(hook, content=old_data, headers=old), 401, "stale_timestamp")
    assert anonymous.get(f"{prefix(tenant)}/v1/purchase/{invoice_id}").json()["status"] == "pending"
    # signed right, for an invoice that is not this tenant's: not found
    stray_data, stray = signed(secret, paid(str(uuid.uuid4())))
    assert_error(anonymous.post(hook, content=stray_data, headers=stray), 404, "invoice_not_found")


def test_only_a_tenant_admin_reads_the_provider_secret(client, store):
    tenant, _ = shop_with_invoice(client)
    p = prefix(tenant)
    admin = bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])
    key = client.post(f"{p}/v1/admin/api-keys", json={"label": "ops", "role": "full-admin"}, headers=admin).json()
    assert_error(client.get(f"{p}/v1/admin/payments/manual/webhook-secret", headers=bearer(key["token"])), 401)
    stranger = bearer(session(client, store, ["tenant_admin"], licensed_tenant(client)["id"])["access_token"])
    assert_error(client.get(f"{p}/v1/admin/payments/manual/webhook-secret", headers=stranger), 404, "not_found")
    assert_error(client.get(f"{p}/v1/admin/payments/btcpay/webhook-secret", headers=admin), 400)
