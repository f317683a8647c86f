"""Dispute cases, their evidence references and notes over SQL. They share the licensing
repositories' statements and rules (store.sql.licensing): MissingReference naming the tenant or
the case that is missing, Conflict("id"), lists ordered by time and then id as memory orders them."""

from __future__ import annotations

import builtins
from uuid import UUID

import sqlalchemy as sa

from store.models import DisputeCase, DisputeEvidence, DisputeNote
from store.sql.licensing import LicensingRepo, Statements
from store.sql.tables import dispute_cases, dispute_evidence, dispute_notes

CASES = Statements(dispute_cases, DisputeCase, ("id", "tenant_id", "subject_type", "subject_id", "created_at"))
EVIDENCE = Statements(dispute_evidence, DisputeEvidence, (c.name for c in dispute_evidence.columns), "case")
NOTES = Statements(dispute_notes, DisputeNote, (c.name for c in dispute_notes.columns), "case")

_C, _E, _N = dispute_cases.c, dispute_evidence.c, dispute_notes.c
_EVIDENCE_OF = sa.select(dispute_evidence).where(_E.case_id == sa.bindparam("case_id")).order_by(_E.created_at, _E.id)
_NOTES_OF = sa.select(dispute_notes).where(_N.case_id == sa.bindparam("case_id")).order_by(_N.created_at, _N.id)


class SqlDisputeCases(LicensingRepo):
    def add(self, case: DisputeCase) -> None:
        self._add(CASES, case)

    def get(self, case_id: UUID, *, for_update: bool = False) -> DisputeCase | None:
        return self._get(CASES, case_id, for_update)

    def save(self, case: DisputeCase) -> None:
        self._save(CASES, case)

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
        query = sa.select(dispute_cases).where(_C.tenant_id == tenant_id)
        for column, value in ((_C.status, status), (_C.subject_type, subject_type), (_C.subject_id, subject_id)):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(_C.created_at.desc(), _C.id.desc()).limit(max(limit, 0)).offset(max(offset, 0))
        return self._all(CASES, query)


class SqlDisputeEvidence(LicensingRepo):
    def add(self, evidence: DisputeEvidence) -> None:
        self._add(EVIDENCE, evidence)

    def list(self, case_id: UUID) -> builtins.list[DisputeEvidence]:
        return self._all(EVIDENCE, _EVIDENCE_OF, {"case_id": case_id})


class SqlDisputeNotes(LicensingRepo):
    def add(self, note: DisputeNote) -> None:
        self._add(NOTES, note)

    def list(self, case_id: UUID) -> builtins.list[DisputeNote]:
        return self._all(NOTES, _NOTES_OF, {"case_id": case_id})
