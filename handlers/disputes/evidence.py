"""Evidence references and notes of a case: appended, never changed."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from services.disputes import evidence


def add_evidence(case_id: str, body: dict) -> tuple[dict, int]:
    return evidence.add_evidence(store(), actor(), UUID(case_id), body), 201


def add_note(case_id: str, body: dict) -> tuple[dict, int]:
    return evidence.add_note(store(), actor(), UUID(case_id), body["body"]), 201
