"""The canonical bytes of an audit event: RFC 8785 (JCS) JSON of its stored fields.

The field set, every one always present (null when unset): id, log, seq, created_at (RFC 3339,
UTC, microseconds, `Z`), action, tenant_id, project_id, actor_id, actor_name, actor_type,
target_id, target_type, target_name, product, metadata, source_ip, user_agent, recorded_by_kind,
recorded_by_id, recorded_by_tenant_id. UUIDs are lower-case hyphenated text. `log` is the tenant
id, or `platform` for an event of no tenant. An integer in metadata beyond JCS's exact range
(±(2^53-1)) is written as its exact decimal digits, which JSON allows and JCS does not cover.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import rfc8785

PLATFORM_LOG = "platform"
SAFE = 2**53 - 1
FIELDS = (
    "id",
    "log",
    "seq",
    "created_at",
    "action",
    "tenant_id",
    "project_id",
    "actor_id",
    "actor_name",
    "actor_type",
    "target_id",
    "target_type",
    "target_name",
    "product",
    "metadata",
    "source_ip",
    "user_agent",
    "recorded_by_kind",
    "recorded_by_id",
    "recorded_by_tenant_id",
)


def log_of(tenant_id: object) -> str:
    return PLATFORM_LOG if tenant_id is None else str(tenant_id)


def stamp(at: datetime) -> str:
    """RFC 3339 in UTC with microseconds; a naive time is taken to be UTC (as SQLite keeps it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return stamp(value)
    return value


def event_json(values: dict[str, Any]) -> dict[str, Any]:
    """The event as it is canonicalised: the stored values (`log` from tenant_id), as JSON types."""
    out = {name: _text(values.get(name)) for name in FIELDS}
    out["log"] = log_of(values.get("tenant_id"))
    # As every store keeps it: JSON text (tuples are arrays, keys are strings).
    out["metadata"] = None if out["metadata"] is None else json.loads(json.dumps(out["metadata"]))
    return out


def jcs(value: Any) -> bytes:
    """RFC 8785 bytes of value; integers outside ±(2^53-1) as their exact digits."""
    big: dict[str, int] = {}
    marker = uuid.uuid4().hex

    def swap(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | dict | list):
            return v
        if isinstance(v, int):
            if -SAFE <= v <= SAFE:
                return v
            key = f"{marker}{len(big)}"
            big[key] = v
            return key
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        return [swap(x) for x in v]

    out = rfc8785.dumps(swap(value))
    for key, number in big.items():
        out = out.replace(b'"' + key.encode() + b'"', str(number).encode())
    return out


def canonical(values: dict[str, Any]) -> bytes:
    return jcs(event_json(values))
