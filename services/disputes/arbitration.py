"""A case's arbitration package: a ZIP that proves, against a signed checkpoint of the tenant's
verifiable log, what the case held and what happened to it, checkable with standard tools.

It holds `case.json`, `evidence.json` and `notes.json` (as the API shows them), `events.json`
(the case's audit events up to the checkpoint, each with its canonical bytes and leaf hash),
`proofs/<seq>.json` (each event's inclusion proof), `checkpoint` (the signed note), and
`manifest.json`: the RFC 8785 bytes of {format, tenant, case_id, generated_at, key_id,
checkpoint: {origin, size, root}, artifacts: [{path, sha256, size}]}, signed (raw Ed25519, the
platform's checkpoint key) in `manifest.json.sig`. The case is read before the checkpoint is
taken, so every change the package shows is in the log it is proved against.

Each package is audited (`dispute_case.arbitration_exported`) and counts against the tenant's
`arbitration.tenant` rate limit (5 per 60 s by default).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any
from uuid import UUID

from charter.domain import Actor, Event
from services.compliance import ledger
from services.compliance.entitlement import entitled
from services.disputes import shapes
from services.disputes.cases import visible
from services.disputes.settings import Disputes
from services.registry.shapes import ts
from store import merkle
from store.canonical import jcs, log_of
from store.interface import Store
from store.models import AuditEvent, utcnow

FORMAT = "charter-arbitration-package/v1"
BATCH = 1000
EXPORTED = "dispute_case.arbitration_exported"


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _events_of(uow: Store, log: str, case_id: UUID, size: int) -> list[AuditEvent]:
    """The case's audit events among the first `size` of the log, in seq order."""
    found: list[AuditEvent] = []
    for start in range(0, size, BATCH):
        with uow.read() as s:
            events = s.ledger.events(log, start, min(start + BATCH, size))
        found += [e for e in events if e.target_type == "dispute_case" and e.target_id == str(case_id)]
    return found


def export(uow: Store, actor: Actor, config: Disputes, case_id: UUID) -> tuple[bytes, str]:
    """The package's bytes and its file name."""
    with uow.read() as s:
        tenant_id = entitled(s, actor)
        visible(s, tenant_id, case_id)
    config.limits.acquire(uow, "arbitration", tenant=str(tenant_id))
    with uow.write() as s:
        case = visible(s, tenant_id, case_id)
        target = f"{case.subject_type}:{case.subject_id}"
        s.record(Event(EXPORTED, actor, "dispute_case", str(case.id), tenant_id=tenant_id, target_name=target))
    with uow.read() as s:
        case = visible(s, tenant_id, case_id)
        evidence, notes = s.dispute_evidence.list(case.id), s.dispute_notes.list(case.id)
    log = log_of(tenant_id)
    cp = ledger.checkpoint(uow, config.signer, log)
    events = _events_of(uow, log, case.id, cp.size)
    with uow.read() as s:
        read = ledger.reader(s, log)
        views = [ledger.leaf_view(e, read(0, e.seq)) for e in events]
        proofs = {e.seq: [ledger.b64(h) for h in merkle.inclusion_proof(read, e.seq, cp.size)] for e in events}
    artifacts: dict[str, bytes] = {
        "case.json": _json(shapes.case(case)),
        "evidence.json": _json([shapes.evidence(e) for e in evidence]),
        "notes.json": _json([shapes.note(n) for n in notes]),
        "events.json": _json(views),
        **{
            f"proofs/{view['seq']}.json": _json(
                {
                    "seq": view["seq"],
                    "tree_size": cp.size,
                    "leaf_hash": view["leaf_hash"],
                    "hashes": proofs[view["seq"]],
                    "checkpoint": cp.note,
                }
            )
            for view in views
        },
        "checkpoint": cp.note.encode(),
    }
    key, private = config.signer.current(uow)
    manifest = jcs(
        {
            "format": FORMAT,
            "tenant": str(tenant_id),
            "case_id": str(case.id),
            "generated_at": ts(utcnow()),
            "key_id": key.key_id,
            "checkpoint": {"origin": config.signer.origin(log), "size": cp.size, "root": ledger.b64(cp.root)},
            "artifacts": [
                {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for path, data in artifacts.items()
            ],
        }
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for path, data in artifacts.items():
            package.writestr(path, data)
        package.writestr("manifest.json", manifest)
        package.writestr("manifest.json.sig", private.sign(manifest))
    return out.getvalue(), f"arbitration-{case.id}.zip"
