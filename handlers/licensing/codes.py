"""Discount codes."""

from __future__ import annotations

from charter.formats import parse_date_time
from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import codes, shapes


def list_codes(tenant_slug: str) -> dict:
    return {"items": [shapes.code(c) for c in codes.list_codes(store(), actor(), tenant_slug)]}


def create(tenant_slug: str, body: dict) -> tuple[dict, int]:
    fields = dict(body)
    if fields.get("expires_at"):
        fields["expires_at"] = parse_date_time(fields["expires_at"])
    code, text = codes.create(store(), actor(), config(), tenant_slug, fields)
    return {**shapes.code(code), "code": text}, 201
