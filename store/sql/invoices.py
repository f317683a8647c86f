"""Invoices and discount codes over SQL. See store.sql.licensing for what every licensing
repository shares."""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.models import DiscountCode, Invoice
from store.sql.licensing import LicensingRepo, Statements
from store.sql.tables import license_discount_codes, license_invoices

INVOICE_MUTABLE = ("status", "updated_at", "license_id", "settled_at", "provider_invoice_id")
INVOICES = Statements(
    license_invoices,
    Invoice,
    (c.name for c in license_invoices.columns if c.name not in INVOICE_MUTABLE),
    "product",
)
CODES = Statements(license_discount_codes, DiscountCode, ("id", "tenant_id", "code_hash", "created_at"))

_I, _C = license_invoices.c, license_discount_codes.c
_OVERDUE = (
    sa.select(license_invoices)
    .where(_I.status == "pending", _I.expires_at <= sa.bindparam("now", type_=_I.expires_at.type))
    .order_by(_I.expires_at, _I.id)
    .limit(sa.bindparam("limit"))
)
_CODE_BY_HASH = sa.select(license_discount_codes).where(
    _C.tenant_id == sa.bindparam("tenant_id"), _C.code_hash == sa.bindparam("code_hash")
)
_CODE_BY_HASH_FOR_UPDATE = _CODE_BY_HASH.with_for_update()
_CODES_OF = (
    sa.select(license_discount_codes).where(_C.tenant_id == sa.bindparam("tenant_id")).order_by(_C.created_at, _C.id)
)


class SqlInvoices(LicensingRepo):
    def add(self, invoice: Invoice) -> None:
        self._add(INVOICES, invoice)

    def get(self, invoice_id: UUID, *, for_update: bool = False) -> Invoice | None:
        return self._get(INVOICES, invoice_id, for_update)

    def save(self, invoice: Invoice) -> None:
        self._save(INVOICES, invoice)

    def list(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[Invoice]:
        query = sa.select(license_invoices).where(_I.tenant_id == tenant_id)
        if status is not None:
            query = query.where(_I.status == status)
        query = query.order_by(_I.created_at.desc(), _I.id.desc()).limit(max(limit, 0))
        return self._all(INVOICES, query)

    def overdue(self, now: datetime, limit: int) -> builtins.list[Invoice]:
        return self._all(INVOICES, _OVERDUE, {"now": now, "limit": max(limit, 0)})


class SqlDiscountCodes(LicensingRepo):
    def add(self, code: DiscountCode) -> None:
        self._add(CODES, code, "code")

    def get(self, code_id: UUID, *, for_update: bool = False) -> DiscountCode | None:
        return self._get(CODES, code_id, for_update)

    def by_hash(self, tenant_id: UUID, code_hash: str, *, for_update: bool = False) -> DiscountCode | None:
        query = _CODE_BY_HASH_FOR_UPDATE if for_update and self.pg else _CODE_BY_HASH  # SQLite: BEGIN IMMEDIATE
        return self._one(CODES, query, {"tenant_id": tenant_id, "code_hash": code_hash})

    def list(self, tenant_id: UUID) -> builtins.list[DiscountCode]:
        return self._all(CODES, _CODES_OF, {"tenant_id": tenant_id})

    def save(self, code: DiscountCode) -> None:
        self._save(CODES, code)
