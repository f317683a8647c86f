"""Dispute cases, their evidence references and notes in memory. They share LicensingRepo's rules
(store.memory.licensing): the tenant must exist, ids are never reused, records are copied in
and out. Evidence and notes also need their case, and go with it."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from uuid import UUID

from store.errors import MissingReference
from store.memory.base import Rows
from store.memory.cascade import DELETE
from store.memory.licensing import LicensingRepo, mutable
from store.models import DisputeCase, DisputeEvidence, DisputeNote


class CaseRows(Rows[UUID, DisputeCase]):
    on_tenant_delete = DELETE


class EvidenceRows(Rows[UUID, DisputeEvidence]):
    on_tenant_delete = DELETE  # SQL: also by the case's cascade


class NoteRows(Rows[UUID, DisputeNote]):
    on_tenant_delete = DELETE  # SQL: also by the case's cascade


def newest_first(case: DisputeCase) -> tuple[datetime, str]:
    return (case.created_at, str(case.id))


CASE_MUTABLE = mutable(DisputeCase, "id", "tenant_id", "subject_type", "subject_id", "created_at")


class MemoryDisputeCases(LicensingRepo):
    rows_kind = CaseRows

    def add(self, case: DisputeCase) -> None:
        self._check_new(case)
        self._rows.insert(case.id, copy.deepcopy(case), self._undo())

    def get(self, case_id: UUID, *, for_update: bool = False) -> DisputeCase | None:
        return self._one(case_id)

    def save(self, case: DisputeCase) -> None:
        self._rewrite(case, CASE_MUTABLE)

    def list(
        self,
        tenant_id: UUID,
        *,
        status: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[DisputeCase]:
        found = [
            c
            for c in self._rows.by_key.values()
            if c.tenant_id == tenant_id
            and (status is None or c.status == status)
            and (subject_type is None or c.subject_type == subject_type)
            and (subject_id is None or c.subject_id == subject_id)
        ]
        start = max(offset, 0)
        return self._all(found, key=newest_first, reverse=True)[start : start + max(limit, 0)]


class _CasePart(LicensingRepo):
    """Evidence or notes: records of one case, appended and listed, never changed."""

    def add(self, record) -> None:
        self._check_new(record)
        if record.case_id not in self._tables.of(CaseRows).by_key:
            raise MissingReference("case")
        self._rows.insert(record.id, copy.deepcopy(record), self._undo())

    def _of(self, case_id: UUID) -> builtins.list:
        return self._all(r for r in self._rows.by_key.values() if r.case_id == case_id)


class MemoryDisputeEvidence(_CasePart):
    rows_kind = EvidenceRows

    def add(self, evidence: DisputeEvidence) -> None:
        super().add(evidence)

    def list(self, case_id: UUID) -> builtins.list[DisputeEvidence]:
        return self._of(case_id)


class MemoryDisputeNotes(_CasePart):
    rows_kind = NoteRows

    def add(self, note: DisputeNote) -> None:
        super().add(note)

    def list(self, case_id: UUID) -> builtins.list[DisputeNote]:
        return self._of(case_id)
