"""A case's arbitration package: a ZIP that proves, against a signed checkpoint of the tenant's
verifiable log, what the case held and what happened to it, checkable with standard tools.

It is written as an audit export bundle is (services.compliance.bundle, so `bundle.check`, the
auditor's openssl and sha256sum, and the Go verifier take it as they take a bundle): `case.json`,
`evidence.json` and `notes.json` (as the API shows them), `events.json` (the case's audit events
up to the checkpoint, each with its canonical bytes and leaf hash), `proofs/<seq>.json` (each
event's inclusion proof), `checkpoint` (the signed note), `SHA256SUMS` (every file above), and
`manifest.json`: the RFC 8785 bytes of {format, tenant, case_id, generated_at, key_id,
checkpoint: {origin, size, root}, artifacts: [{path, sha256, size}], proofs: {count, listed_in}},
signed (raw Ed25519, the platform's checkpoint key) in `manifest.json.sig`. The case is read
before the checkpoint is taken, so every change the package shows is in the log it is proved
against.

Each package is audited (`dispute_case.arbitration_exported`) and counts against the tenant's
`arbitration.tenant` rate limit (5 per 60 s by default).
"""

from __future__ import annotations

import io
from uuid import UUID

from charter.domain import Actor, Event
from services.compliance import ledger
from services.compliance.bundle import CHECKPOINT, Writer, json_bytes, pinned
from services.compliance.entitlement import entitled
from services.disputes import shapes
from services.disputes.cases import visible
from services.disputes.settings import Disputes
from services.registry.shapes import ts
from store import merkle
from store.canonical import log_of
from store.interface import Store
from store.models import AuditEvent, utcnow

FORMAT = "charter-arbitration-package/v1"
BATCH = 1000
EXPORTED = "dispute_case.arbitration_exported"


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
        proofs = [
            ledger.inclusion_view(cp, e.seq, read(0, e.seq), merkle.inclusion_proof(read, e.seq, cp.size))
            for e in events
        ]
    key, private = config.signer.current(uow)
    out = io.BytesIO()
    writer = Writer(out)
    writer.small("case.json", json_bytes(shapes.case(case)) + b"\n")
    writer.json_array("evidence.json", (shapes.evidence(e) for e in evidence))
    writer.json_array("notes.json", (shapes.note(n) for n in notes))
    writer.json_array("events.json", views)
    for proof in proofs:
        writer.proof(proof)
    writer.small(CHECKPOINT, cp.note.encode())
    manifest = {
        "format": FORMAT,
        "tenant": str(tenant_id),
        "case_id": str(case.id),
        "generated_at": ts(utcnow()),
        "key_id": key.key_id,
        "checkpoint": pinned(cp),
    }
    writer.finish(manifest, private)
    return out.getvalue(), f"arbitration-{case.id}.zip"
