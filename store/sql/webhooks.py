"""Webhook endpoints over SQL."""

from __future__ import annotations

import builtins
from uuid import UUID

import sqlalchemy as sa

from store.models import WebhookEndpoint
from store.sql.base import Repo
from store.sql.tables import webhook_endpoints

FIELDS = tuple(c.name for c in webhook_endpoints.columns)
MUTABLE = tuple(name for name in FIELDS if name not in ("id", "tenant_id", "created_at"))

_BY_ID = sa.select(webhook_endpoints).where(webhook_endpoints.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()


def endpoint_of(values: dict) -> WebhookEndpoint:
    """The endpoint a row's values (by column name) make."""
    for name in ("secret_sealed", "previous_secret_sealed"):
        if values[name] is not None:
            values[name] = bytes(values[name])
    return WebhookEndpoint(**values)


def _endpoint(row) -> WebhookEndpoint:
    return endpoint_of(dict(row._mapping))


def _order(endpoint: WebhookEndpoint):
    return (endpoint.created_at, str(endpoint.id))  # the memory store's order


class SqlWebhookEndpoints(Repo):
    def add(self, endpoint: WebhookEndpoint) -> None:
        self._add_owned(webhook_endpoints, endpoint, FIELDS, webhook_endpoints.c.id, "id")

    def get(self, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        query = _BY_ID_FOR_UPDATE if for_update and self.pg else _BY_ID  # SQLite: BEGIN IMMEDIATE
        row = self._run(query, {"id": endpoint_id}).first()
        return _endpoint(row) if row else None

    def list(self, tenant_id: UUID | None) -> builtins.list[WebhookEndpoint]:
        query = sa.select(webhook_endpoints)
        if tenant_id is not None:
            query = query.where(webhook_endpoints.c.tenant_id == tenant_id)
        return sorted((_endpoint(r) for r in self._run(query)), key=_order)

    def save(self, endpoint: WebhookEndpoint) -> None:
        self._write()
        values = {name: getattr(endpoint, name) for name in MUTABLE}
        result = self._run(sa.update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint.id).values(values))
        if result.rowcount == 0:
            raise KeyError(endpoint.id)  # as the memory store does

    def delete(self, endpoint_id: UUID) -> bool:
        self._write()
        statement = (
            sa.delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).returning(webhook_endpoints.c.id)
        )
        return self._run(statement).first() is not None
