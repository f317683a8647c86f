"""Deliveries: an endpoint's, replays, the endpoints' health, the failures."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from charter.formats import format_date_time
from charter.runtime import actor, store
from services.webhooks import deliveries


def _ts(value: datetime | None) -> str | None:
    return None if value is None else format_date_time(value)


def _delivery(d) -> dict:
    out = {
        "id": str(d.id),
        "endpoint_id": str(d.endpoint_id),
        "event_id": str(d.event_id),
        "event_type": d.event_type,
        "status": d.status,
        "attempts": list(d.attempts),
        "created_at": format_date_time(d.created_at),
    }
    if d.next_attempt_at is not None:
        out["next_attempt_at"] = format_date_time(d.next_attempt_at)
    return out


def _page(page: deliveries.Page) -> dict:
    out: dict = {"items": [_delivery(d) for d in page.items]}
    if page.next_cursor:
        out["next_cursor"] = page.next_cursor
    return out


def list_deliveries(id: str, status: str | None = None, cursor: str | None = None, limit: int = 50) -> dict:
    return _page(deliveries.list_for_endpoint(store(), actor(), UUID(id), status=status, cursor=cursor, limit=limit))


def failures(cursor: str | None = None, limit: int = 50) -> dict:
    return _page(deliveries.failures(store(), actor(), cursor=cursor, limit=limit))


def replay(id: str) -> tuple[dict, int]:
    return _delivery(deliveries.replay(store(), actor(), UUID(id))), 202


def replay_since(id: str, body: dict) -> tuple[dict, int]:
    since = datetime.fromisoformat(body["since"].replace("Z", "+00:00"))
    return {"replayed": deliveries.replay_since(store(), actor(), UUID(id), since)}, 202


def health() -> dict:
    return {
        "items": [
            {
                "endpoint_id": str(h.endpoint.id),
                "url": h.endpoint.url,
                "disabled": h.endpoint.disabled,
                "success_rate": h.success_rate,
                "last_success_at": _ts(h.endpoint.last_success_at),
                "failing_since": _ts(h.endpoint.failing_since),
                "backlog": h.backlog,
            }
            for h in deliveries.health(store(), actor())
        ]
    }
