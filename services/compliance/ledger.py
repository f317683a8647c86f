"""A tenant's log as a verifier sees it: signed checkpoints, inclusion and consistency proofs, one
event with its canonical bytes. The log of a caller bound to a tenant is its tenant's; a platform
caller reads the tenant it names with x-tenant-id, or, naming none, the platform's own log."""

from __future__ import annotations

import base64
from collections.abc import Callable

from charter.domain import Actor, Invalid, NotFound
from services.compliance import notes
from services.compliance.signer import Signer
from store import merkle
from store.canonical import canonical, event_json, log_of
from store.interface import Session, Store
from store.models import AuditEvent, Checkpoint, utcnow


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def log_for(actor: Actor) -> str:
    return log_of(actor.tenant_id)


def reader(s: Session, log: str) -> Callable[[int, int], bytes]:
    """Stored subtree hashes of one log, each read once."""
    seen: dict[tuple[int, int], bytes] = {}

    def read(level: int, index: int) -> bytes:
        if (level, index) not in seen:
            found = s.ledger.node(log, level, index)
            if found is None:
                raise LookupError(f"log {log} has no stored hash at level {level}, index {index}")
            seen[(level, index)] = found
        return seen[(level, index)]

    return read


def size_of(s: Session, log: str) -> int:
    head = s.ledger.head(log)
    return 0 if head is None else head.size


def _within(size: int, current: int, name: str) -> None:
    if size > current:
        raise Invalid(f"{name} {size} is beyond the log's size, {current}", "tree_size_beyond_log")


def checkpoint(uow: Store, signer: Signer, log: str, size: int | None = None) -> Checkpoint:
    """The signed checkpoint of the log at `size` (by default its size now, so it covers every
    event committed before the call), signed now when none is kept at that size. A new one is
    signed only when its root is consistent with the largest one kept: the log never signs two
    inconsistent checkpoints."""
    with uow.read() as s:
        head = s.ledger.head(log)
        current = 0 if head is None else head.size
        size = current if size is None else size
        _within(size, current, "tree_size")
        kept = s.ledger.checkpoint(log, size)
        if kept is not None:
            return kept
        read = reader(s, log)
        if head is not None and size == current:
            root = merkle.root_of(merkle.split_compact(head.compact))
        else:
            root = merkle.subtree(read, 0, size)
        latest = s.ledger.checkpoint(log)
        if latest is not None:
            old, new = sorted(((latest.size, latest.root), (size, root)))
            proof = merkle.consistency_proof(read, old[0], new[0])
            if not merkle.verify_consistency(old[0], new[0], old[1], new[1], proof):
                raise RuntimeError(f"log {log} at size {size} is inconsistent with its checkpoint at {latest.size}")
    key, private = signer.current(uow)
    note = notes.sign(notes.checkpoint_text(signer.origin(log), size, root), signer.issuer, private)
    with uow.write() as s:
        return s.ledger.add_checkpoint(Checkpoint(log, size, root, key.key_id, note, utcnow()))


def inclusion(uow: Store, signer: Signer, log: str, seq: int, tree_size: int | None = None) -> dict:
    cp = checkpoint(uow, signer, log, tree_size)
    if seq >= cp.size:
        raise Invalid(f"seq {seq} is not in a tree of size {cp.size}", "seq_beyond_tree")
    with uow.read() as s:
        read = reader(s, log)
        hashes = merkle.inclusion_proof(read, seq, cp.size)
        leaf = read(0, seq)
    return inclusion_view(cp, seq, leaf, hashes)


def inclusion_view(cp: Checkpoint, seq: int, leaf: bytes, hashes: list[bytes]) -> dict:
    """An inclusion proof as the inclusion route answers it (and a bundle's proofs/<seq>.json holds)."""
    return {
        "seq": seq,
        "tree_size": cp.size,
        "leaf_hash": b64(leaf),
        "hashes": [b64(h) for h in hashes],
        "checkpoint": cp.note,
    }


def consistency(uow: Store, signer: Signer, log: str, old: int, new: int | None = None) -> dict:
    cp = checkpoint(uow, signer, log, new)
    if old > cp.size:
        raise Invalid(f"from {old} is larger than to {cp.size}", "sizes_out_of_order")
    with uow.read() as s:
        hashes = merkle.consistency_proof(reader(s, log), old, cp.size)
    return {"from": old, "to": cp.size, "hashes": [b64(h) for h in hashes], "checkpoint": cp.note}


def leaf_view(event: AuditEvent, leaf: bytes | None) -> dict:
    """An event as the ledger shows it: its canonical JSON, the exact bytes hashed, the stored leaf."""
    values = vars(event)
    return {
        "seq": event.seq,
        "event": event_json(values),
        "canonical": b64(canonical(values)),
        "leaf_hash": b64(leaf or b""),
    }


def event(uow: Store, log: str, seq: int) -> dict:
    with uow.read() as s:
        found = s.ledger.event(log, seq)
        if found is None:
            raise NotFound(f"no event with seq {seq} in this log", "event_not_found")
        return leaf_view(found, s.ledger.node(log, 0, seq))
