"""Audit export records in memory (the tenant-owned record pattern of store.memory.licensing)."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from uuid import UUID

from store.memory.base import Rows
from store.memory.cascade import DELETE
from store.memory.licensing import LicensingRepo, mutable
from store.models import AuditExport

FIXED = ("id", "tenant_id", "since", "until", "includes", "requested_by", "created_at")
MUTABLE = mutable(AuditExport, *FIXED)


class AuditExportRows(Rows[UUID, AuditExport]):
    on_tenant_delete = DELETE


def newest_first(export: AuditExport) -> tuple[datetime, str]:
    return (export.created_at, str(export.id))


class MemoryAuditExports(LicensingRepo):
    rows_kind = AuditExportRows

    def add(self, export: AuditExport) -> None:
        self._check_new(export)
        self._rows.insert(export.id, copy.deepcopy(export), self._undo())

    def get(self, export_id: UUID, *, for_update: bool = False) -> AuditExport | None:
        return self._one(export_id)

    def save(self, export: AuditExport) -> None:
        self._rewrite(export, MUTABLE)

    def list(
        self, tenant_id: UUID, *, before: tuple[datetime, UUID] | None = None, limit: int = 50
    ) -> builtins.list[AuditExport]:
        mark = None if before is None else (before[0], str(before[1]))
        found = [
            e
            for e in self._rows.by_key.values()
            if e.tenant_id == tenant_id and (mark is None or newest_first(e) < mark)
        ]
        return self._all(found, key=newest_first, reverse=True)[: max(limit, 0)]

    def unfinished(self, tenant_id: UUID) -> int:
        return sum(e.tenant_id == tenant_id and e.status in ("queued", "running") for e in self._rows.by_key.values())
