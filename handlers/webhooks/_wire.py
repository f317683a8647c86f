"""Records to the JSON shapes of specs/webhooks.yaml. A secret is never part of an endpoint's shape."""

from __future__ import annotations

from charter.formats import format_date_time


def endpoint(e) -> dict:
    out = {
        "id": str(e.id),
        "tenant_id": str(e.tenant_id),
        "url": e.url,
        "event_types": None if e.event_types is None else list(e.event_types),
        "disabled": e.disabled,
        "created_at": format_date_time(e.created_at),
        "updated_at": format_date_time(e.updated_at),
    }
    if e.description is not None:
        out["description"] = e.description
    if e.previous_until is not None and e.previous_secret_sealed is not None:
        out["previous_secret_expires_at"] = format_date_time(e.previous_until)
    return out


def with_secret(e, secret: str) -> dict:
    return {**endpoint(e), "secret": secret}
