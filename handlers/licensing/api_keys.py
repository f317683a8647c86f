"""Licensing API keys (scoped to one of the seed's roles): list, create (shown once), revoke."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from services.licensing import apikeys, shapes


def _shape(key) -> dict:
    return shapes.api_key(key, apikeys.role_of(key))


def list_keys(tenant_slug: str) -> dict:
    return {"items": [_shape(k) for k in apikeys.list_keys(store(), actor(), tenant_slug)]}


def create(tenant_slug: str, body: dict) -> tuple[dict, int]:
    key, plaintext = apikeys.create(store(), actor(), tenant_slug, body["label"], body["role"])
    return {**_shape(key), "token": plaintext}, 201


def revoke(tenant_slug: str, api_key_id: str) -> dict:
    return _shape(apikeys.revoke(store(), actor(), tenant_slug, UUID(api_key_id)))
