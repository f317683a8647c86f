"""The job that builds an audit export's bundle (services.compliance.bundle says what is in it).

It pins the tenant's log at a checkpoint taken when it starts (so the bundle covers every event
committed before), then streams what the export includes into a ZIP under CHARTER_DATA_DIR
(`.part` until complete, then renamed), reading the store in batches: memory stays flat however
many events there are. Inclusion proofs are computed a block of 1,024 leaves at a time from the
block's leaf hashes, so a block costs two store reads and a handful of node reads, not one read
per hash. Progress (items done / total) is written to the export as it goes. A build that fails
marks its export failed, with the error, and leaves no file behind.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from uuid import UUID

from charter.jobs import Context, JobType
from services.compliance import ledger as views
from services.compliance.bundle import CHECKPOINT, FORMAT, Writer, digest_of, pinned
from services.compliance.exports import KIND, Exports, event
from services.disputes import shapes as dispute_shapes
from services.licensing import shapes as licensing_shapes
from services.registry import shapes as registry_shapes
from store import merkle
from store.canonical import log_of
from store.interface import Session, Store
from store.models import AuditEvent, AuditExport, Checkpoint, utcnow

log = logging.getLogger("charter.compliance.exports")
PAGE = 500  # dispute cases per read
BLOCK = 1024  # leaves per read: a power of two, so a block is one complete subtree
PROGRESS_EVERY_S = 1.0


class TooBig(Exception):
    pass


class _Progress:
    def __init__(self, uow: Store, context: Context, export_id: UUID, total: int) -> None:
        self.uow, self.context, self.export_id, self.total = uow, context, export_id, total
        self.done, self._at = 0, 0.0

    def add(self, n: int = 1, *, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        if force or now - self._at >= PROGRESS_EVERY_S:
            self._at = now
            self.context.progress(self.done, self.total)
            with self.uow.write() as s:
                export = s.audit_exports.get(self.export_id, for_update=True)
                if export is not None and export.status == "running":
                    s.audit_exports.save(
                        replace(export, items_done=self.done, items_total=self.total, updated_at=utcnow())
                    )


def _blocks(size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, size, BLOCK):
        yield lo, min(lo + BLOCK, size)


def _seeded(s: Session, log_id: str, lo: int, hi: int) -> Callable[[int, int], bytes]:
    """A node reader of the log whose block [lo, hi) is computed from its leaves (one read)."""
    read = views.reader(s, log_id)
    known: dict[tuple[int, int], bytes] = {(0, lo + i): h for i, h in enumerate(s.ledger.leaves(log_id, lo, hi))}
    level, width = 0, 1
    while width * 2 <= hi - lo:
        level, width = level + 1, width * 2
        for start in range(lo, hi - width + 1, width):
            if start % width == 0:
                half = width // 2
                left, right = known.get((level - 1, start // half)), known.get((level - 1, start // half + 1))
                if left is not None and right is not None:
                    known[(level, start // width)] = merkle.node_hash(left, right)

    def seeded(lvl: int, index: int) -> bytes:
        found = known.get((lvl, index))
        return found if found is not None else read(lvl, index)

    return seeded


def _in_range(export: AuditExport, e: AuditEvent) -> bool:
    return e.created_at is not None and export.since <= e.created_at < export.until


def _audit(uow: Store, export: AuditExport, writer: Writer, cp: Checkpoint, progress: _Progress, cap: int) -> None:
    """audit/events.json, then proofs/<seq>.json for every event in it."""
    log_id = log_of(export.tenant_id)
    picked: list[list[int]] = []  # runs [lo, hi) of the exported seqs

    def events() -> Iterator[dict[str, Any]]:
        count = 0
        for lo, hi in _blocks(cp.size):
            with uow.read() as s:
                found, leaves = s.ledger.events(log_id, lo, hi), s.ledger.leaves(log_id, lo, hi)
            for e, leaf in zip(found, leaves, strict=True):
                if _in_range(export, e):
                    count += 1
                    if count > cap:
                        raise TooBig(f"more than {cap} audit events in the range (CHARTER_EXPORT_MAX_EVENTS)")
                    if picked and picked[-1][1] == e.seq:
                        picked[-1][1] = e.seq + 1
                    else:
                        picked.append([e.seq, e.seq + 1])
                    yield views.leaf_view(e, leaf)
            progress.add(hi - lo)

    writer.json_array("audit/events.json", events())
    for run_lo, run_hi in picked:
        for lo, hi in _blocks(cp.size):
            if hi <= run_lo or lo >= run_hi:
                continue
            with uow.read() as s:
                read = _seeded(s, log_id, lo, hi)
                proofs = [
                    (seq, merkle.inclusion_proof(read, seq, cp.size), read(0, seq))
                    for seq in range(max(lo, run_lo), min(hi, run_hi))
                ]
            for seq, hashes, leaf in proofs:
                writer.proof(views.inclusion_view(cp, seq, leaf, hashes))
            progress.add(len(proofs))


def _licensing(uow: Store, export: AuditExport, writer: Writer, progress: _Progress) -> None:
    with uow.read() as s:
        products = s.license_products.list(export.tenant_id)
        slugs = {p.id: p.slug for p in products}
        policies = s.license_policies.list(export.tenant_id)
        licenses = s.licenses.list(export.tenant_id, limit=1_000_000)
        invoices = s.invoices.list(export.tenant_id, limit=1_000_000)
    policy_slugs = {p.id: p.slug for p in policies}
    writer.json_array("licensing/products.json", (licensing_shapes.product(p) for p in products))
    writer.json_array(
        "licensing/policies.json", (licensing_shapes.policy(p, slugs.get(p.product_id, "")) for p in policies)
    )
    writer.json_array(
        "licensing/licenses.json",
        (
            licensing_shapes.license(
                lic, slugs.get(lic.product_id, ""), policy_slugs.get(lic.policy_id) if lic.policy_id else None
            )
            for lic in licenses
        ),
    )
    writer.json_array("licensing/invoices.json", (licensing_shapes.invoice(i) for i in invoices))
    progress.add(len(products) + len(policies) + len(licenses) + len(invoices))


def _identity(uow: Store, export: AuditExport, writer: Writer, progress: _Progress) -> None:
    with uow.read() as s:
        keys = s.api_keys.list(export.tenant_id)
    writer.json_array("identity/api_keys.json", (registry_shapes.api_key(k) for k in keys))
    progress.add(len(keys))


def _webhooks(uow: Store, export: AuditExport, writer: Writer, progress: _Progress) -> None:
    with uow.read() as s:
        endpoints = s.webhook_endpoints.list(export.tenant_id)
    writer.json_array(
        "webhooks/endpoints.json",
        (
            {
                "id": str(e.id),
                "url": e.url,
                "event_types": e.event_types,
                "disabled": e.disabled,
                "created_at": registry_shapes.ts(e.created_at),
                "updated_at": registry_shapes.ts(e.updated_at),
            }
            for e in endpoints
        ),
    )
    progress.add(len(endpoints))


def _disputes(uow: Store, export: AuditExport, writer: Writer, progress: _Progress) -> None:
    """Every dispute case of the tenant with its evidence references and notes, a page at a time."""

    def cases() -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            with uow.read() as s:
                page = s.dispute_cases.list(export.tenant_id, limit=PAGE, offset=offset)
                details = [
                    dispute_shapes.detail(c, s.dispute_evidence.list(c.id), s.dispute_notes.list(c.id)) for c in page
                ]
            yield from details
            progress.add(len(details))
            if len(page) < PAGE:
                return
            offset += PAGE

    writer.json_array("disputes/cases.json", cases())


def _version() -> str:
    try:
        return version("charter")
    except PackageNotFoundError:
        return "unknown"


SECTIONS = {"licensing": _licensing, "identity": _identity, "webhooks": _webhooks, "disputes": _disputes}


def build(uow: Store, ex: Exports, context: Context, export: AuditExport) -> AuditExport:
    """Write the export's bundle; the export as it stands once the file is in place."""
    log_id = log_of(export.tenant_id)
    cp = views.checkpoint(uow, ex.signer, log_id)
    key, private = ex.signer.current(uow)
    final = ex.path(export)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    writer = Writer(part)
    progress = _Progress(uow, context, export.id, cp.size if "audit" in export.includes else 0)
    try:
        if "audit" in export.includes:
            progress.total = cp.size * 2  # the events read, then the proofs written (at most as many)
            _audit(uow, export, writer, cp, progress, ex.max_events)
        for name in export.includes:
            if name in SECTIONS:
                SECTIONS[name](uow, export, writer, progress)
        writer.small(CHECKPOINT, cp.note.encode())
        manifest = {
            "format": FORMAT,
            "tenant": str(export.tenant_id),
            "filter": {
                "since": registry_shapes.ts(export.since),
                "until": registry_shapes.ts(export.until),
                "includes": list(export.includes),
            },
            "generated_at": registry_shapes.ts(utcnow()),
            "build": {"export_id": str(export.id), "charter": _version()},
            "key_id": key.key_id,
            "checkpoint": pinned(cp),
        }
        writer.finish(manifest, private)
    except BaseException:
        writer.abandon()
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)
    sha256, size = digest_of(final)
    progress.total = progress.done
    return replace(
        export,
        size=size,
        sha256=sha256,
        key_id=key.key_id,
        checkpoint_size=cp.size,
        items_done=progress.done,
        items_total=progress.done,
    )


def run(context: Context) -> None:
    uow, ex = context.services.store, context.services.get(Exports)
    export_id = UUID(context.args["export_id"])
    with uow.write() as s:
        export = s.audit_exports.get(export_id, for_update=True)
        if export is None or export.status in ("ready", "failed", "revoked"):
            context.complete_in(s)
            return
        export = replace(export, status="running", updated_at=utcnow())
        s.audit_exports.save(export)
    try:
        built = build(uow, ex, context, export)
    except Exception as exc:
        log.warning("audit export %s failed: %s", export_id, exc, exc_info=not isinstance(exc, TooBig))
        with uow.write() as s:
            current = s.audit_exports.get(export_id, for_update=True)
            if current is not None and current.status == "running":
                now = utcnow()
                failed = replace(current, status="failed", error=str(exc)[:500], finished_at=now, updated_at=now)
                s.audit_exports.save(failed)
                s.record(event("audit_export.failed", context.actor, failed, error=failed.error))
            context.complete_in(s)
        return
    with uow.write() as s:
        current = s.audit_exports.get(export_id, for_update=True)
        if current is None or current.status != "running":  # revoked (or gone) while it was built
            ex.path(built).unlink(missing_ok=True)
            context.complete_in(s)
            return
        now = utcnow()
        ready = replace(built, status="ready", finished_at=now, updated_at=now, revoked_at=None)
        s.audit_exports.save(ready)
        s.record(event("audit_export.ready", context.actor, ready, sha256=ready.sha256, size=ready.size))
        context.complete_in(s)


JOBS = (JobType(KIND, run, max_attempts=3),)
