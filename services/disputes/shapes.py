"""Dispute records in the JSON shapes specs/disputes.yaml gives them: what the handlers answer
and what the events carry as `data`."""

from __future__ import annotations

from services.registry.shapes import ts
from store.models import DisputeCase, DisputeEvidence, DisputeNote


def case(c: DisputeCase) -> dict:
    return {
        "id": str(c.id),
        "tenant_id": str(c.tenant_id),
        "subject_type": c.subject_type,
        "subject_id": c.subject_id,
        "status": c.status,
        "stage": c.stage,
        "title": c.title,
        "reason": c.reason,
        "amount": c.amount,
        "currency": c.currency,
        "due_by": ts(c.due_by),
        "assignee_id": None if c.assignee_id is None else str(c.assignee_id),
        "outcome": c.outcome,
        "rationale": c.rationale,
        "resolved_at": ts(c.resolved_at),
        "links": [dict(link) for link in c.links],
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
    }


def evidence(e: DisputeEvidence) -> dict:
    return {
        "id": str(e.id),
        "case_id": str(e.case_id),
        "kind": e.kind,
        "sha256": e.sha256,
        "size": e.size,
        "media_type": e.media_type,
        "label": e.label,
        "uri": e.uri,
        "created_at": ts(e.created_at),
    }


def note(n: DisputeNote) -> dict:
    return {
        "id": str(n.id),
        "case_id": str(n.case_id),
        "body": n.body,
        "author_kind": n.author_kind,
        "author_id": n.author_id,
        "created_at": ts(n.created_at),
    }


def detail(c: DisputeCase, evidence_refs: list[DisputeEvidence], notes: list[DisputeNote]) -> dict:
    """A case with its evidence references and notes, oldest first."""
    return {**case(c), "evidence": [evidence(e) for e in evidence_refs], "notes": [note(n) for n in notes]}
