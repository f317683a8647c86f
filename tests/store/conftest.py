"""Record factories for the store tests. The `store` fixture itself lives in tests/conftest.py."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest

from store.models import ApiKey, AuditDraft, Entitlement, Tenant, utcnow


def make_tenant(slug: str | None = None, **fields) -> Tenant:
    now = utcnow()
    values = dict(
        id=uuid4(),
        slug=slug or f"t-{uuid4().hex[:10]}",
        name="Acme Corp",
        status="active",
        kind="customer",
        plan="pro",
        created_at=now,
        updated_at=now,
    )
    values.update(fields)
    return Tenant(**values)


def full_tenant(**fields) -> Tenant:
    """Every optional field set, so a round trip checks them all."""
    now = utcnow()
    values = dict(
        erp_customer_id="ERP-0042",
        stripe_cust_id="cus_123",
        trial_ends_at=now + timedelta(days=14),
        contract_start=date(2025, 1, 1),
        contract_end=date(2026, 12, 31),
        sales_owner="dana@example.com",
    )
    values.update(fields)
    return make_tenant(**values)


def make_entitlement(tenant_id, product: str = "billing", **fields) -> Entitlement:
    now = utcnow()
    values = dict(tenant_id=tenant_id, product=product, enabled=True, created_at=now, updated_at=now)
    values.update(fields)
    return Entitlement(**values)


def make_key(tenant_id, prefix: str = "ck_abc", **fields) -> ApiKey:
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        name="ci",
        prefix=prefix,
        secret_hash="argon2id|c2FsdA==|aGFzaA==",
        created_at=utcnow(),
    )
    values.update(fields)
    return ApiKey(**values)


def make_draft(action: str = "tenant.created", **fields) -> AuditDraft:
    return AuditDraft(action=action, **fields)


@pytest.fixture
def make():
    """The factories, as a fixture: test modules here are not importable packages."""
    return SimpleNamespace(
        tenant=make_tenant, full_tenant=full_tenant, entitlement=make_entitlement, key=make_key, draft=make_draft
    )


@pytest.fixture
def tenant_in(store):
    """Add a tenant (committed) and return it."""

    def add(**fields) -> Tenant:
        tenant = make_tenant(**fields)
        with store.write() as s:
            s.tenants.add(tenant)
        return tenant

    return add
