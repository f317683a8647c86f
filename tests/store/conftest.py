"""Record factories for the store tests. The `store` fixture itself lives in tests/conftest.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest

from store.models import (
    ApiKey,
    AuditDraft,
    AuthSession,
    DiscountCode,
    DisputeCase,
    DisputeEvidence,
    DisputeNote,
    Entitlement,
    Invoice,
    IssuerKey,
    Job,
    KeptAnswer,
    License,
    LicensePolicy,
    LicenseProduct,
    Machine,
    Membership,
    RefreshToken,
    SigningKey,
    Tenant,
    User,
    WebhookEndpoint,
    new_job,
    utcnow,
)


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


def make_user(email: str | None = None, **fields) -> User:
    values = dict(
        id=uuid4(),
        email=email or f"u-{uuid4().hex[:10]}@example.com",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        created_at=utcnow(),
    )
    values.update(fields)
    return User(**values)


def make_membership(user_id, tenant_id, roles=("tenant_member",), **fields) -> Membership:
    values = dict(user_id=user_id, tenant_id=tenant_id, roles=list(roles), created_at=utcnow())
    values.update(fields)
    return Membership(**values)


def make_session(user_id, tenant_id=None, **fields) -> AuthSession:
    now = utcnow()
    values = dict(
        id=uuid4(),
        user_id=user_id,
        tenant_id=tenant_id,
        kind="login",
        roles=["tenant_member"] if tenant_id else [],
        created_at=now,
        expires_at=now + timedelta(hours=8),
    )
    values.update(fields)
    return AuthSession(**values)


def make_refresh(session_id, **fields) -> RefreshToken:
    now = utcnow()
    values = dict(
        id=uuid4(),
        session_id=session_id,
        token_hash=uuid4().hex + uuid4().hex,
        created_at=now,
        expires_at=now + timedelta(days=14),
    )
    values.update(fields)
    return RefreshToken(**values)


def make_signing_key(kid: str | None = None, **fields) -> SigningKey:
    now = utcnow()
    kid = kid or f"k-{uuid4().hex[:12]}"
    values = dict(
        kid=kid,
        public_jwk={"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": kid},
        created_at=now,
        sign_until=now + timedelta(hours=24),
        expires_at=now + timedelta(hours=25),
    )
    values.update(fields)
    return SigningKey(**values)


def make_kept_answer(scope: str = "platform", **fields) -> KeptAnswer:
    now = utcnow()
    values = dict(
        scope=scope,
        key_hash=uuid4().hex + uuid4().hex,
        fingerprint=uuid4().hex,
        sealed=b"\x00sealed\xff" + uuid4().bytes,
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )
    values.update(fields)
    return KeptAnswer(**values)


def make_job(kind: str = "tests.job", **fields) -> Job:
    made = new_job(
        kind, fields.pop("args", {"n": 1}), **{k: fields.pop(k) for k in ("key", "run_at", "tenant_id") if k in fields}
    )
    return replace(made, **fields)


def make_endpoint(tenant_id, url: str = "https://hooks.example.com/in", **fields) -> WebhookEndpoint:
    now = utcnow()
    values = {"id": uuid4(), "tenant_id": tenant_id, "url": url, "secret_sealed": b"\x00sealed", "created_at": now}
    values["updated_at"] = now
    return WebhookEndpoint(**{**values, **fields})


def make_issuer_key(tenant_id, **fields) -> IssuerKey:
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        public_key=uuid4().bytes + uuid4().bytes,
        private_sealed=b"\x00sealed\xff" + uuid4().bytes,
        created_at=utcnow(),
    )
    return IssuerKey(**{**values, **fields})


def make_product(tenant_id, slug: str | None = None, **fields) -> LicenseProduct:
    now = utcnow()
    values = dict(
        id=uuid4(), tenant_id=tenant_id, slug=slug or f"p-{uuid4().hex[:8]}", name="Pro", created_at=now, updated_at=now
    )
    return LicenseProduct(**{**values, **fields})


def make_policy(tenant_id, product_id, slug: str | None = None, **fields) -> LicensePolicy:
    now = utcnow()
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        product_id=product_id,
        slug=slug or f"tier-{uuid4().hex[:8]}",
        name="Standard",
        created_at=now,
        updated_at=now,
    )
    return LicensePolicy(**{**values, **fields})


def make_license(tenant_id, product_id, issuer_key_id=None, **fields) -> License:
    now = utcnow().replace(microsecond=0)
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        product_id=product_id,
        issuer_key_id=issuer_key_id or uuid4(),
        status="active",
        issued_at=now,
        updated_at=now,
    )
    return License(**{**values, **fields})


def make_machine(tenant_id, license_id, fingerprint_hash: str | None = None, **fields) -> Machine:
    now = utcnow()
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        license_id=license_id,
        fingerprint_hash=fingerprint_hash or uuid4().hex + uuid4().hex,
        activated_at=now,
        last_seen_at=now,
    )
    return Machine(**{**values, **fields})


def make_invoice(tenant_id, product_id, **fields) -> Invoice:
    now = utcnow()
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        product_id=product_id,
        status="pending",
        provider="manual",
        provider_invoice_id=f"inv-{uuid4().hex[:8]}",
        amount=1000,
        currency="SAT",
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=1),
    )
    return Invoice(**{**values, **fields})


def make_code(tenant_id, code_hash: str | None = None, **fields) -> DiscountCode:
    now = utcnow()
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        code_hash=code_hash or uuid4().hex + uuid4().hex,
        label="SPRING",
        created_at=now,
        updated_at=now,
    )
    return DiscountCode(**{**values, **fields})


def make_case(tenant_id, **fields) -> DisputeCase:
    now = utcnow()
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        subject_type="payment",
        subject_id=f"pay_{uuid4().hex[:8]}",
        status="open",
        stage="inquiry",
        created_at=now,
        updated_at=now,
    )
    return DisputeCase(**{**values, **fields})


def make_evidence(tenant_id, case_id, **fields) -> DisputeEvidence:
    values = dict(
        id=uuid4(),
        tenant_id=tenant_id,
        case_id=case_id,
        kind="receipt",
        sha256=uuid4().hex + uuid4().hex,
        size=1024,
        media_type="application/pdf",
        created_at=utcnow(),
    )
    return DisputeEvidence(**{**values, **fields})


def make_note(tenant_id, case_id, **fields) -> DisputeNote:
    values = dict(id=uuid4(), tenant_id=tenant_id, case_id=case_id, body="A note.", created_at=utcnow())
    return DisputeNote(**{**values, **fields})


@pytest.fixture
def make():
    """The factories, as a fixture: test modules here are not importable packages."""
    return SimpleNamespace(
        tenant=make_tenant,
        full_tenant=full_tenant,
        entitlement=make_entitlement,
        key=make_key,
        draft=make_draft,
        user=make_user,
        membership=make_membership,
        session=make_session,
        refresh=make_refresh,
        signing_key=make_signing_key,
        kept_answer=make_kept_answer,
        job=make_job,
        endpoint=make_endpoint,
        issuer_key=make_issuer_key,
        product=make_product,
        policy=make_policy,
        license=make_license,
        machine=make_machine,
        invoice=make_invoice,
        code=make_code,
        case=make_case,
        evidence=make_evidence,
        note=make_note,
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


@pytest.fixture
def user_in(store):
    """Add a user (committed) and return it."""

    def add(**fields) -> User:
        user = make_user(**fields)
        with store.write() as s:
            s.users.add(user)
        return user

    return add
