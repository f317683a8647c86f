"""Webhook endpoints in memory."""

from __future__ import annotations

import builtins
import copy
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE
from store.memory.tenants import TenantRows
from store.models import WebhookEndpoint


class WebhookEndpointRows(Rows[UUID, WebhookEndpoint]):
    on_tenant_delete = DELETE


def _order(endpoint: WebhookEndpoint) -> tuple[datetime, str]:
    return (endpoint.created_at, str(endpoint.id))


class MemoryWebhookEndpoints(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._session = session
        self._rows = self._tables.of(WebhookEndpointRows)
        self._tenants = self._tables.of(TenantRows)

    def add(self, endpoint: WebhookEndpoint) -> None:
        undo = self._undo()
        if endpoint.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        if endpoint.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(endpoint.id, copy.deepcopy(endpoint), undo)

    def get(self, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        found = self._rows.by_key.get(endpoint_id)
        return copy.deepcopy(found) if found else None

    def list(self, tenant_id: UUID | None) -> builtins.list[WebhookEndpoint]:
        found = [copy.deepcopy(e) for e in self._rows.by_key.values() if tenant_id is None or e.tenant_id == tenant_id]
        return sorted(found, key=_order)

    def save(self, endpoint: WebhookEndpoint) -> None:
        undo = self._undo()
        old = self._rows.by_key[endpoint.id]  # KeyError for an unknown endpoint
        kept = replace(copy.deepcopy(endpoint), tenant_id=old.tenant_id, created_at=old.created_at)
        self._rows.replace(endpoint.id, kept, undo)

    def delete(self, endpoint_id: UUID) -> bool:
        undo = self._undo()
        if endpoint_id not in self._rows.by_key:
            return False
        from store.memory.deliveries import MemoryWebhookDeliveries

        MemoryWebhookDeliveries(self._session).drop_endpoint(endpoint_id)
        self._rows.remove(endpoint_id, undo)
        return True
