"""The registry's operations (specs/registry.yaml): tenants, entitlements, catalog, API keys, audit."""

from __future__ import annotations

from tests.security.rows import (
    LIFECYCLE,
    PUBLIC,
    READERS,
    SERVICE_PLATFORM,
    WRITERS_IN_B,
    Access,
    Call,
    Public,
    Route,
    Row,
    Scoped,
)


def _holding(x, product: str) -> str:
    """The id of the tenant a removal acts on (B for a caller bound to B, else a fresh one),
    granted the product first by the bootstrap key unless it holds it already."""
    tenant = x.target()
    r = x.client.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": product})
    assert r.status_code in (201, 409), r.text
    return tenant["id"]


ROWS: dict[str, Row] = {
    "handlers.registry.api_keys.verify": Row(
        Public(
            "the key in the body is the credential: whoever holds A's plaintext key is A; a key "
            "that is not one answers valid=false and nothing else",
            Route("POST", "/v1/internal/api-keys/verify", json={"key": "bp_notakey_0000000000000000"}),
            check=lambda body: None if body == {"valid": False} else "a key that is none verifies",
        ),
        Access(PUBLIC, 200, lambda x: Call("POST", "/v1/internal/api-keys/verify", json={"key": x.b_key})),
    ),
    "handlers.registry.tenants.create": Row(
        Scoped(
            Route(
                "POST",
                "/v1/tenants",
                json={"slug": "{slug}", "name": "BOLA probe"},
                reached=frozenset({"slug_taken"}),
            )
        ),
        Access(
            LIFECYCLE,
            201,
            lambda x: Call("POST", "/v1/tenants", json={"slug": x.new_slug(), "name": "Matrix"}),
            writes="tenant.created",
        ),
    ),
    "handlers.registry.tenants.get": Row(
        Scoped(Route("GET", "/v1/tenants/{tenant_id}")),
        Access(READERS | {SERVICE_PLATFORM}, 200),  # that key holds tenants:read
    ),
    "handlers.registry.tenants.get_by_slug": Row(
        Scoped(Route("GET", "/v1/tenants/by-slug/{slug}")),
        Access(READERS | {SERVICE_PLATFORM}, 200),
    ),
    "handlers.registry.tenants.activate": Row(
        Scoped(Route("POST", "/v1/tenants/{tenant_id}/activate", json={"plan": "enterprise"})),
        # a tenant move acts on B for a caller bound to B, else on a fresh tenant
        Access(
            LIFECYCLE,
            200,
            lambda x: Call("POST", f"/v1/tenants/{x.target()['id']}/activate"),
            writes="tenant.activated",
        ),
    ),
    "handlers.registry.tenants.cancel": Row(
        Scoped(Route("POST", "/v1/tenants/{tenant_id}/cancel", json={"reason": "bola probe"})),
        Access(
            LIFECYCLE,
            200,
            lambda x: Call("POST", f"/v1/tenants/{x.target()['id']}/cancel", json={"reason": "matrix"}),
            writes="tenant.cancelled",
            last=True,
        ),  # a wrong grant would freeze B
    ),
    "handlers.registry.entitlements.list_for_tenant": Row(
        Scoped(Route("GET", "/v1/entitlements", params={"tenant_id": "{tenant_id}"})),
        Access(READERS, 200),
    ),
    "handlers.registry.entitlements.grant": Row(
        # a leak would grant A's tenant a product through B's credential
        Scoped(
            Route(
                "POST",
                "/v1/entitlements",
                json={"tenant_id": "{tenant_id}", "product": "compliance"},
                reached=frozenset({"already_entitled"}),
            )
        ),
        Access(
            LIFECYCLE,
            201,
            lambda x: Call("POST", "/v1/entitlements", json={"tenant_id": x.target()["id"], "product": "compliance"}),
            writes="entitlement.granted",
        ),
    ),
    "handlers.registry.entitlements.remove": Row(
        Scoped(
            Route("DELETE", "/v1/entitlements/{tenant_id}/compliance", reached=frozenset({"entitlement_not_found"})),
            waived={"path:product": "a catalog product's key, the same for every tenant; the tenant is the object"},
        ),
        Access(
            LIFECYCLE,
            204,
            lambda x: Call("DELETE", f"/v1/entitlements/{_holding(x, 'compliance')}/compliance"),
            writes="entitlement.removed",
        ),
    ),
    "handlers.registry.catalog.list_products": Row(
        Scoped(Route("GET", "/v1/catalog")),
        Access(READERS, 200),
    ),
    "handlers.registry.catalog.request_product": Row(
        Scoped(Route("POST", "/v1/catalog/request", json={"tenant_id": "{tenant_id}", "product": "licensing"})),
        Access(WRITERS_IN_B, 202, writes="catalog.requested"),
    ),
    "handlers.registry.catalog.request_trial": Row(
        # A holds an analytics trial, not licensing: a leak would grant A a licensing trial
        Scoped(
            Route(
                "POST",
                "/v1/catalog/trial-request",
                json={"tenant_id": "{tenant_id}", "product": "licensing"},
                reached=frozenset({"already_entitled"}),
            )
        ),
        # a trial is granted once per tenant and product: each caller asks for its own product
        Access(
            WRITERS_IN_B,
            201,
            lambda x: Call(
                "POST", "/v1/catalog/trial-request", json={"tenant_id": x.b["id"], "product": x.trial_product}
            ),
            writes="entitlement.trial_started",
        ),
    ),
    "handlers.registry.api_keys.list_for_tenant": Row(
        Scoped(Route("GET", "/v1/api-keys", params={"tenant_id": "{tenant_id}"})),
        Access(READERS, 200),
    ),
    "handlers.registry.api_keys.create": Row(
        Scoped(Route("POST", "/v1/api-keys", json={"tenant_id": "{tenant_id}", "name": "bola-probe"})),
        Access(WRITERS_IN_B, 201, writes="api_key.created"),
    ),
    "handlers.registry.api_keys.revoke": Row(
        Scoped(Route("DELETE", "/v1/api-keys/{key_id}")),
        Access(
            WRITERS_IN_B, 204, lambda x: Call("DELETE", f"/v1/api-keys/{x.fresh_b_key()}"), writes="api_key.revoked"
        ),
    ),
    "handlers.registry.audit.append": Row(
        Scoped(
            Route("POST", "/v1/audit", json={"tenant_id": "{tenant_id}", "action": "bola.probe"}),
            Route("POST", "/v1/audit", json={"action": "bola.probe"}),
            waived={"body:project_id": "a label of the caller's own project; the registry resolves nothing by it"},
        ),
        # appended events keep the metadata sent: the request id finds the event
        Access(
            WRITERS_IN_B,
            201,
            lambda x: Call(
                "POST",
                "/v1/audit",
                json={"tenant_id": x.b["id"], "action": "roles.matrix", "metadata": {"request_id": x.rid}},
            ),
            writes="roles.matrix",
        ),
    ),
    "handlers.registry.audit.query": Row(
        Scoped(
            Route("GET", "/v1/audit", params={"tenant_id": "{tenant_id}"}),
            Route("GET", "/v1/audit", params={"action": "{action}"}, listing=True),
        ),
        Access(READERS, 200),
    ),
}
