"""Dispute cases: open, list, read, move, assign, resolve, link."""

from __future__ import annotations

from uuid import UUID

from charter.formats import parse_date_time
from charter.runtime import actor, store
from services.disputes import cases


def create(body: dict) -> tuple[dict, int]:
    fields = {**body, "due_by": parse_date_time(body["due_by"]) if body.get("due_by") else None}
    return cases.create(store(), actor(), fields), 201


def list_cases(
    status: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict:
    items, next_offset = cases.list_cases(
        store(), actor(), status=status, subject_type=subject_type, subject_id=subject_id, limit=limit, offset=offset
    )
    return {"items": items, **({"next_offset": next_offset} if next_offset is not None else {})}


def get(case_id: str) -> dict:
    return cases.get(store(), actor(), UUID(case_id))


def transition(case_id: str, body: dict) -> dict:
    due_by = parse_date_time(body["due_by"]) if body.get("due_by") else None
    return cases.transition(
        store(), actor(), UUID(case_id), status=body.get("status"), stage=body.get("stage"), due_by=due_by
    )


def assign(case_id: str, body: dict) -> dict:
    assignee = body.get("assignee_id")
    return cases.assign(store(), actor(), UUID(case_id), UUID(assignee) if assignee else None)


def resolve(case_id: str, body: dict) -> dict:
    return cases.resolve(store(), actor(), UUID(case_id), body["outcome"], body["rationale"])


def link(case_id: str, body: dict) -> dict:
    return cases.link(store(), actor(), UUID(case_id), body["kind"], UUID(body["id"]))
