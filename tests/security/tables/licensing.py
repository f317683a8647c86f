"""The licensing API's operations (specs/licensing.yaml): a tenant's licensing service, at
`/licensing/{tenant_slug}`.

The admin paths are tenant-scoped twice: by the slug in the path, and by the caller's tenant. A
caller bound to B on A's prefix gets one 404 `not_found` (as for a slug that does not exist), and
on B's prefix with A's ids a 404 of the object kind; a platform caller administers any tenant's.
The API key, tier, issuer and provider-secret paths are the seed's "master admin" operations: only
a person who administers the tenant (tenant_admin, platform admin) may call them, so a service
token or a support session of B is refused before anything is looked up (`NOT_MANAGERS`).
Service tokens of the role matrix hold registry scopes only, so they are refused everywhere here.

The public paths are a tenant's licensing service itself, which anyone may call: a slug there is
an address, not a secret (waived). What their answers must never do is act on another tenant's
objects; tests/licensing/test_cross_tenant.py checks that B's invoice, license key and codes do
nothing under A's prefix, and tests/licensing/test_keysat_client.py that A's keys fail
`bad_signature` at B's.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from tests.security.rows import (
    PEOPLE_READERS,
    PEOPLE_WRITERS,
    PLATFORM_ADMIN,
    PLATFORM_ADMIN_KEY,
    PUBLIC,
    TENANT_ADMIN,
    Access,
    Call,
    Public,
    Route,
    Row,
    Scoped,
)

P = "/licensing/{slug}"
LICENSING_READERS = PEOPLE_READERS
LICENSING_WRITERS = PEOPLE_WRITERS
MANAGERS = frozenset({PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, TENANT_ADMIN})
# the credentials of B that the master-admin operations refuse (test_bola's names)
NOT_MANAGERS = frozenset({"service_token", "support_session"})
HOOK_URL = "https://hooks.example.com/licensing"
GARBAGE = "LIC1-NOTAKEY-NOTASIGNATURE"


# ------------------------------------------------------------------ a tenant's licensing objects


def _ok(r, *statuses: int) -> dict:
    assert r.status_code in (statuses or (200, 201)), r.text
    return r.json() if r.content else {}


def shop(client, tenant: dict) -> str:
    """The tenant holds `licensing`, with product `app` and policies `team` (3 seats), `solo` (1)
    and `monthly` (recurring); made once, so a second call finds them. Its prefix."""
    _ok(client.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "licensing"}), 201, 409)
    p = f"/licensing/{tenant['slug']}"
    body = {"slug": "app", "name": "The App", "price_value": 5000, "price_currency": "SAT"}
    _ok(client.post(f"{p}/v1/admin/products", json=body), 201, 409)
    for slug, fields in (
        ("team", {"max_machines": 3}),
        ("solo", {"max_machines": 1}),
        ("monthly", {"is_recurring": True, "renewal_period_days": 30}),
    ):
        policy = {"product_slug": "app", "slug": slug, "name": slug.title(), **fields}
        _ok(client.post(f"{p}/v1/admin/policies", json=policy), 201, 409)
    return p


def product_id(client, tenant: dict) -> str:
    items = _ok(client.get(f"{shop(client, tenant)}/v1/admin/products"))["items"]
    return next(item["id"] for item in items if item["slug"] == "app")


def fresh_policy(client, tenant: dict, name: str = "Tier") -> str:
    body = {"product_slug": "app", "slug": f"tier-{uuid.uuid4().hex[:8]}", "name": name}
    return _ok(client.post(f"{shop(client, tenant)}/v1/admin/policies", json=body))["id"]


def fresh_license(client, tenant: dict, policy: str = "team", email: str = "buyer@example.com") -> dict:
    body = {"product_slug": "app", "policy_slug": policy, "buyer_email": email}
    return _ok(client.post(f"{shop(client, tenant)}/v1/admin/licenses", json=body))


def fresh_machine(client, tenant: dict, hostname: str = "host") -> str:
    lic = fresh_license(client, tenant)
    body = {"key": lic["license_key"], "fingerprint": f"fp-{uuid.uuid4().hex}", "hostname": hostname}
    return _ok(client.post(f"{shop(client, tenant)}/v1/machines/activate", json=body))["machine_id"]


def fresh_invoice(client, tenant: dict, email: str = "buyer@example.com", note: str = "") -> str:
    body = {"product": "app", "policy_slug": "team", "buyer_email": email, "buyer_note": note}
    return _ok(client.post(f"{shop(client, tenant)}/v1/purchase", json=body))["invoice_id"]


def settled_invoice(client, tenant: dict, email: str = "buyer@example.com", note: str = "") -> str:
    invoice = fresh_invoice(client, tenant, email, note)
    _ok(client.post(f"{shop(client, tenant)}/v1/admin/invoices/{invoice}/mark-paid"))
    return invoice


def fresh_api_key(client, tenant: dict, label: str = "probe") -> dict:
    body = {"label": label, "role": "read-only"}
    return _ok(client.post(f"{shop(client, tenant)}/v1/admin/api-keys", json=body))


def fresh_code(client, tenant: dict, code: str | None = None, percent_off: int = 100) -> dict:
    body = {"percent_off": percent_off, **({"code": code} if code else {})}
    return _ok(client.post(f"{shop(client, tenant)}/v1/admin/discount-codes", json=body))


def provider_secret(client, tenant: dict) -> str:
    return _ok(client.get(f"{shop(client, tenant)}/v1/admin/payments/manual/webhook-secret"))["secret"]


# what a tenant's licensing service holds, as its admin reads it (the probe checks A's is unchanged)
STATE = (
    "/pubkey",
    "/admin/products",
    "/admin/policies?include_archived=true",
    "/admin/licenses",
    "/admin/machines",
    "/admin/discount-codes",
    "/admin/invoices",
    "/admin/api-keys",
    "/admin/subscriptions",
    "/admin/webhook-endpoints",
    "/admin/tier",
)


def objects(client, tenant: dict, tag: str) -> dict[str, str]:
    """One of every licensing object of the tenant, named with `tag` where a name is shown: their
    ids by placeholder, and `markers` (label -> a value only the tenant's data holds)."""
    p = shop(client, tenant)
    product = _ok(client.patch(f"{p}/v1/admin/products/{product_id(client, tenant)}", json={"name": f"{tag} product"}))
    lic = fresh_license(client, tenant, email=f"{tag}-licensee@example.com")
    sub = fresh_license(client, tenant, policy="monthly", email=f"{tag}-subscriber@example.com")
    activated = {"key": lic["license_key"], "fingerprint": f"{tag}-fingerprint", "hostname": f"{tag}-hostname"}
    machine = _ok(client.post(f"{p}/v1/machines/activate", json=activated))["machine_id"]
    invoice = settled_invoice(client, tenant, email=f"{tag}-buyer@example.com", note=f"{tag}-buyer-note")
    key = fresh_api_key(client, tenant, label=f"{tag}-licensing-key")
    code = fresh_code(client, tenant, code=f"{tag}-CODE".upper().replace("-", ""), percent_off=15)
    return {
        "product_id": product["id"],
        "policy_id": fresh_policy(client, tenant, name=f"{tag} tier"),
        "license_id": lic["id"],
        "machine_id": machine,
        "invoice_id": invoice,
        "subscription_id": sub["id"],
        "api_key_id": key["id"],
        "markers": {  # type: ignore[dict-item]
            "A product name": f"{tag} product",
            "A policy name": f"{tag} tier",
            "A licensee email": f"{tag}-licensee@example.com",
            "A license key": lic["license_key"],
            "A subscriber email": f"{tag}-subscriber@example.com",
            "A machine hostname": f"{tag}-hostname",
            "A buyer email": f"{tag}-buyer@example.com",
            "A buyer note": f"{tag}-buyer-note",
            "A licensing key label": f"{tag}-licensing-key",
            "A licensing key token": key["token"],
            "A discount code": code["code"],
            "A discount code created_at": code["created_at"],
            "A provider secret": provider_secret(client, tenant),
        },
    }


# -------------------------------------------------------------------------------- the rows


def _in_b(x) -> str:
    return shop(x.client, x.b)


def _slug_first(placed: dict, header: str | None) -> tuple[int, str | None]:
    """A filter on another tenant's prefix: the prefix answers first (404), a filter by A's id on
    B's prefix lists nothing."""
    if header == "A":
        return 401, "tenant_mismatch"
    return (404, "not_found") if placed.get("path:slug") == "A" else (200, None)


def _get(path: str, allowed=LICENSING_READERS, waived: dict | None = None, **route) -> Row:
    return Row(Scoped(Route("GET", P + path, **route), waived=waived), Access(allowed, 200))


def _list(path: str, **params) -> Row:
    return Row(
        Scoped(Route("GET", P + path, params=params, listing=True, expect=_slug_first)),
        Access(LICENSING_READERS, 200),
    )


def _write(
    method: str,
    path: str,
    json: dict | None,
    writes: str | tuple[str, ...] | None,
    *,
    allowed=LICENSING_WRITERS,
    status: int = 200,
    reached: frozenset = frozenset(),
    refused: frozenset = frozenset(),
    last: bool = False,
    platform_via: str | None = "bootstrap key",
    request=None,
) -> Row:
    return Row(
        Scoped(
            Route(
                method,
                P + path,
                json=json,
                reached=reached,
                refused=refused,
                platform_via=platform_via,
            )
        ),
        Access(allowed, status, request, writes=writes, last=last),
    )


def _create(path: str, **body):
    """A new object for each caller of the matrix (a slug taken once answers 409 the next time)."""

    def call(x) -> Call:
        fields = {k: (x.new_slug() if v == "{new}" else v) for k, v in body.items()}
        return Call("POST", _in_b(x) + path, json=fields)

    return call


def _public(method: str, path: str, json: dict | None, why: str, expect=(200, None), **access) -> Row:
    waived = {"path:tenant_slug": "the address of B's public licensing service, which anyone may call"}
    for name in ("product_slug", "invoice_id", "provider"):
        if "{" + name + "}" in path:
            waived[f"path:{name}"] = WAIVED[name]
    route = Route(method, P + path.replace("{product_slug}", "app").replace("{provider}", "manual"), json=json)
    return Row(Public(why, route, expect=expect, waived=waived), Access(PUBLIC, 200, **access))


WAIVED = {
    "product_slug": "a product's public slug in B's public catalog",
    "invoice_id": "the buyer's handle on their own purchase (B's here); another prefix's is 404 "
    "(tests/licensing/test_cross_tenant.py)",
    "provider": "a payment provider's name (`manual`), no tenant's object",
}


def _key_call(path: str, policy: str = "team", **body):
    def call(x) -> Call:
        lic = fresh_license(x.client, x.b, policy=policy)
        return Call("POST", _in_b(x) + path, json={"license_key": lic["license_key"], **body})

    return call


def _activate(path: str):
    def call(x) -> Call:
        lic = fresh_license(x.client, x.b)
        body = {"key": lic["license_key"], "fingerprint": f"fp-{x.rid}"}
        if path != "/v1/machines/activate":
            _ok(x.client.post(_in_b(x) + "/v1/machines/activate", json=body))
        return Call("POST", _in_b(x) + path, json=body)

    return call


def _redeem(x) -> Call:
    code = fresh_code(x.client, x.b)["code"]
    return Call("POST", _in_b(x) + "/v1/redeem", json={"code": code, "product": "app", "policy_slug": "team"})


def _recover(x) -> Call:
    invoice = settled_invoice(x.client, x.b, email="recover@example.com")
    return Call("POST", _in_b(x) + "/v1/recover", json={"invoice_id": invoice, "email": "recover@example.com"})


def _provider_webhook(x) -> Call:
    """A signed delivery (Standard Webhooks) for an invoice already settled: acknowledged, and it
    settles nothing twice."""
    invoice = settled_invoice(x.client, x.b)
    body = json.dumps({"type": "invoice.paid", "data": {"invoice_id": f"manual-{invoice}"}}).encode()
    msg_id, at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(provider_secret(x.client, x.b)).sign(msg_id, at, body.decode()),
        "content-type": "application/json",
    }
    return Call("POST", _in_b(x) + "/v1/payments/manual/webhook", headers=headers, content=body)


def _poll(x) -> Call:
    return Call("GET", f"{_in_b(x)}/v1/purchase/{fresh_invoice(x.client, x.b)}")


def _suspended(x) -> Call:
    """A suspended license of B, unsuspended (an active one's unsuspend changes nothing)."""
    lic = fresh_license(x.client, x.b)["id"]
    _ok(x.client.post(f"{_in_b(x)}/v1/admin/licenses/{lic}/suspend", json={"reason": "matrix"}))
    return Call("POST", f"{_in_b(x)}/v1/admin/licenses/{lic}/unsuspend", json={"reason": "matrix"})


GONE_MACHINE = frozenset({"machine_not_active"})
CLOSED = frozenset({"invalid_transition"})

ROWS: dict[str, Row] = {
    # the public service: the Keysat client's paths
    "handlers.licensing.public.pubkey": _public("GET", "/v1/pubkey", None, "B's issuer public key"),
    "handlers.licensing.public.issuer_public_key": _public(
        "GET", "/v1/issuer/public-key", None, "B's issuer public key"
    ),
    "handlers.licensing.public.validate": _public(
        "POST",
        "/v1/validate",
        {"key": GARBAGE},
        "a key's validity (a garbage key: ok false)",
    ),
    "handlers.licensing.machines.activate": _public(
        "POST",
        "/v1/machines/activate",
        {"key": GARBAGE, "fingerprint": "fp"},
        "a seat for a key's machine (a garbage key: ok false)",
        request=_activate("/v1/machines/activate"),
        writes="machine.activated",
    ),
    "handlers.licensing.machines.heartbeat": _public(
        "POST",
        "/v1/machines/heartbeat",
        {"key": GARBAGE, "fingerprint": "fp"},
        "a seat's heartbeat (a garbage key: ok false)",
        request=_activate("/v1/machines/heartbeat"),
    ),
    "handlers.licensing.machines.deactivate": _public(
        "POST",
        "/v1/machines/deactivate",
        {"key": GARBAGE, "fingerprint": "fp"},
        "a seat given back (a garbage key: ok false)",
        request=_activate("/v1/machines/deactivate"),
        writes="machine.deactivated",
    ),
    "handlers.licensing.public.tiers": _public(
        "GET", "/v1/products/{product_slug}/policies", None, "B's public tiers of product `app`"
    ),
    "handlers.licensing.purchases.start": _public(
        "POST",
        "/v1/purchase",
        {"product": "app", "policy_slug": "team"},
        "a purchase of B's product: a pending invoice of B",
        writes="invoice.created",
    ),
    "handlers.licensing.purchases.poll": _public(
        "GET",
        "/v1/purchase/{invoice_id}",
        None,
        "a purchase's state, by its invoice id",
        request=_poll,
    ),
    "handlers.licensing.purchases.redeem": _public(
        "POST",
        "/v1/redeem",
        {"code": "NOSUCHCODE", "product": "app"},
        "a free license for a code (an unknown one: 400)",
        expect=(400, "invalid_code"),
        request=_redeem,
        writes=("invoice.created", "invoice.settled", "license.issued"),  # a free purchase, settled at once
    ),
    "handlers.licensing.purchases.recover": _public(
        "POST",
        "/v1/recover",
        {"invoice_id": "00000000-0000-4000-8000-000000000000", "email": "x@example.com"},
        "a key recovered by invoice and email (a mismatch: one generic 404)",
        expect=(404, "not_found"),
        request=_recover,
    ),
    "handlers.licensing.subscriptions.cancel_by_key": _public(
        "POST",
        "/v1/subscriptions/cancel",
        {"license_key": GARBAGE},
        "a buyer ends their renewals, by their key (a garbage key: 404)",
        expect=(404, "not_found"),
        request=_key_call("/v1/subscriptions/cancel", policy="monthly"),
        writes="subscription.cancelled",
    ),
    "handlers.licensing.upgrades.quote": _public(
        "POST",
        "/v1/upgrade-quote",
        {"license_key": GARBAGE, "policy_slug": "solo"},
        "a proration quote for a key (a garbage key: 404); it writes nothing",
        expect=(404, "not_found"),
        request=_key_call("/v1/upgrade-quote", policy_slug="solo"),
    ),
    "handlers.licensing.upgrades.start": _public(
        "POST",
        "/v1/upgrade",
        {"license_key": GARBAGE, "policy_slug": "solo"},
        "an upgrade invoice for a key (a garbage key: 404)",
        expect=(404, "not_found"),
        request=_key_call("/v1/upgrade", policy_slug="solo"),
        # to a tier that costs no more: nothing to pay, so settled at once
        writes=("invoice.created", "invoice.settled", "license.tier_changed"),
    ),
    "handlers.licensing.provider.webhook": _public(
        "POST",
        "/v1/payments/{provider}/webhook",
        {"type": "invoice.paid", "data": {"invoice_id": "manual-none"}},
        "a payment provider's delivery, which only B's signature admits (unsigned: 401)",
        expect=(401, "bad_signature"),
        request=_provider_webhook,
    ),
    # the admin API
    "handlers.licensing.products.list_products": _get("/v1/admin/products"),
    "handlers.licensing.products.create": _write(
        "POST",
        "/v1/admin/products",
        {"slug": "probe-app", "name": "Probe"},
        "license_product.created",
        status=201,
        reached=frozenset({"slug_taken", "tier_cap"}),
        request=_create("/v1/admin/products", slug="{new}", name="Matrix"),
    ),
    "handlers.licensing.products.get": _get("/v1/admin/products/{product_id}"),
    "handlers.licensing.products.update": _write(
        "PATCH", "/v1/admin/products/{product_id}", {"description": "probed"}, "license_product.updated"
    ),
    "handlers.licensing.policies.list_policies": _get("/v1/admin/policies"),
    "handlers.licensing.policies.create": _write(
        "POST",
        "/v1/admin/policies",
        {"product_slug": "app", "slug": "probe-tier", "name": "Probe"},
        "license_policy.created",
        status=201,
        reached=frozenset({"slug_taken"}),
        request=_create("/v1/admin/policies", product_slug="app", slug="{new}", name="Matrix"),
    ),
    "handlers.licensing.policies.set_archived": _write(
        "PATCH", "/v1/admin/policies/{policy_id}/archived", {"archived": True}, "license_policy.archived"
    ),
    "handlers.licensing.licenses.list_licenses": _list("/v1/admin/licenses", product_id="{product_id}"),
    "handlers.licensing.licenses.issue": _write(
        "POST", "/v1/admin/licenses", {"product_slug": "app"}, "license.issued", status=201
    ),
    "handlers.licensing.licenses.search": _list("/v1/admin/licenses/search", invoice_id="{invoice_id}"),
    "handlers.licensing.licenses.get": _get("/v1/admin/licenses/{license_id}"),
    # revoking B's license is for good: after every other row's controls
    "handlers.licensing.licenses.revoke": _write(
        "POST", "/v1/admin/licenses/{license_id}/revoke", {"reason": "probe"}, "license.revoked", last=True
    ),
    "handlers.licensing.licenses.suspend": _write(
        "POST", "/v1/admin/licenses/{license_id}/suspend", {"reason": "probe"}, "license.suspended", reached=CLOSED
    ),
    "handlers.licensing.licenses.unsuspend": _write(
        "POST",
        "/v1/admin/licenses/{license_id}/unsuspend",
        {"reason": "probe"},
        "license.unsuspended",
        reached=CLOSED,
        request=_suspended,
    ),
    "handlers.licensing.machines.list_machines": _list("/v1/admin/machines", license_id="{license_id}"),
    "handlers.licensing.machines.force_deactivate": _write(
        "POST", "/v1/admin/machines/{machine_id}/deactivate", None, "machine.deactivated", reached=GONE_MACHINE
    ),
    "handlers.licensing.codes.list_codes": _get("/v1/admin/discount-codes"),
    "handlers.licensing.codes.create": _write(
        "POST",
        "/v1/admin/discount-codes",
        {"percent_off": 10},
        "discount_code.created",
        status=201,
        reached=frozenset({"tier_cap"}),
    ),
    "handlers.licensing.invoices.list_invoices": _get("/v1/admin/invoices"),
    "handlers.licensing.invoices.mark_paid": _write(
        "POST", "/v1/admin/invoices/{invoice_id}/mark-paid", None, ("invoice.settled", "license.issued")
    ),
    "handlers.licensing.api_keys.list_keys": _get("/v1/admin/api-keys", MANAGERS, refused=NOT_MANAGERS),
    "handlers.licensing.api_keys.create": _write(
        "POST",
        "/v1/admin/api-keys",
        {"label": "probe", "role": "read-only"},
        "api_key.created",
        allowed=MANAGERS,
        status=201,
        refused=NOT_MANAGERS,
    ),
    "handlers.licensing.api_keys.revoke": _write(
        "DELETE", "/v1/admin/api-keys/{api_key_id}", None, "api_key.revoked", allowed=MANAGERS, refused=NOT_MANAGERS
    ),
    "handlers.licensing.upgrades.change_tier": _write(
        "POST",
        "/v1/admin/licenses/{license_id}/change-tier",
        {"policy_slug": "solo"},
        "license.tier_changed",
        reached=frozenset({"same_tier", "invalid_transition"}),
    ),
    "handlers.licensing.subscriptions.list_subscriptions": _get("/v1/admin/subscriptions"),
    "handlers.licensing.subscriptions.cancel": _write(
        "POST",
        "/v1/admin/subscriptions/{subscription_id}/cancel",
        None,
        "subscription.cancelled",
        reached=frozenset({"already_canceled"}),
    ),
    # the tier shows counts, none of them A's secret: the positive controls prove it is reached
    "handlers.licensing.tier.get": _get("/v1/admin/tier", MANAGERS, refused=NOT_MANAGERS, platform_via=None),
    "handlers.licensing.issuer.rotate": _write(
        "POST", "/v1/admin/issuer/rotate", None, "issuer_key.rotated", allowed=MANAGERS, refused=NOT_MANAGERS
    ),
    "handlers.licensing.webhook_endpoints.list_endpoints": _get("/v1/admin/webhook-endpoints"),
    "handlers.licensing.webhook_endpoints.create": _write(
        "POST", "/v1/admin/webhook-endpoints", {"url": HOOK_URL}, "webhook_endpoint.created", status=201
    ),
    "handlers.licensing.provider.secret": _get(
        "/v1/admin/payments/manual/webhook-secret",
        MANAGERS,
        waived={"path:provider": WAIVED["provider"]},
        refused=NOT_MANAGERS,
    ),
}
