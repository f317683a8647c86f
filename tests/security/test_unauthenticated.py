"""No credential, or a malformed one, on every operation the app serves.

Every protected operation (any `security` but `[]`) answers 401 in the error shape with a
WWW-Authenticate Bearer challenge, before validation or a handler runs. Every public operation
answers its table row's sanity request the same without a credential as with one, malformed or not.
"""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import create_tenant, settings
from tests.security import served as served_doc
from tests.security.rows import PLACEHOLDER, Public
from tests.security.served import create_app
from tests.security.tables import compliance, has_row, licensing, row, tabled


@pytest.fixture
def app(store):
    """Eleven recover requests in a row, more than a minute's budget of one client address allows
    (the limit itself is tests/licensing/test_keysat_client.py's), and eleven exports queued at
    once in one tenant, more than its default cap (tests/compliance/test_exports.py's)."""
    return create_app(
        store=store, settings=settings(CHARTER_RATE_LIMITS="recover.ip=10000/60", CHARTER_EXPORT_CONCURRENT="1000")
    )


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


def _operations(client, *, pending: bool = False):
    """Every served operation with a row (with `pending`, also those of APIs whose table is pending)."""
    every = served_doc.fetch(client).operations()
    ops = every if pending else tabled(every)
    missing = [op.op_id for op in tabled(ops) if not has_row(op.op_id)]
    assert not missing, f"operations with no row in their API's table: {missing}"
    return ops


def _protected(client):
    ops = [op for op in _operations(client, pending=True) if not op.public]
    assert len(ops) >= 19, "fewer protected operations than the registry (14) and identity (5) have"
    return [(op.op_id, op.method, op.url()) for op in ops]


def _compliant(client, tenant: dict) -> str:
    r = client.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "compliance"})
    assert r.status_code in (201, 409), r.text
    return tenant["id"]


def _value(found) -> str:
    return found() if callable(found) else found


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
    problems = []
    for op_id, method, url in _protected(anonymous):
        for headers in ({}, {"x-tenant-id": str(uuid.uuid4())}):
            r = anonymous.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None, headers=headers)
            _check_401(r, f"{op_id} {method} {url} without a credential {headers}", problems)
    assert not problems, "\n".join(problems)


def test_a_malformed_credential_answers_401(anonymous, store):
    problems = []
    for op_id, method, url in _protected(anonymous):
        for label, value in MALFORMED.items():
            r = anonymous.request(
                method, url, json={} if method in ("POST", "PUT", "PATCH") else None, headers={"Authorization": value}
            )
            _check_401(r, f"{op_id} {method} {url} with {label!r}", problems)
    assert not problems, "\n".join(problems)


def test_every_public_operation_answers_without_a_credential(client, anonymous, store):
    """The sanity request of each public row, with no credential and with each malformed one, gets
    what the row says (sign-in, public but tenant-scoped, is signed in to by the role matrix's
    anonymous caller). A row's placeholders name a tenant's public licensing service and its
    objects: a tenant with one is made for them."""
    tenant = create_tenant(client)
    ids = {
        "slug": tenant["slug"],
        "invoice_id": lambda: licensing.fresh_invoice(client, tenant),
        "export_id": lambda: compliance.fresh_export(client, _compliant(client, tenant)),
    }
    problems, checked = [], 0
    for op in _operations(anonymous):
        probe = row(op.op_id).probe
        if not isinstance(probe, Public):
            continue
        checked += 1
        status, code = probe.expect
        route = probe.route
        if PLACEHOLDER.search(route.path):
            licensing.shop(client, tenant)
        for label, value in {"no credential": None, **MALFORMED}.items():
            headers = {} if value is None else {"Authorization": value}
            path = PLACEHOLDER.sub(lambda m: _value(ids[m[1]]), route.path)
            r = anonymous.request(route.method, path, params=route.params or None, json=route.json, headers=headers)
            body = r.json() if r.content else None
            where = f"{op.op_id} {route.method} {route.path} with {label!r}"
            if r.status_code != status or (code is not None and (body or {}).get("error") != code):
                problems.append(f"{where}: expected {status} {code or ''}, got {r.status_code} {r.text[:160]}")
            elif probe.check is not None and probe.check(body):
                problems.append(f"{where}: {probe.check(body)}")
    assert checked >= 5
    assert not problems, "\n".join(problems)
