"""The licensing service's catalog in memory: issuer keys, products, policies.

What every licensing repository here shares (LicensingRepo): the record's tenant must exist
(MissingReference("tenant")), an id is never reused (Conflict("id")), records are copied in and
out, and lists are oldest first (created_at, then the id's text). for_update is the store's lock.
Every licensing Rows declares DELETE: a tenant's deletion takes all of its records, which is
also what the SQL cascades from each record's parent come to (a record's parent is of its tenant).
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE
from store.memory.tenants import TenantRows
from store.models import IssuerKey, LicensePolicy, LicenseProduct


def oldest_first(record: Any) -> tuple[Any, str]:
    return (record.created_at, str(record.id))


class IssuerKeyRows(Rows[UUID, IssuerKey]):
    on_tenant_delete = DELETE


class ProductRows(Rows[UUID, LicenseProduct]):
    on_tenant_delete = DELETE

    def __init__(self) -> None:
        super().__init__()
        self.slugs: dict[tuple[UUID, str], UUID] = {}  # (tenant_id, slug)

    def _index(self, key: UUID, row: LicenseProduct) -> None:
        self.slugs[(row.tenant_id, row.slug)] = key

    def _unindex(self, key: UUID, row: LicenseProduct) -> None:
        del self.slugs[(row.tenant_id, row.slug)]


class PolicyRows(Rows[UUID, LicensePolicy]):
    on_tenant_delete = DELETE  # SQL: also by the product's cascade

    def __init__(self) -> None:
        super().__init__()
        self.slugs: dict[tuple[UUID, str], UUID] = {}  # (product_id, slug)

    def _index(self, key: UUID, row: LicensePolicy) -> None:
        self.slugs[(row.product_id, row.slug)] = key

    def _unindex(self, key: UUID, row: LicensePolicy) -> None:
        del self.slugs[(row.product_id, row.slug)]


class LicensingRepo(Repo):
    """A repository of one kind of licensing record, by id."""

    rows_kind: ClassVar[type[Rows[UUID, Any]]]

    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(self.rows_kind)
        self._tenants = self._tables.of(TenantRows)

    def _check_new(self, record: Any) -> None:
        if record.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        if record.id in self._rows.by_key:
            raise Conflict("id")

    def _one(self, key: UUID | None) -> Any:
        found = self._rows.by_key.get(key) if key is not None else None
        return copy.deepcopy(found) if found is not None else None

    def _all(self, keep: Iterable[Any], key: Any = oldest_first, reverse: bool = False) -> builtins.list[Any]:
        return [copy.deepcopy(r) for r in sorted(keep, key=key, reverse=reverse)]

    def _rewrite(self, record: Any, fields: Iterable[str], reindex: bool = False) -> None:
        """Write `fields` of the stored record from `record` (KeyError when there is none);
        `reindex` when an indexed field may change (removed and put back, both undone alike)."""
        undo = self._undo()
        old = self._rows.by_key[record.id]
        kept = copy.deepcopy(old)
        for name in fields:
            setattr(kept, name, copy.deepcopy(getattr(record, name)))
        if reindex:
            self._rows.remove(record.id, undo)
            self._rows.insert(record.id, kept, undo)
        else:
            self._rows.replace(record.id, kept, undo)


def mutable(model: type, *fixed: str) -> tuple[str, ...]:
    """The fields of a record class save() writes: all but `fixed`."""
    return tuple(f.name for f in dataclasses.fields(model) if f.name not in fixed)


class MemoryIssuerKeys(LicensingRepo):
    rows_kind = IssuerKeyRows

    def add(self, key: IssuerKey) -> None:
        self._check_new(key)
        self._rows.insert(key.id, copy.deepcopy(key), self._undo())

    def get(self, key_id: UUID) -> IssuerKey | None:
        return self._one(key_id)

    def list(self, tenant_id: UUID) -> builtins.list[IssuerKey]:
        return self._all(k for k in self._rows.by_key.values() if k.tenant_id == tenant_id)

    def signing(self, tenant_id: UUID) -> IssuerKey | None:
        live = [k for k in self._rows.by_key.values() if k.tenant_id == tenant_id and k.retired_at is None]
        return copy.deepcopy(max(live, key=oldest_first)) if live else None

    def save(self, key: IssuerKey) -> None:
        self._rewrite(key, ("retired_at",))


PRODUCT_MUTABLE = mutable(LicenseProduct, "id", "tenant_id", "created_at")
POLICY_MUTABLE = mutable(LicensePolicy, "id", "tenant_id", "product_id", "created_at")


class MemoryLicenseProducts(LicensingRepo):
    rows_kind = ProductRows
    _rows: ProductRows

    def add(self, product: LicenseProduct) -> None:
        self._check_new(product)
        if (product.tenant_id, product.slug) in self._rows.slugs:
            raise Conflict("slug")
        self._rows.insert(product.id, copy.deepcopy(product), self._undo())

    def get(self, product_id: UUID) -> LicenseProduct | None:
        return self._one(product_id)

    def by_slug(self, tenant_id: UUID, slug: str) -> LicenseProduct | None:
        return self._one(self._rows.slugs.get((tenant_id, slug)))

    def list(self, tenant_id: UUID) -> builtins.list[LicenseProduct]:
        return self._all(p for p in self._rows.by_key.values() if p.tenant_id == tenant_id)

    def save(self, product: LicenseProduct) -> None:
        old = self._rows.by_key[product.id]  # KeyError for an unknown product
        if self._rows.slugs.get((old.tenant_id, product.slug), product.id) != product.id:
            raise Conflict("slug")
        self._rewrite(product, PRODUCT_MUTABLE, reindex=product.slug != old.slug)


class MemoryLicensePolicies(LicensingRepo):
    rows_kind = PolicyRows
    _rows: PolicyRows

    def add(self, policy: LicensePolicy) -> None:
        self._check_new(policy)
        if policy.product_id not in self._tables.of(ProductRows).by_key:
            raise MissingReference("product")
        if (policy.product_id, policy.slug) in self._rows.slugs:
            raise Conflict("slug")
        self._rows.insert(policy.id, copy.deepcopy(policy), self._undo())

    def get(self, policy_id: UUID) -> LicensePolicy | None:
        return self._one(policy_id)

    def by_slug(self, product_id: UUID, slug: str) -> LicensePolicy | None:
        return self._one(self._rows.slugs.get((product_id, slug)))

    def list(self, tenant_id: UUID, product_id: UUID | None = None) -> builtins.list[LicensePolicy]:
        return self._all(
            p
            for p in self._rows.by_key.values()
            if p.tenant_id == tenant_id and (product_id is None or p.product_id == product_id)
        )

    def save(self, policy: LicensePolicy) -> None:
        old = self._rows.by_key[policy.id]  # KeyError for an unknown policy
        if self._rows.slugs.get((old.product_id, policy.slug), policy.id) != policy.id:
            raise Conflict("slug")
        self._rewrite(policy, POLICY_MUTABLE, reindex=policy.slug != old.slug)
