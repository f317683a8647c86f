"""Invoices and discount codes in memory. See store.memory.licensing for what every licensing
repository shares."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import Rows
from store.memory.cascade import DELETE
from store.memory.licensing import LicensingRepo, ProductRows, mutable
from store.models import DiscountCode, Invoice


class InvoiceRows(Rows[UUID, Invoice]):
    on_tenant_delete = DELETE  # SQL: also by the product's cascade


class DiscountCodeRows(Rows[UUID, DiscountCode]):
    on_tenant_delete = DELETE

    def __init__(self) -> None:
        super().__init__()
        self.hashes: dict[tuple[UUID, str], UUID] = {}  # (tenant_id, code_hash)

    def _index(self, key: UUID, row: DiscountCode) -> None:
        self.hashes[(row.tenant_id, row.code_hash)] = key

    def _unindex(self, key: UUID, row: DiscountCode) -> None:
        del self.hashes[(row.tenant_id, row.code_hash)]


def newest_first(invoice: Invoice) -> tuple[datetime, str]:
    return (invoice.created_at, str(invoice.id))


def by_expiry(invoice: Invoice) -> tuple[datetime, str]:
    return (invoice.expires_at, str(invoice.id))


INVOICE_MUTABLE = ("status", "updated_at", "license_id", "settled_at", "provider_invoice_id")
CODE_MUTABLE = mutable(DiscountCode, "id", "tenant_id", "code_hash", "created_at")


class MemoryInvoices(LicensingRepo):
    rows_kind = InvoiceRows

    def add(self, invoice: Invoice) -> None:
        self._check_new(invoice)
        if invoice.product_id not in self._tables.of(ProductRows).by_key:
            raise MissingReference("product")
        self._rows.insert(invoice.id, copy.deepcopy(invoice), self._undo())

    def get(self, invoice_id: UUID, *, for_update: bool = False) -> Invoice | None:
        return self._one(invoice_id)

    def save(self, invoice: Invoice) -> None:
        self._rewrite(invoice, INVOICE_MUTABLE)

    def list(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[Invoice]:
        found = [
            i for i in self._rows.by_key.values() if i.tenant_id == tenant_id and (status is None or i.status == status)
        ]
        return self._all(found, key=newest_first, reverse=True)[: max(limit, 0)]

    def overdue(self, now: datetime, limit: int) -> builtins.list[Invoice]:
        found = [i for i in self._rows.by_key.values() if i.status == "pending" and i.expires_at <= now]
        return self._all(found, key=by_expiry)[: max(limit, 0)]


class MemoryDiscountCodes(LicensingRepo):
    rows_kind = DiscountCodeRows
    _rows: DiscountCodeRows

    def add(self, code: DiscountCode) -> None:
        self._check_new(code)
        if (code.tenant_id, code.code_hash) in self._rows.hashes:
            raise Conflict("code")
        self._rows.insert(code.id, copy.deepcopy(code), self._undo())

    def get(self, code_id: UUID, *, for_update: bool = False) -> DiscountCode | None:
        return self._one(code_id)

    def by_hash(self, tenant_id: UUID, code_hash: str, *, for_update: bool = False) -> DiscountCode | None:
        return self._one(self._rows.hashes.get((tenant_id, code_hash)))

    def list(self, tenant_id: UUID) -> builtins.list[DiscountCode]:
        return self._all(c for c in self._rows.by_key.values() if c.tenant_id == tenant_id)

    def save(self, code: DiscountCode) -> None:
        self._rewrite(code, CODE_MUTABLE)
