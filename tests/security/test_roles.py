"""Function-level authorization (BFLA): who may call which operation, for every operation served.

The policy is each row's `access` in tests/security/tables/<api>.py, written BY HAND from the
product rules, not derived from auth/roles.py, so a wrong grant table fails here. Each of ten
callers (and, for the public operations, a caller with no credential at all) calls each
operation the app serves once, on B's own objects when it is bound to B (a platform caller reads
B across tenants and writes into B; tenant moves go to a fresh tenant of their own):

- allowed: exactly the row's status, and a write leaves exactly its audit event (or events);
- not allowed: the row's refusal (403 `forbidden` unless it says otherwise; 401 `unauthorized`
  without a credential), and nothing at all is written (no audit event under the request id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.helpers import ADMIN, all_events, bearer, create_key, create_tenant, new_slug, settings
from tests.identity.helpers import PASSWORD, login, service_token, session
from tests.security import served as served_doc
from tests.security.rows import (
    ANONYMOUS,
    CALLERS,
    PLACEHOLDER,
    PLATFORM_ADMIN,
    PLATFORM_ADMIN_KEY,
    PLATFORM_CALLERS,
    SERVICE_NONE,
    SERVICE_PLATFORM,
    SERVICE_READ,
    SERVICE_WRITE,
    SERVICES,
    SUPPORT,
    SUPPORT_SESSION,
    TENANT_ADMIN,
    TENANT_MEMBER,
    Access,
    Call,
    Public,
    Row,
)
from tests.security.served import create_app
from tests.security.tables import compliance, has_row, licensing, row, tabled

ROOT = Path(__file__).resolve().parents[2]
MATRIX_CALLERS = CALLERS + [ANONYMOUS]
# the scopes of the service tokens' keys, spelled out
SCOPES = {
    SERVICE_READ: ["tenants:read", "entitlements:read", "catalog:read", "api_keys:read", "audit:read"],
    SERVICE_WRITE: ["catalog:request", "api_keys:write", "audit:write"],
    SERVICE_NONE: ["validate"],  # another product's scope: kept on the key, grants nothing here
    # a tenant cannot grant itself platform permissions through a key's scopes
    SERVICE_PLATFORM: ["tenants:write", "support:session", "tenants:read"],
}
NO_CREDENTIAL = (401, "unauthorized")  # what a protected operation answers without one
# the matrix signs in and presents keys more often than a minute's default budget allows; the
# limits themselves are tests/identity/test_rate_limits.py's
LIMITS = "login.ip=10000/60,exchange.ip=10000/60,arbitration.tenant=10000/60,recover.ip=10000/60"


def trial_product(caller: str) -> str:
    return "trial-" + re.sub(r"[^a-z0-9]+", "-", caller.lower()).strip("-")


@pytest.fixture
def app(store, tmp_path):
    """The real app, with a catalog that has a trial product for each caller (a trial is granted
    once per tenant and product, and several callers start one in B)."""
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
        for c in MATRIX_CALLERS
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(products), encoding="utf-8")
    # with its job worker: the export rows download and verify built bundles
    env = {
        "CHARTER_CATALOG": str(path),
        "CHARTER_RATE_LIMITS": LIMITS,
        "CHARTER_DATA_DIR": str(tmp_path / "data"),
        "CHARTER_JOB_POLL_MS": "50",
        "CHARTER_EXPORT_CONCURRENT": "1000",
    }
    return create_app(store=store, settings=settings(**env), inprocess_worker=True)


# ------------------------------------------------------------------------------- callers


class Callers:
    """Each caller's Authorization header, and fresh ones of the same kind (5 users: argon2 is slow)."""

    def __init__(self, client, store, b: dict):
        self.client, self.b = client, b
        self.users = {
            PLATFORM_ADMIN: session(client, store, ["platform_admin"]),
            SUPPORT: session(client, store, ["support"]),
            TENANT_ADMIN: session(client, store, ["tenant_admin"], b["id"]),
            TENANT_MEMBER: session(client, store, ["tenant_member"], b["id"]),
        }
        self.member_email = session(client, store, ["tenant_member"], b["id"])["email"]  # signs in, refreshes
        self.keys = {caller: service_token(client, b["id"], scopes) for caller, scopes in SCOPES.items()}
        self.headers = {
            PLATFORM_ADMIN_KEY: ADMIN,
            **{caller: bearer(s["access_token"]) for caller, s in self.users.items()},
            SUPPORT_SESSION: self._support_session(),
            **{caller: bearer(s["access_token"]) for caller, s in self.keys.items()},
            ANONYMOUS: {"Authorization": ""},
        }
        assert set(self.headers) == set(MATRIX_CALLERS)

    def _support_session(self) -> dict:
        r = self.client.post(
            "/v1/auth/support-session",
            json={"tenant_id": self.b["id"], "reason": "BFLA matrix"},
            headers=bearer(self.users[SUPPORT]["access_token"]),
        )
        assert r.status_code == 201, r.text
        return bearer(r.json()["access_token"])

    def fresh(self, caller: str) -> dict:
        """A new credential of the caller's kind (for calls that end the one they are made with)."""
        if caller in self.users:
            tenant = {"tenant_id": self.b["id"]} if caller in (TENANT_ADMIN, TENANT_MEMBER) else {}
            r = login(self.client, self.users[caller]["email"], **tenant)
            assert r.status_code == 200, r.text
            return bearer(r.json()["access_token"])
        if caller == SUPPORT_SESSION:
            return self._support_session()
        if caller in self.keys:
            r = self.client.post("/v1/auth/token", headers=bearer(self.keys[caller]["plaintext"]))
            assert r.status_code == 200, r.text
            return bearer(r.json()["access_token"])
        return self.headers[caller]

    def for_call(self, caller: str, access: Access) -> dict:
        if access.credential == "key" and caller in SERVICES:
            return bearer(self.keys[caller]["plaintext"])
        return self.fresh(caller) if access.spends_credential else self.headers[caller]


@dataclass
class Ctx:
    """What a row's request builder may use: the caller, the request id, tenant B, helpers."""

    client: object
    b: dict
    b_key: str  # a plaintext key of B, for verify
    b_member_email: str  # a member of B who signs in (login, refresh)
    caller: str
    rid: str
    password: str = PASSWORD

    @property
    def trial_product(self) -> str:
        return trial_product(self.caller)

    @staticmethod
    def new_slug() -> str:
        return new_slug("matrix")

    def fresh_b_key(self) -> str:
        return create_key(self.client, self.b["id"], name="to-revoke")["api_key"]["id"]

    def target(self) -> dict:
        """The tenant a tenant move acts on: B for a caller bound to B, else a fresh one."""
        return create_tenant(self.client) if self.caller in PLATFORM_CALLERS else self.b

    def refresh_token(self) -> str:
        r = login(self.client, self.b_member_email, tenant_id=self.b["id"])
        assert r.status_code == 200, r.text
        return r.json()["refresh_token"]

    def fresh_b_endpoint(self) -> str:
        r = self.client.post(
            "/v1/webhooks/endpoints", json={"url": "https://hooks.example.com/matrix"}, headers=self.in_b
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def fresh_b_delivery(self) -> str:
        endpoint = self.fresh_b_endpoint()
        create_key(self.client, self.b["id"], name="to-deliver")
        r = self.client.get(f"/v1/webhooks/endpoints/{endpoint}/deliveries", headers=self.in_b)
        assert r.status_code == 200, r.text
        return r.json()["items"][0]["id"]

    @property
    def in_b(self) -> dict:
        """The header a platform caller narrows itself to B with (a caller bound to B may send it too)."""
        return {"x-tenant-id": self.b["id"]}

    def fresh_b_case(self) -> str:
        r = self.client.post(
            "/v1/disputes/cases", json={"subject_type": "payment", "subject_id": "matrix"}, headers=self.in_b
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def value(self, name: str) -> str:
        return {
            "tenant_id": lambda: self.b["id"],
            "slug": lambda: self.b["slug"],
            "key_id": self.fresh_b_key,
            "action": lambda: "roles.matrix",
            "endpoint_id": self.fresh_b_endpoint,
            "delivery_id": self.fresh_b_delivery,
            "case_id": self.fresh_b_case,
            "product_id": lambda: licensing.product_id(self.client, self.b),
            "policy_id": lambda: licensing.fresh_policy(self.client, self.b),
            "license_id": lambda: licensing.fresh_license(self.client, self.b)["id"],
            "machine_id": lambda: licensing.fresh_machine(self.client, self.b),
            "invoice_id": lambda: licensing.fresh_invoice(self.client, self.b),
            "subscription_id": lambda: licensing.fresh_license(self.client, self.b, policy="monthly")["id"],
            "api_key_id": lambda: licensing.fresh_api_key(self.client, self.b)["id"],
            "export_id": lambda: compliance.fresh_export(self.client, self.b["id"]),
        }[name]()


def _call(r: Row, ctx: Ctx) -> Call:
    if r.access.request is not None:
        return r.access.request(ctx)
    route = r.probe.route if isinstance(r.probe, Public) else r.probe.routes[0]

    def fill(value):
        m = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
        return ctx.value(m[1]) if m else value

    url = PLACEHOLDER.sub(lambda m: ctx.value(m[1]), route.path)
    return Call(
        route.method,
        url,
        {k: fill(v) for k, v in route.params.items()} or None,
        None if route.json is None else {k: fill(v) for k, v in route.json.items()},
    )


def test_function_level_authorization_matrix(client, store):
    # on plan pro: the matrix makes more products and discount codes than starter's caps allow
    b = create_tenant(client, slug="bravo-matrix", name="Bravo Matrix", plan="pro")
    granted = client.post("/v1/entitlements", json={"tenant_id": b["id"], "product": "compliance"})
    assert granted.status_code == 201, granted.text  # the dispute routes need it
    licensing.shop(client, b)  # and the licensing ones this
    callers = Callers(client, store, b)
    b_key = create_key(client, b["id"], name="verify-me")["plaintext"]
    ops = tabled(served_doc.fetch(client).operations())
    missing = [op.op_id for op in ops if not has_row(op.op_id)]
    assert not missing, f"operations with no row in their API's table: {missing}"
    ops.sort(key=lambda op: row(op.op_id).access.last)  # a wrong grant there would break B: last

    calls, mismatches = [], []
    for op in ops:
        access = row(op.op_id).access
        for caller in MATRIX_CALLERS:
            rid = f"matrix-{len(calls)}"
            call = _call(row(op.op_id), Ctx(client, b, b_key, callers.member_email, caller, rid))
            r = client.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json,
                content=call.content,
                headers={**(call.headers or {}), **callers.for_call(caller, access), "x-request-id": rid},
            )
            allowed = caller in access.allowed
            calls.append((rid, op.op_id, caller, allowed))
            where = f"{op.op_id:48} {caller:44}"
            if allowed:
                if r.status_code != access.status:
                    mismatches.append(f"{where} expected {access.status}, got {r.status_code} {r.text[:160]}")
                continue
            status, code = NO_CREDENTIAL if caller == ANONYMOUS else access.denied
            body = r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else {}
            if r.status_code != status or body.get("error") != code:
                mismatches.append(f"{where} expected {status} {code}, got {r.status_code} {r.text[:160]}")

    # refused calls changed nothing; allowed writes left exactly their one event
    by_request: dict[str, list[str]] = {}
    for event in all_events(client):
        by_request.setdefault((event.get("metadata") or {}).get("request_id"), []).append(event["action"])
    for rid, op_id, caller, allowed in calls:
        actions = [a for a in by_request.get(rid, []) if a != "support_session.read"]
        writes = row(op_id).access.writes
        expected = sorted([writes] if isinstance(writes, str) else writes or []) if allowed else []
        if sorted(actions) != expected:
            mismatches.append(f"{op_id:48} {caller:44} audit events {actions}, expected {expected}")

    table = "\n".join(mismatches)
    assert len(calls) >= 26 * len(MATRIX_CALLERS)
    assert not mismatches, f"{len(mismatches)} of {len(calls)} calls break the policy:\n{table}"
