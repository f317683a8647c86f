"""Licenses and their machines (seats) in memory. See store.memory.licensing for what every
licensing repository shares."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Rows
from store.memory.cascade import DELETE
from store.memory.licensing import LicensingRepo, ProductRows, mutable
from store.memory.tenants import EntitlementRows, MemoryTenants
from store.models import Entitlement, License, Machine, Tenant


class LicenseRows(Rows[UUID, License]):
    on_tenant_delete = DELETE  # SQL: also by the product's cascade


class MachineRows(Rows[UUID, Machine]):
    on_tenant_delete = DELETE  # SQL: also by the license's cascade

    def __init__(self) -> None:
        super().__init__()
        self.fingerprints: dict[tuple[UUID, str], UUID] = {}  # (license_id, fingerprint_hash)
        self.of_license: dict[UUID, set[UUID]] = {}

    def _index(self, key: UUID, row: Machine) -> None:
        self.fingerprints[(row.license_id, row.fingerprint_hash)] = key
        self.of_license.setdefault(row.license_id, set()).add(key)

    def _unindex(self, key: UUID, row: Machine) -> None:
        del self.fingerprints[(row.license_id, row.fingerprint_hash)]
        keys = self.of_license[row.license_id]
        keys.discard(key)
        if not keys:
            del self.of_license[row.license_id]


def newest_first(license: License) -> tuple[datetime, str]:
    return (license.issued_at, str(license.id))


def by_activation(machine: Machine) -> tuple[datetime, str]:
    return (machine.activated_at, str(machine.id))


def by_seat_end(machine: Machine) -> tuple[datetime, str]:
    assert machine.seat_expires_at is not None
    return (machine.seat_expires_at, str(machine.id))


LICENSE_MUTABLE = mutable(License, "id", "tenant_id", "product_id", "issued_at")
MACHINE_MUTABLE = mutable(Machine, "id", "tenant_id", "license_id", "fingerprint_hash")


class MemoryLicenses(LicensingRepo):
    rows_kind = LicenseRows

    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._context = session

    def add(self, license: License) -> None:
        self._check_new(license)
        if license.product_id not in self._tables.of(ProductRows).by_key:
            raise MissingReference("product")
        self._rows.insert(license.id, copy.deepcopy(license), self._undo())

    def get(self, license_id: UUID, *, for_update: bool = False) -> License | None:
        return self._one(license_id)

    def at_prefix(
        self, slug: str, product: str, license_id: UUID | None
    ) -> tuple[Tenant, Entitlement | None, License | None] | None:
        tenant = MemoryTenants(self._context).get_by_slug(slug)
        if tenant is None:
            return None
        held = self._tables.of(EntitlementRows).by_key.get((tenant.id, product))
        lic = None if license_id is None else self.get(license_id)
        return (
            tenant,
            copy.deepcopy(held),
            (lic if lic is not None and lic.tenant_id == tenant.id else None),
        )

    def list(
        self,
        tenant_id: UUID,
        *,
        product_id: UUID | None = None,
        buyer_email: str | None = None,
        invoice_id: UUID | None = None,
        limit: int = 100,
    ) -> builtins.list[License]:
        found = [
            lic
            for lic in self._rows.by_key.values()
            if lic.tenant_id == tenant_id
            and (product_id is None or lic.product_id == product_id)
            and (buyer_email is None or lic.buyer_email == buyer_email)
            and (invoice_id is None or lic.invoice_id == invoice_id)
        ]
        return self._all(found, key=newest_first, reverse=True)[: max(limit, 0)]

    def save(self, license: License) -> None:
        self._rewrite(license, LICENSE_MUTABLE)

    def subscriptions(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[License]:
        found = [
            lic
            for lic in self._rows.by_key.values()
            if lic.tenant_id == tenant_id
            and lic.subscription is not None
            and (status is None or lic.subscription == status)
        ]
        return self._all(found, key=newest_first, reverse=True)[: max(limit, 0)]

    def renewing(self, now: datetime, limit: int) -> builtins.list[License]:
        found = [
            lic
            for lic in self._rows.by_key.values()
            if lic.subscription in ("active", "cancelled") and lic.expires_at is not None and lic.expires_at <= now
        ]
        return self._all(found, key=lambda lic: (lic.expires_at, str(lic.id)))[: max(limit, 0)]


class MemoryMachines(LicensingRepo):
    rows_kind = MachineRows
    _rows: MachineRows

    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._licenses = self._tables.of(LicenseRows)

    def add(self, machine: Machine) -> None:
        self._check_new(machine)
        if machine.license_id not in self._licenses.by_key:
            raise MissingReference("license")
        if (machine.license_id, machine.fingerprint_hash) in self._rows.fingerprints:
            raise Conflict("fingerprint")
        self._rows.insert(machine.id, copy.deepcopy(machine), self._undo())

    def get(self, machine_id: UUID) -> Machine | None:
        return self._one(machine_id)

    def by_fingerprint(self, license_id: UUID, fingerprint_hash: str) -> Machine | None:
        return self._one(self._rows.fingerprints.get((license_id, fingerprint_hash)))

    def list(
        self, tenant_id: UUID, *, license_id: UUID | None = None, active_only: bool = False
    ) -> builtins.list[Machine]:
        if license_id is None:
            candidates = builtins.list(self._rows.by_key.values())
        else:
            candidates = [self._rows.by_key[k] for k in self._rows.of_license.get(license_id, ())]
        found = [
            m for m in candidates if m.tenant_id == tenant_id and not (active_only and m.deactivated_at is not None)
        ]
        return self._all(found, key=by_activation)

    def count_active(self, license_id: UUID) -> int:
        keys = self._rows.of_license.get(license_id, ())
        return sum(1 for k in keys if self._rows.by_key[k].deactivated_at is None)

    def save(self, machine: Machine) -> None:
        self._rewrite(machine, MACHINE_MUTABLE)

    def silent(self, now: datetime, limit: int) -> builtins.list[Machine]:
        found = [
            m
            for m in self._rows.by_key.values()
            if m.deactivated_at is None and m.seat_expires_at is not None and m.seat_expires_at < now
        ]
        return self._all(found, key=by_seat_end)[: max(limit, 0)]
