"""Dispute cases: opened, listed and read; moved between statuses and stages, assigned, resolved
and linked to licensing objects. Every route needs the `compliance` entitlement; another
tenant's case is not found, exactly as a missing one; a case in a terminal status takes no change.
Every change is recorded as an audit and webhook event whose data is the case after it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict, Event, Invalid, InvalidTransition, NotFound
from services.compliance.entitlement import entitled
from services.disputes import shapes
from services.registry.shapes import ts
from store.interface import Session, Store
from store.models import DISPUTE_TERMINAL, DisputeCase, utcnow

# The status moves a transition makes; the other terminal statuses are reached by resolving.
MOVES = {
    "open": frozenset({"needs_response", "under_review", "expired"}),
    "needs_response": frozenset({"under_review", "expired"}),
    "under_review": frozenset({"needs_response"}),
}
DECIDED = frozenset({"won", "lost"})  # outcomes that need the case under review
MAX_LINKS = 20


def not_found(case_id: object) -> NotFound:
    return NotFound(f"no dispute case {case_id}", "case_not_found")


def visible(s: Session, tenant_id: UUID, case_id: UUID, *, for_update: bool = False) -> DisputeCase:
    found = s.dispute_cases.get(case_id, for_update=for_update)
    if found is None or found.tenant_id != tenant_id:
        raise not_found(case_id)
    return found


def open_case(s: Session, actor: Actor, case_id: UUID) -> DisputeCase:
    """The actor's case, held locked for a change; Conflict `case_closed` when it is terminal."""
    case = visible(s, entitled(s, actor), case_id, for_update=True)
    if case.status in DISPUTE_TERMINAL:
        raise Conflict(f"dispute case {case_id} is {case.status}: a closed case takes no change", "case_closed")
    return case


def recorded(s: Session, actor: Actor, action: str, case: DisputeCase, **metadata: Any) -> dict:
    """An audit and webhook event of the case (its data, the case as it is now)."""
    out = shapes.case(case)
    s.record(
        Event(
            action,
            actor,
            "dispute_case",
            str(case.id),
            tenant_id=case.tenant_id,
            target_name=f"{case.subject_type}:{case.subject_id}",
            metadata={k: v for k, v in metadata.items() if v is not None},
            data=out,
        )
    )
    return out


def create(uow: Store, actor: Actor, fields: dict[str, Any]) -> dict:
    with uow.write() as s:
        tenant_id = entitled(s, actor)
        now = utcnow()
        case = DisputeCase(
            id=uuid4(),
            tenant_id=tenant_id,
            subject_type=fields["subject_type"],
            subject_id=fields["subject_id"],
            status="open",
            stage=fields.get("stage") or "inquiry",
            created_at=now,
            updated_at=now,
            title=fields.get("title"),
            reason=fields.get("reason"),
            amount=fields.get("amount"),
            currency=fields.get("currency"),
            due_by=fields.get("due_by"),
        )
        s.dispute_cases.add(case)
        return recorded(s, actor, "dispute_case.created", case, stage=case.stage)


def list_cases(
    uow: Store,
    actor: Actor,
    *,
    status: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int | None]:
    """A page of the tenant's cases, newest first, and the offset of the next page (None: none)."""
    with uow.read() as s:
        tenant_id = entitled(s, actor)
        found = s.dispute_cases.list(
            tenant_id, status=status, subject_type=subject_type, subject_id=subject_id, limit=limit + 1, offset=offset
        )
    more = len(found) > limit
    return [shapes.case(c) for c in found[:limit]], offset + limit if more else None


def get(uow: Store, actor: Actor, case_id: UUID) -> dict:
    with uow.read() as s:
        case = visible(s, entitled(s, actor), case_id)
        return shapes.detail(case, s.dispute_evidence.list(case.id), s.dispute_notes.list(case.id))


def transition(
    uow: Store,
    actor: Actor,
    case_id: UUID,
    *,
    status: str | None = None,
    stage: str | None = None,
    due_by: datetime | None = None,
) -> dict:
    """Move the case's status (by MOVES), stage (freely) and due_by; recorded as
    `dispute_case.status_changed` when anything changed."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        to_status = status or case.status
        if to_status != case.status and to_status not in MOVES.get(case.status, ()):
            raise InvalidTransition(f"a case {case.status} cannot move to {to_status}")
        to_due = due_by or case.due_by
        if to_status == "needs_response" and to_due is None:
            raise Invalid("a case that needs a response needs a due_by", "due_by_required")
        to_stage = stage or case.stage
        if (to_status, to_stage, to_due) == (case.status, case.stage, case.due_by):
            return shapes.case(case)
        now = utcnow()
        moved = replace(
            case,
            status=to_status,
            stage=to_stage,
            due_by=to_due,
            resolved_at=now if to_status in DISPUTE_TERMINAL else None,
            updated_at=now,
        )
        s.dispute_cases.save(moved)
        return recorded(
            s,
            actor,
            "dispute_case.status_changed",
            moved,
            from_status=case.status,
            to_status=to_status,
            from_stage=case.stage,
            to_stage=to_stage,
            due_by=ts(to_due),
        )


def resolve(uow: Store, actor: Actor, case_id: UUID, outcome: str, rationale: str) -> dict:
    """Close the case with `outcome` (its new status) and why; recorded as `dispute_case.resolved`."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        if outcome in DECIDED and case.status != "under_review":
            raise InvalidTransition(f"a case is {outcome} only from under_review, and this one is {case.status}")
        now = utcnow()
        resolved = replace(case, status=outcome, outcome=outcome, rationale=rationale, resolved_at=now, updated_at=now)
        s.dispute_cases.save(resolved)
        return recorded(s, actor, "dispute_case.resolved", resolved, from_status=case.status, outcome=outcome)


def assign(uow: Store, actor: Actor, case_id: UUID, assignee_id: UUID | None) -> dict:
    """Give the case to a user of its tenant (None: to nobody); recorded as `dispute_case.assigned`."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        if assignee_id is not None:
            user = s.users.get(assignee_id)
            if user is None or user.disabled_at is not None or s.memberships.get(assignee_id, case.tenant_id) is None:
                raise NotFound(f"no user {assignee_id} in this tenant", "user_not_found")
        if assignee_id == case.assignee_id:
            return shapes.case(case)
        assigned = replace(case, assignee_id=assignee_id, updated_at=utcnow())
        s.dispute_cases.save(assigned)
        return recorded(
            s,
            actor,
            "dispute_case.assigned",
            assigned,
            assignee_id=None if assignee_id is None else str(assignee_id),
            previous_assignee_id=None if case.assignee_id is None else str(case.assignee_id),
        )


def link(uow: Store, actor: Actor, case_id: UUID, kind: str, object_id: UUID) -> dict:
    """Link the case to a license or an invoice of its tenant; recorded as `dispute_case.linked`."""
    with uow.write() as s:
        case = open_case(s, actor, case_id)
        found = s.licenses.get(object_id) if kind == "license" else s.invoices.get(object_id)
        if found is None or found.tenant_id != case.tenant_id:
            raise NotFound(f"no {kind} {object_id}", f"{kind}_not_found")
        if any(item["kind"] == kind and item["id"] == str(object_id) for item in case.links):
            return shapes.case(case)
        if len(case.links) >= MAX_LINKS:
            raise Conflict(f"a case holds at most {MAX_LINKS} links", "too_many_links")
        now = utcnow()
        linked = replace(
            case, links=[*case.links, {"kind": kind, "id": str(object_id), "linked_at": ts(now)}], updated_at=now
        )
        s.dispute_cases.save(linked)
        return recorded(s, actor, "dispute_case.linked", linked, kind=kind, object_id=str(object_id))
