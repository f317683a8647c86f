"""Invoices, and settling a manual one by hand."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import purchases, shapes


def list_invoices(tenant_slug: str, status: str | None = None, limit: int = 100) -> dict:
    return {"items": [shapes.invoice(i) for i in purchases.list_invoices(store(), actor(), tenant_slug, status, limit)]}


def mark_paid(tenant_slug: str, invoice_id: str) -> dict:
    return shapes.invoice(purchases.mark_paid(store(), actor(), config(), tenant_slug, UUID(invoice_id)))
