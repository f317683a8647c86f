"""Audit export bundles (the seed's /v1/compliance/audit-exports): create one (a job on the job
runner, and a short-lived download token), list and read them, mint a fresh token, download,
re-verify the stored bundle, revoke it.

Only a tenant holding the `compliance` entitlement may (403 `entitlement_required`). A download
token is one of our EdDSA JWTs with the audience `charter-audit-export-download` (the seed's
`paybond-audit-export-download`), bound to the export (`sub`) and its tenant (`tid`), living at
most CHARTER_EXPORT_TOKEN_TTL_S (900 s); an access token, or another export's token, is refused.
Per tenant at most CHARTER_EXPORT_CONCURRENT exports are queued or running at once (429 past it),
and a bundle holds at most CHARTER_EXPORT_MAX_EVENTS audit events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auth.tokens import InvalidToken, Tokens
from charter.domain import (
    API_KEY,
    SERVICE,
    Actor,
    Conflict,
    Event,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
)
from services.compliance import bundle
from services.compliance.entitlement import entitled
from services.compliance.signer import Signer
from services.registry.shapes import ts
from store.interface import Store
from store.models import AuditExport, new_job, utcnow

KIND = "compliance.audit_export"
AUDIENCE = "charter-audit-export-download"
INCLUDES = ("audit", "licensing", "disputes", "identity", "webhooks")
DONE = ("ready", "failed", "revoked")


@dataclass(frozen=True)
class Exports:
    """What the export services need besides a store and an actor."""

    tokens: Tokens
    signer: Signer
    data_dir: Path  # CHARTER_DATA_DIR
    token_ttl: int = 900  # CHARTER_EXPORT_TOKEN_TTL_S, at most 900
    concurrent: int = 2  # CHARTER_EXPORT_CONCURRENT: a tenant's queued or running exports
    max_events: int = 2_000_000  # CHARTER_EXPORT_MAX_EVENTS: audit events in one bundle

    @property
    def root(self) -> Path:
        """Where bundles are: a folder per tenant, named by its id."""
        return self.data_dir / "exports"

    def path(self, export: AuditExport) -> Path:
        return self.root / str(export.tenant_id) / f"{export.id}.zip"


def not_found(export_id: object) -> NotFound:
    return NotFound(f"no audit export {export_id}", "audit_export_not_found")


def shape(e: AuditExport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(e.id),
        "tenant_id": str(e.tenant_id),
        "status": e.status,
        "since": ts(e.since),
        "until": ts(e.until),
        "includes": list(e.includes),
        "progress": {"done": e.items_done, **({"total": e.items_total} if e.items_total is not None else {})},
        "requested_by": e.requested_by,
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
    }
    for name in ("size", "sha256", "key_id", "checkpoint_size", "error"):
        if getattr(e, name) is not None:
            out[name] = getattr(e, name)
    for name in ("finished_at", "revoked_at"):
        if getattr(e, name) is not None:
            out[name] = ts(getattr(e, name))
    if e.job_id is not None:
        out["job_id"] = str(e.job_id)
    return out


def event(action: str, actor: Actor, export: AuditExport, **metadata: Any) -> Event:
    return Event(
        action,
        actor,
        "audit_export",
        str(export.id),
        tenant_id=export.tenant_id,
        metadata=metadata,
        data=shape(export),
    )


def token_for(ex: Exports, export: AuditExport) -> dict[str, Any]:
    """A fresh download token of the export, with its URL and expiry."""
    token, exp = ex.tokens.sign(
        {"sub": str(export.id), "tid": str(export.tenant_id), "kind": "audit_export_download"},
        audience=AUDIENCE,
        ttl=min(ex.token_ttl, 900),
    )
    return {
        "download_token": token,
        "download_url": f"/v1/compliance/audit-exports/{export.id}/bundle?token={token}",
        "download_expires_at": ts(datetime.fromtimestamp(exp, tz=UTC)),
    }


def create(
    uow: Store, actor: Actor, ex: Exports, *, since: datetime, until: datetime, includes: list[str]
) -> tuple[AuditExport, dict[str, Any]]:
    if since >= until:
        raise Invalid("since must be before until", "invalid_range")
    wanted = list(dict.fromkeys(includes))
    now = utcnow()
    with uow.write() as s:
        tenant_id = entitled(s, actor)
        s.tenants.get(tenant_id, for_update=True)  # the count and the new row, one at a time per tenant
        if s.audit_exports.unfinished(tenant_id) >= ex.concurrent:
            raise RateLimited(
                f"the tenant has {ex.concurrent} exports queued or running; retry when one is done",
                30,
                "too_many_exports",
            )
        export_id = uuid4()
        job = s.jobs.enqueue(new_job(KIND, {"export_id": str(export_id)}, tenant_id=tenant_id))
        export = AuditExport(
            id=export_id,
            tenant_id=tenant_id,
            since=since,
            until=until,
            includes=wanted,
            requested_by=f"{actor.kind}:{actor.id or '-'}",
            created_at=now,
            updated_at=now,
            job_id=job.id,
        )
        s.audit_exports.add(export)
        s.record(event("audit_export.created", actor, export, since=ts(since), until=ts(until), includes=wanted))
    return export, token_for(ex, export)


def _visible(uow: Store, actor: Actor, export_id: UUID) -> AuditExport:
    with uow.read() as s:
        tenant_id = entitled(s, actor)
        export = s.audit_exports.get(export_id)
    if export is None or export.tenant_id != tenant_id:
        raise not_found(export_id)
    return export


def get(uow: Store, actor: Actor, ex: Exports, export_id: UUID, issue_download: bool = False) -> dict[str, Any]:
    export = _visible(uow, actor, export_id)
    out = shape(export)
    if issue_download:
        if export.status == "revoked":
            raise Conflict("the export was revoked; its bundle is gone", "export_revoked")
        out.update(token_for(ex, export))
    return out


def list_exports(uow: Store, actor: Actor, *, cursor: str | None, limit: int) -> dict[str, Any]:
    before = _position(cursor)
    with uow.read() as s:
        tenant_id = entitled(s, actor)
        found = s.audit_exports.list(tenant_id, before=before, limit=limit + 1)
    page = found[:limit]
    out: dict[str, Any] = {"items": [shape(e) for e in page]}
    if len(found) > limit:
        out["next_cursor"] = f"{ts(page[-1].created_at)}|{page[-1].id}"
    return out


def _position(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    at, _, export_id = cursor.partition("|")
    try:
        when, position = datetime.fromisoformat(at.replace("Z", "+00:00")), UUID(export_id)
    except ValueError:
        raise Invalid("the cursor is not one this list gave", "invalid_cursor") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), position


def download(uow: Store, ex: Exports, export_id: UUID, token: str) -> tuple[AuditExport, Path]:
    """The export and its bundle's path, for a download token of exactly this export."""
    try:
        claims = ex.tokens.decode(token, audience=AUDIENCE, required=("sub", "tid", "exp", "iat", "jti"))
    except InvalidToken as exc:
        raise _refused(f"not a download token of this server: {exc}") from None
    if claims.get("sub") != str(export_id):
        raise _refused("the download token is for another export")
    with uow.read() as s:
        export = s.audit_exports.get(export_id)
    if export is None or str(export.tenant_id) != claims.get("tid"):
        raise not_found(export_id)
    if export.status == "revoked":
        raise Conflict("the export was revoked; its bundle is gone", "export_revoked")
    if export.status != "ready":
        raise Conflict(f"the export is {export.status}, not ready", "export_not_ready")
    path = ex.path(export)
    if not path.is_file():
        raise NotFound("the export's bundle is not on this server's disk", "bundle_missing")
    return export, path


def _refused(message: str) -> Unauthorized:
    return Unauthorized(message, "invalid_download_token")


def verify(uow: Store, actor: Actor, ex: Exports, export_id: UUID) -> dict[str, Any]:
    """Re-verify the stored bundle: the manifest's signature, every digest, and the whole file's
    digest against the one recorded when it was written."""
    export = _visible(uow, actor, export_id)
    if export.status != "ready":
        raise Conflict(f"the export is {export.status}: there is no bundle to verify", "export_not_ready")
    path = ex.path(export)
    if not path.is_file():
        raise NotFound("the export's bundle is not on this server's disk", "bundle_missing")
    keys = {k.key_id: k for k in ex.signer.keys(uow)}

    def public(key_id: str) -> Ed25519PublicKey | None:
        key = keys.get(key_id)
        return None if key is None else Ed25519PublicKey.from_public_bytes(key.public_key)

    out = bundle.check(path, public)
    whole, size = bundle.digest_of(path)
    out["bundle_sha256"] = whole
    out["bundle_intact"] = whole == export.sha256 and size == export.size
    if not out["bundle_intact"] and out["ok"]:
        out["ok"] = False
        out["guidance"] = "The bundle's bytes differ from those written, though every artifact still verifies."
    return out


def revoke(uow: Store, actor: Actor, ex: Exports, export_id: UUID) -> dict[str, Any]:
    """Revoke the export and remove its bundle. A tenant_admin or a support session only (not an
    API key); idempotent."""
    if actor.kind in (API_KEY, SERVICE):
        raise Forbidden("only a tenant_admin or a support session revokes an export", "forbidden")
    with uow.write() as s:
        tenant_id = entitled(s, actor)
        export = s.audit_exports.get(export_id, for_update=True)
        if export is None or export.tenant_id != tenant_id:
            raise not_found(export_id)
        if export.status != "revoked":
            now = utcnow()
            export = replace(export, status="revoked", revoked_at=now, updated_at=now)
            s.audit_exports.save(export)
            s.record(event("audit_export.revoked", actor, export))
    bundle.remove(ex.path(export))
    return shape(export)
