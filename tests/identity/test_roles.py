"""Function-level authorization (BFLA): who may call which registry operation.

The policy below is written BY HAND from the product rules, not derived from auth/roles.py, so a
wrong grant table fails here. Every registry operation of the spec must have a row. Each caller
calls each operation once, on B's own objects when it is bound to B (a platform caller reads B
across tenants and writes into B; tenant moves go to a fresh tenant of their own):

- allowed: a 2xx, and a write leaves exactly its one audit event;
- forbidden: 403 `forbidden`, and nothing at all is written (no audit event under the request id).

Without a credential, or with a malformed one, every protected operation of every spec answers 401
with a WWW-Authenticate challenge.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
import yaml

from charter.config import ROOT, SPECS_DIR
from charter.specs import load, load_merged, operations
from tests.api.helpers import ADMIN, all_events, bearer, create_key, create_tenant, new_slug, settings
from tests.identity.helpers import service_token, session

REGISTRY = load(SPECS_DIR / "registry.yaml")

# ------------------------------------------------------------------------ callers, by hand

PLATFORM_ADMIN_KEY = "platform_admin (bootstrap key)"
PLATFORM_ADMIN = "platform_admin (login)"
SUPPORT = "support (platform login)"
SUPPORT_SESSION = "support session in B"
TENANT_ADMIN = "tenant_admin of B"
TENANT_MEMBER = "tenant_member of B"
SERVICE_READ = "service token of B, read scopes"
SERVICE_WRITE = "service token of B, write scopes"
SERVICE_NONE = "service token of B, no Charter scope"
SERVICE_PLATFORM = "service token of B claiming platform scopes"

# the scopes of the service tokens' keys, spelled out
SCOPES = {
    SERVICE_READ: ["tenants:read", "entitlements:read", "catalog:read", "api_keys:read", "audit:read"],
    SERVICE_WRITE: ["catalog:request", "api_keys:write", "audit:write"],
    SERVICE_NONE: ["validate"],  # another product's scope: kept on the key, grants nothing here
    # a tenant cannot grant itself platform permissions through a key's scopes
    SERVICE_PLATFORM: ["tenants:write", "support:session", "tenants:read"],
}
CALLERS = [
    PLATFORM_ADMIN_KEY,
    PLATFORM_ADMIN,
    SUPPORT,
    SUPPORT_SESSION,
    TENANT_ADMIN,
    TENANT_MEMBER,
    SERVICE_READ,
    SERVICE_WRITE,
    SERVICE_NONE,
    SERVICE_PLATFORM,
]
PLATFORM_CALLERS = {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT}  # bound to no tenant

# --------------------------------------------------------------------------- policy, by hand

EVERYONE = set(CALLERS)
LIFECYCLE = {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT}
READERS = {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT, SUPPORT_SESSION, TENANT_ADMIN, TENANT_MEMBER, SERVICE_READ}
WRITERS_IN_B = {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT_SESSION, TENANT_ADMIN, SERVICE_WRITE}

POLICY: dict[str, set[str]] = {
    "handlers.registry.health.healthz": EVERYONE,
    "handlers.registry.health.readyz": EVERYONE,
    "handlers.registry.api_keys.verify": EVERYONE,
    "handlers.registry.tenants.create": LIFECYCLE,
    "handlers.registry.tenants.activate": LIFECYCLE,
    "handlers.registry.tenants.cancel": LIFECYCLE,
    "handlers.registry.tenants.get": READERS | {SERVICE_PLATFORM},  # it holds tenants:read
    "handlers.registry.tenants.get_by_slug": READERS | {SERVICE_PLATFORM},
    "handlers.registry.entitlements.list_for_tenant": READERS,
    "handlers.registry.catalog.list_products": READERS,
    "handlers.registry.api_keys.list_for_tenant": READERS,
    "handlers.registry.audit.query": READERS,
    "handlers.registry.catalog.request_product": WRITERS_IN_B,
    "handlers.registry.catalog.request_trial": WRITERS_IN_B,
    "handlers.registry.api_keys.create": WRITERS_IN_B,
    "handlers.registry.api_keys.revoke": WRITERS_IN_B,
    "handlers.registry.audit.append": WRITERS_IN_B,
}
# the identity operation that is a function-level grant too: only a signed-in platform user
SUPPORT_START = "handlers.identity.support.start"
EXTRA_POLICY = {SUPPORT_START: {PLATFORM_ADMIN, SUPPORT}}

# the one audit event each write leaves
WRITES = {
    "handlers.registry.tenants.create": "tenant.created",
    "handlers.registry.tenants.activate": "tenant.activated",
    "handlers.registry.tenants.cancel": "tenant.cancelled",
    "handlers.registry.catalog.request_product": "catalog.requested",
    "handlers.registry.catalog.request_trial": "entitlement.trial_started",
    "handlers.registry.api_keys.create": "api_key.created",
    "handlers.registry.api_keys.revoke": "api_key.revoked",
    "handlers.registry.audit.append": "roles.matrix",
    SUPPORT_START: "auth.support_session_started",
}


def trial_product(caller: str) -> str:
    return "trial-" + re.sub(r"[^a-z0-9]+", "-", caller.lower()).strip("-")


@pytest.fixture
def app(store, tmp_path):
    """The real app, with a catalog that has a trial product for each caller (a trial is granted
    once per tenant and product, and several callers start one in B)."""
    from charter.app import create_app

    with open(ROOT / "catalog.yaml", encoding="utf-8") as fh:
        products = yaml.safe_load(fh)
    products += [
        {
            "key": trial_product(c),
            "name": c,
            "description": "matrix",
            "plans_required": ["starter"],
            "supports_trial": True,
        }
        for c in CALLERS
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(products), encoding="utf-8")
    return create_app(store=store, settings=settings(CHARTER_CATALOG=str(path)), validate_responses=True)


# ------------------------------------------------------------------------------- requests


@dataclass
class Ctx:
    client: object
    b: dict
    b_key: str  # a plaintext key of B, for verify

    def fresh_tenant(self) -> dict:
        return create_tenant(self.client)

    def fresh_b_key(self) -> str:
        return create_key(self.client, self.b["id"], name="to-revoke")["api_key"]["id"]

    def target(self, caller: str) -> dict:
        """The tenant a tenant move acts on: B for a caller bound to B, else a fresh one."""
        return self.fresh_tenant() if caller in PLATFORM_CALLERS else self.b


def _request(op_id: str, ctx: Ctx, caller: str, rid: str) -> tuple[str, str, dict, dict | None]:
    b = ctx.b
    return {
        "handlers.registry.health.healthz": lambda: ("GET", "/healthz", {}, None),
        "handlers.registry.health.readyz": lambda: ("GET", "/readyz", {}, None),
        "handlers.registry.api_keys.verify": lambda: ("POST", "/v1/internal/api-keys/verify", {}, {"key": ctx.b_key}),
        "handlers.registry.tenants.create": lambda: (
            "POST",
            "/v1/tenants",
            {},
            {"slug": new_slug("matrix"), "name": "Matrix"},
        ),
        "handlers.registry.tenants.get": lambda: ("GET", f"/v1/tenants/{b['id']}", {}, None),
        "handlers.registry.tenants.get_by_slug": lambda: ("GET", f"/v1/tenants/by-slug/{b['slug']}", {}, None),
        "handlers.registry.tenants.activate": lambda: (
            "POST",
            f"/v1/tenants/{ctx.target(caller)['id']}/activate",
            {},
            None,
        ),
        "handlers.registry.tenants.cancel": lambda: (
            "POST",
            f"/v1/tenants/{ctx.target(caller)['id']}/cancel",
            {},
            {"reason": "matrix"},
        ),
        "handlers.registry.entitlements.list_for_tenant": lambda: (
            "GET",
            "/v1/entitlements",
            {"tenant_id": b["id"]},
            None,
        ),
        "handlers.registry.catalog.list_products": lambda: ("GET", "/v1/catalog", {}, None),
        "handlers.registry.catalog.request_product": lambda: (
            "POST",
            "/v1/catalog/request",
            {},
            {"tenant_id": b["id"], "product": "licensing"},
        ),
        "handlers.registry.catalog.request_trial": lambda: (
            "POST",
            "/v1/catalog/trial-request",
            {},
            {"tenant_id": b["id"], "product": trial_product(caller)},
        ),
        "handlers.registry.api_keys.list_for_tenant": lambda: ("GET", "/v1/api-keys", {"tenant_id": b["id"]}, None),
        "handlers.registry.api_keys.create": lambda: (
            "POST",
            "/v1/api-keys",
            {},
            {"tenant_id": b["id"], "name": "matrix"},
        ),
        "handlers.registry.api_keys.revoke": lambda: ("DELETE", f"/v1/api-keys/{ctx.fresh_b_key()}", {}, None),
        "handlers.registry.audit.append": lambda: (
            "POST",
            "/v1/audit",
            {},
            {
                "tenant_id": b["id"],
                "action": "roles.matrix",
                # appended events keep the metadata sent
                "metadata": {"request_id": rid},
            },
        ),
        "handlers.registry.audit.query": lambda: ("GET", "/v1/audit", {"tenant_id": b["id"]}, None),
        SUPPORT_START: lambda: ("POST", "/v1/auth/support-session", {}, {"tenant_id": b["id"], "reason": "matrix"}),
    }[op_id]()


def _callers(client, store, b: dict) -> dict[str, dict]:
    """Each caller's Authorization header (4 users: argon2 is slow)."""
    support = session(client, store, ["support"])
    opened = client.post(
        "/v1/auth/support-session",
        json={"tenant_id": b["id"], "reason": "BFLA matrix"},
        headers=bearer(support["access_token"]),
    )
    assert opened.status_code == 201, opened.text
    headers = {
        PLATFORM_ADMIN_KEY: ADMIN,
        PLATFORM_ADMIN: bearer(session(client, store, ["platform_admin"])["access_token"]),
        SUPPORT: bearer(support["access_token"]),
        SUPPORT_SESSION: bearer(opened.json()["access_token"]),
        TENANT_ADMIN: bearer(session(client, store, ["tenant_admin"], b["id"])["access_token"]),
        TENANT_MEMBER: bearer(session(client, store, ["tenant_member"], b["id"])["access_token"]),
    }
    for caller, scopes in SCOPES.items():
        headers[caller] = bearer(service_token(client, b["id"], scopes)["access_token"])
    assert set(headers) == set(CALLERS)
    return headers


def test_the_policy_names_every_registry_operation():
    ops = {op["operationId"] for _, _, op in operations(REGISTRY)}
    assert ops - POLICY.keys() == set(), "registry operations without a row in POLICY"
    assert POLICY.keys() - ops == set(), "rows in POLICY for operations the spec does not have"
    assert all(allowed <= EVERYONE for allowed in POLICY.values())


def test_function_level_authorization_matrix(client, store):
    b = create_tenant(client, slug="bravo-matrix", name="Bravo Matrix")
    ctx = Ctx(client, b, create_key(client, b["id"], name="verify-me")["plaintext"])
    headers = _callers(client, store, b)
    ops = [op["operationId"] for _, _, op in operations(REGISTRY)] + list(EXTRA_POLICY)
    ops.sort(key=lambda op_id: op_id.endswith("tenants.cancel"))  # a wrong grant would freeze B: last
    policy = {**POLICY, **EXTRA_POLICY}

    calls, mismatches = [], []
    for op_id in ops:
        for caller in CALLERS:
            rid = f"matrix-{len(calls)}"
            method, url, params, body = _request(op_id, ctx, caller, rid)
            r = client.request(
                method, url, params=params or None, json=body, headers={**headers[caller], "x-request-id": rid}
            )
            allowed = caller in policy[op_id]
            calls.append((rid, op_id, caller, allowed))
            if allowed and not 200 <= r.status_code < 300:
                mismatches.append(f"{op_id:48} {caller:44} expected 2xx, got {r.status_code} {r.text[:160]}")
            elif not allowed and (r.status_code != 403 or r.json().get("error") != "forbidden"):
                mismatches.append(f"{op_id:48} {caller:44} expected 403 forbidden, got {r.status_code} {r.text[:160]}")

    # forbidden calls changed nothing; allowed writes left exactly their one event
    by_request: dict[str, list[str]] = {}
    for event in all_events(client):
        by_request.setdefault((event.get("metadata") or {}).get("request_id"), []).append(event["action"])
    for rid, op_id, caller, allowed in calls:
        actions = [a for a in by_request.get(rid, []) if a != "support_session.read"]
        expected = [WRITES[op_id]] if allowed and op_id in WRITES else []
        if actions != expected:
            mismatches.append(f"{op_id:48} {caller:44} audit events {actions}, expected {expected}")

    table = "\n".join(mismatches)
    assert not mismatches, f"{len(mismatches)} of {len(calls)} calls break the policy:\n{table}"


# ------------------------------------------------------------------ no or a broken credential


def _protected_operations():
    for method, path, op in operations(load_merged()):
        if op.get("security") != []:
            url = re.sub(r"\{(\w+)\}", lambda m: "some-slug" if m[1] == "slug" else str(uuid.uuid4()), path)
            yield op["operationId"], method.upper(), url


MALFORMED = {
    "Bearer nonsense": "Bearer nonsense",
    "Basic": "Basic eDp5",
    "Basic x": "Basic x",
    "empty": "",
    "Bearer without credential": "Bearer",
    "Bearer and blanks": "Bearer    ",
    "JWT-shaped garbage": "Bearer a.b.c",
    "alg none": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwia2luZCI6InVzZXIifQ.",
    "bootstrap key, one character off": "Bearer charter-tests-bootstrap-admin-key-012345678X",
    "an API key that is none": "Bearer bp_notakey_0000000000000000",
}


def _check_401(r, label: str, problems: list[str]) -> None:
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code != 401:
        problems.append(f"{label}: expected 401, got {r.status_code} {r.text[:160]}")
    elif not r.headers.get("www-authenticate", "").startswith("Bearer"):
        problems.append(f"{label}: 401 without a WWW-Authenticate Bearer challenge")
    elif not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
        problems.append(f"{label}: not the error shape: {r.text[:160]}")


def test_every_protected_operation_answers_401_without_a_credential(anonymous, store):
    ops = list(_protected_operations())
    assert len(ops) >= 14  # the registry's and identity's protected operations at least
    problems = []
    for op_id, method, url in ops:
        for headers in ({}, {"x-tenant-id": str(uuid.uuid4())}):
            r = anonymous.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None, headers=headers)
            _check_401(r, f"{op_id} {method} {url} without a credential {headers}", problems)
    assert not problems, "\n".join(problems)


def test_a_malformed_credential_answers_401(anonymous, store):
    problems = []
    for op_id, method, url in _protected_operations():
        for label, value in MALFORMED.items():
            r = anonymous.request(method, url, json={} if method == "POST" else None, headers={"Authorization": value})
            _check_401(r, f"{op_id} {method} {url} with {label!r}", problems)
    assert not problems, "\n".join(problems)
