"""Evidence references and notes of a case: appended, never changed. An evidence reference's
digest, size and media type go into its audit event's metadata, and so into the tenant's
verifiable log; a note's event carries the SHA-256 of its body."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict
from services.disputes import shapes
from services.disputes.cases import open_case, recorded
from store.interface import Store
from store.models import DisputeEvidence, DisputeNote, utcnow

MAX_EVIDENCE = 500
MAX_NOTES = 1000


def add_evidence(uow: Store, actor: Actor, case_id: UUID, fields: dict[str, Any]) -> dict:
    """Recorded as `dispute_case.evidence_added`, the reference in its metadata."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        if len(s.dispute_evidence.list(case.id)) >= MAX_EVIDENCE:
            raise Conflict(f"a case holds at most {MAX_EVIDENCE} evidence references", "too_much_evidence")
        now = utcnow()
        evidence = DisputeEvidence(
            id=uuid4(),
            tenant_id=case.tenant_id,
            case_id=case.id,
            kind=fields["kind"],
            sha256=fields["sha256"],
            size=fields["size"],
            media_type=fields["media_type"],
            created_at=now,
            label=fields.get("label"),
            uri=fields.get("uri"),
        )
        s.dispute_evidence.add(evidence)
        touched = replace(case, updated_at=now)
        s.dispute_cases.save(touched)
        digest = {
            k: v for k, v in shapes.evidence(evidence).items() if k in ("id", "kind", "sha256", "size", "media_type")
        }
        recorded(s, actor, "dispute_case.evidence_added", touched, evidence=digest)
        return shapes.evidence(evidence)


def add_note(uow: Store, actor: Actor, case_id: UUID, body: str) -> dict:
    """Recorded as `dispute_case.note_added`, with the note's id and the SHA-256 of its body."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        if len(s.dispute_notes.list(case.id)) >= MAX_NOTES:
            raise Conflict(f"a case holds at most {MAX_NOTES} notes", "too_many_notes")
        now = utcnow()
        note = DisputeNote(uuid4(), case.tenant_id, case.id, body, now, actor.kind, actor.id)
        s.dispute_notes.add(note)
        touched = replace(case, updated_at=now)
        s.dispute_cases.save(touched)
        body_sha256 = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
        recorded(s, actor, "dispute_case.note_added", touched, note={"id": str(note.id), "sha256": body_sha256})
        return shapes.note(note)
