"""The licensing service's catalog over SQL: issuer keys, products, policies.

What every licensing repository shares: each table's statements, built once (Statements), and
LicensingRepo's add (MissingReference naming the tenant or the parent that is missing, Conflict
for a clash) and get. Lists are ordered as the memory store orders them: by time, then by id
(ids compare as the text of the UUID on both databases).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from store.errors import Conflict, MissingReference
from store.models import IssuerKey, LicensePolicy, LicenseProduct
from store.sql.base import Repo, referenced
from store.sql.tables import license_issuer_keys, license_policies, license_products, tenants


class Statements:
    """One licensing table's record class and its statements, built once at import."""

    def __init__(self, table: sa.Table, record: type, fixed: Iterable[str], parent: str = "tenant") -> None:
        self.table = table
        self.record = record
        self.parent = parent  # what its parent foreign key names, when it has one besides the tenant
        self.fields = tuple(c.name for c in table.columns)
        fixed = set(fixed)
        self.mutable = tuple(name for name in self.fields if name not in fixed)
        self.binary = tuple(c.name for c in table.columns if isinstance(c.type, sa.LargeBinary))
        self.references = referenced(table)
        self.by_id = sa.select(table).where(table.c.id == sa.bindparam("id"))
        self.by_id_for_update = self.by_id.with_for_update()
        self.exists = sa.select(sa.literal(1)).where(table.c.id == sa.bindparam("id"))
        self.save = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))  # UPDATE reserves column names
            .values({name: sa.bindparam(f"b_{name}", type_=table.c[name].type) for name in self.mutable})
        )

    def of(self, row: Any) -> Any:
        return self.of_values(dict(row._mapping))

    def of_values(self, values: dict[str, Any]) -> Any:
        for name in self.binary:
            if values[name] is not None:
                values[name] = bytes(values[name])
        return self.record(**values)


_TENANT_EXISTS = sa.select(sa.literal(1)).where(tenants.c.id == sa.bindparam("id"))


class LicensingRepo(Repo):
    def _add(self, st: Statements, record: Any, clash: str = "id") -> None:
        """Insert; MissingReference("tenant") when its tenant does not exist, else (parent)
        when its parent does not; Conflict("id") when the id is taken, else Conflict(clash)."""
        self._write()
        values = {name: getattr(record, name) for name in st.fields}
        statement = self._insert(st.table, st.table.c.id)
        try:
            # SQLite does not say which foreign key failed (""): ask, its transaction is still usable
            inserted = self._insert_referencing(statement, values, st.references, "").first()
        except MissingReference as exc:
            if str(exc):
                raise
            tenant = self._run(_TENANT_EXISTS, {"id": record.tenant_id})
            raise MissingReference("tenant" if tenant.first() is None else st.parent) from None
        if inserted is None:
            raise Conflict("id" if self._run(st.exists, {"id": record.id}).first() else clash)

    def _get(self, st: Statements, record_id: UUID, for_update: bool = False) -> Any:
        query = st.by_id_for_update if for_update and self.pg else st.by_id  # SQLite: BEGIN IMMEDIATE
        row = self._run(query, {"id": record_id}).first()
        return st.of(row) if row else None

    def _one(self, st: Statements, statement: Any, params: dict) -> Any:
        row = self._run(statement, params).first()
        return st.of(row) if row else None

    def _all(self, st: Statements, statement: Any, params: dict | None = None) -> builtins.list[Any]:
        return [st.of(row) for row in self._run(statement, params)]

    def _save(self, st: Statements, record: Any) -> None:
        """Write the mutable fields; KeyError, as the memory store raises, for an unknown record."""
        self._write()
        values = {f"b_{name}": getattr(record, name) for name in st.mutable}
        values["b_id"] = record.id
        if self._run(st.save, values).rowcount == 0:
            raise KeyError(record.id)

    def _save_unique(self, st: Statements, record: Any, taken: Any, clash: str) -> None:
        """_save() for a record with a unique field it may change: Conflict(clash) when `taken`
        (given b_id and the field) finds another row holding it. Asked first, so that the session
        stays usable; a concurrent writer's clash still fails the update, and is Conflict too."""
        self._write()
        if self._run(taken, {"b_id": record.id, "b_value": getattr(record, clash)}).first() is not None:
            raise Conflict(clash)
        try:
            self._save(st, record)
        except sa.exc.IntegrityError:
            raise Conflict(clash) from None


def taken(table: sa.Table, scope: str, column: str) -> sa.Select:
    """The other row of the record's `scope` (its tenant, its product) holding the value."""
    this = table.alias("this")
    return sa.select(table.c.id).where(
        table.c[scope] == sa.select(this.c[scope]).where(this.c.id == sa.bindparam("b_id")).scalar_subquery(),
        table.c[column] == sa.bindparam("b_value"),
        table.c.id != sa.bindparam("b_id"),
    )


KEYS = Statements(license_issuer_keys, IssuerKey, ("id", "tenant_id", "public_key", "private_sealed", "created_at"))
PRODUCTS = Statements(license_products, LicenseProduct, ("id", "tenant_id", "created_at"))
POLICIES = Statements(license_policies, LicensePolicy, ("id", "tenant_id", "product_id", "created_at"), "product")

_K, _P, _Q = license_issuer_keys.c, license_products.c, license_policies.c
_KEYS_OF = (
    sa.select(license_issuer_keys).where(_K.tenant_id == sa.bindparam("tenant_id")).order_by(_K.created_at, _K.id)
)
_SIGNING = (
    sa.select(license_issuer_keys)
    .where(_K.tenant_id == sa.bindparam("tenant_id"), _K.retired_at.is_(None))
    .order_by(_K.created_at.desc(), _K.id.desc())
    .limit(1)
)
_PRODUCT_BY_SLUG = sa.select(license_products).where(
    _P.tenant_id == sa.bindparam("tenant_id"), _P.slug == sa.bindparam("slug")
)
_PRODUCTS_OF = (
    sa.select(license_products).where(_P.tenant_id == sa.bindparam("tenant_id")).order_by(_P.created_at, _P.id)
)
_PRODUCT_SLUG_TAKEN = taken(license_products, "tenant_id", "slug")
_POLICY_BY_SLUG = sa.select(license_policies).where(
    _Q.product_id == sa.bindparam("product_id"), _Q.slug == sa.bindparam("slug")
)
_POLICY_SLUG_TAKEN = taken(license_policies, "product_id", "slug")


class SqlIssuerKeys(LicensingRepo):
    def add(self, key: IssuerKey) -> None:
        self._add(KEYS, key)

    def get(self, key_id: UUID) -> IssuerKey | None:
        return self._get(KEYS, key_id)

    def list(self, tenant_id: UUID) -> builtins.list[IssuerKey]:
        return self._all(KEYS, _KEYS_OF, {"tenant_id": tenant_id})

    def signing(self, tenant_id: UUID) -> IssuerKey | None:
        return self._one(KEYS, _SIGNING, {"tenant_id": tenant_id})

    def save(self, key: IssuerKey) -> None:
        self._save(KEYS, key)


class SqlLicenseProducts(LicensingRepo):
    def add(self, product: LicenseProduct) -> None:
        self._add(PRODUCTS, product, "slug")

    def get(self, product_id: UUID) -> LicenseProduct | None:
        return self._get(PRODUCTS, product_id)

    def by_slug(self, tenant_id: UUID, slug: str) -> LicenseProduct | None:
        return self._one(PRODUCTS, _PRODUCT_BY_SLUG, {"tenant_id": tenant_id, "slug": slug})

    def list(self, tenant_id: UUID) -> builtins.list[LicenseProduct]:
        return self._all(PRODUCTS, _PRODUCTS_OF, {"tenant_id": tenant_id})

    def save(self, product: LicenseProduct) -> None:
        self._save_unique(PRODUCTS, product, _PRODUCT_SLUG_TAKEN, "slug")


class SqlLicensePolicies(LicensingRepo):
    def add(self, policy: LicensePolicy) -> None:
        self._add(POLICIES, policy, "slug")

    def get(self, policy_id: UUID) -> LicensePolicy | None:
        return self._get(POLICIES, policy_id)

    def by_slug(self, product_id: UUID, slug: str) -> LicensePolicy | None:
        return self._one(POLICIES, _POLICY_BY_SLUG, {"product_id": product_id, "slug": slug})

    def list(self, tenant_id: UUID, product_id: UUID | None = None) -> builtins.list[LicensePolicy]:
        query = sa.select(license_policies).where(_Q.tenant_id == tenant_id)
        if product_id is not None:
            query = query.where(_Q.product_id == product_id)
        return self._all(POLICIES, query.order_by(_Q.created_at, _Q.id))

    def save(self, policy: LicensePolicy) -> None:
        self._save_unique(POLICIES, policy, _POLICY_SLUG_TAKEN, "slug")
