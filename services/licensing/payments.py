"""Payment providers. A provider opens an invoice somewhere the buyer pays, and settles it later
(an admin route, or its signed webhook). `manual` is the one built in: its invoices stay pending
until a tenant admin marks them paid. Adding a provider is one module with a Provider and a line
in PROVIDERS; `free` settles at once, for what costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from store.models import Invoice


@dataclass(frozen=True)
class Opened:
    provider_invoice_id: str
    checkout_url: str  # where the buyer pays; "" when not on the web


class Provider(Protocol):
    name: str

    def open(self, invoice: Invoice) -> Opened: ...


class Manual:
    """Pending until marked paid by a tenant admin (POST /v1/admin/invoices/{id}/mark-paid)."""

    name = "manual"

    def open(self, invoice: Invoice) -> Opened:
        return Opened(f"manual-{invoice.id}", "")


class Free:
    name = "free"

    def open(self, invoice: Invoice) -> Opened:
        return Opened(f"free-{invoice.id}", "")


PROVIDERS: dict[str, Provider] = {p.name: p for p in (Manual(), Free())}
DEFAULT = "manual"
