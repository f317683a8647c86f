"""What deleting a tenant does to each aggregate's rows: declared per aggregate, applied here.

Every Rows class says it with `on_tenant_delete`, as the SQL tables say it with ON DELETE:

    KEEP            the rows belong to no tenant (users, signing keys, …): untouched
    DELETE          rows whose tenant_id names it go too              (ON DELETE CASCADE)
    CLEAR           rows stay, with tenant_id set to None             (ON DELETE SET NULL)
    follow(P, f)    rows whose field f names a row of P that went go too (a cascade from P)

tests/store/test_store_tenants.py checks that both stores agree on every aggregate.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from store.memory.base import Rows, Tables, Undo, assign


@dataclass(frozen=True)
class OnTenantDelete:
    action: str  # keep | delete | clear | follow
    field: str = "tenant_id"
    parent: type[Rows[Any, Any]] | None = None  # follow: whose rows it follows

    def __post_init__(self) -> None:
        if self.action not in ("keep", "delete", "clear", "follow") or (self.action == "follow") != bool(self.parent):
            raise ValueError(f"not a tenant-delete declaration: {self}")


KEEP = OnTenantDelete("keep")
DELETE = OnTenantDelete("delete")
CLEAR = OnTenantDelete("clear")


def follow(parent: type[Rows[Any, Any]], field: str) -> OnTenantDelete:
    return OnTenantDelete("follow", field, parent)


def delete_tenant_rows(tables: Tables, tenant_id: UUID, undo: Undo) -> None:
    """Apply every aggregate's declaration for a tenant being deleted (each change undone on
    rollback). The tenant's own row is the caller's to remove."""
    gone: dict[type[Rows[Any, Any]], set[Hashable]] = {}

    def apply(rows: Rows[Any, Any]) -> set[Hashable]:
        kind = type(rows)
        if kind in gone:
            return gone[kind]
        rule = rows.on_tenant_delete
        if rule.action == "follow":
            assert rule.parent is not None
            parents = apply(tables.of(rule.parent))
            keys = [k for k, row in rows.by_key.items() if getattr(row, rule.field) in parents]
        elif rule.action in ("delete", "clear"):
            keys = [k for k, row in rows.by_key.items() if getattr(row, rule.field) == tenant_id]
        else:
            keys = []
        if rule.action == "clear":
            for key in keys:
                assign(undo, rows.by_key[key], rule.field, None)
            keys = []
        for key in keys:
            rows.remove(key, undo)
        gone[kind] = set(keys)
        return gone[kind]

    for rows in tables:
        apply(rows)
