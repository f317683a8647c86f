"""Audit export records over SQL (the tenant-owned record pattern of store.sql.licensing)."""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.models import AuditExport
from store.sql.licensing import LicensingRepo, Statements
from store.sql.tables import audit_exports

EXPORTS = Statements(
    audit_exports, AuditExport, ("id", "tenant_id", "since", "until", "includes", "requested_by", "created_at")
)
_E = audit_exports.c
_UNFINISHED = sa.select(sa.func.count()).where(
    _E.tenant_id == sa.bindparam("tenant_id"), _E.status.in_(("queued", "running"))
)


class SqlAuditExports(LicensingRepo):
    def add(self, export: AuditExport) -> None:
        self._add(EXPORTS, export)

    def get(self, export_id: UUID, *, for_update: bool = False) -> AuditExport | None:
        return self._get(EXPORTS, export_id, for_update)

    def save(self, export: AuditExport) -> None:
        self._save(EXPORTS, export)

    def list(
        self, tenant_id: UUID, *, before: tuple[datetime, UUID] | None = None, limit: int = 50
    ) -> builtins.list[AuditExport]:
        query = sa.select(audit_exports).where(_E.tenant_id == tenant_id)
        if before is not None:
            at, export_id = before
            query = query.where(sa.or_(_E.created_at < at, sa.and_(_E.created_at == at, _E.id < export_id)))
        query = query.order_by(_E.created_at.desc(), _E.id.desc()).limit(max(limit, 0))
        return self._all(EXPORTS, query)

    def unfinished(self, tenant_id: UUID) -> int:
        return int(self._run(_UNFINISHED, {"tenant_id": tenant_id}).scalar_one())
