"""A case's signed arbitration package, as a ZIP download."""

from __future__ import annotations

from uuid import UUID

from charter import runtime
from charter.runtime import actor, store
from services.disputes import arbitration
from services.disputes.settings import Disputes


def export(case_id: str) -> tuple[bytes, int, dict]:
    package, name = arbitration.export(store(), actor(), runtime.services().get(Disputes), UUID(case_id))
    return (
        package,
        200,
        {"Content-Type": "application/octet-stream", "Content-Disposition": f'attachment; filename="{name}"'},
    )
