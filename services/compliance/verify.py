"""Verification of a log against its signed checkpoints: every event's canonical bytes hashed
again and compared with the stored leaf, the tree rebuilt and compared with each checkpoint's
root, each checkpoint's signature checked. The answer names the first seq that fails."""

from __future__ import annotations

from services.compliance import notes
from services.compliance.ledger import b64, checkpoint
from services.compliance.signer import Signer
from store import merkle
from store.canonical import canonical
from store.interface import Store
from store.models import Checkpoint

BATCH = 1000
OK = "Every event matches its leaf and every signed checkpoint: the log is intact."
EVENT_CHANGED = (
    "The stored event at seq {seq} no longer hashes to the leaf the log committed to: the row was "
    "changed after it was appended. 'expected' is the committed leaf hash, 'found' the hash of the row "
    "as stored now. Keep this answer and a checkpoint; report it to the operator."
)
MISSING = "The log's events stop at seq {seq}, before its size: rows were removed. Report it to the operator."
ROOT_CHANGED = (
    "Events and leaves agree, but the tree they make differs from the signed checkpoint of size {size}: "
    "both were rewritten at or after seq {seq}. 'expected' is the signed root, 'found' the recomputed one."
)
BAD_SIGNATURE = "The checkpoint of size {size} does not verify with the key it names: {why}."


def _fail(size: int, checked: int, seq: int, expected: str | None, found: str | None, guidance: str) -> dict:
    out: dict = {"ok": False, "size": size, "checked": checked, "first_bad_seq": seq, "guidance": guidance}
    if expected is not None:
        out["expected"] = expected
    if found is not None:
        out["found"] = found
    return out


def verify(uow: Store, signer: Signer, log: str) -> dict:
    latest = checkpoint(uow, signer, log)
    with uow.read() as s:
        signed = s.ledger.checkpoints(log)
        keys = {k.key_id: k for k in s.ledger.keys()}
    signed = [c for c in signed if c.size <= latest.size]
    for cp in signed:
        problem = _signature_problem(cp, keys)
        if problem:
            return _fail(latest.size, 0, cp.size, None, None, BAD_SIGNATURE.format(size=cp.size, why=problem))
    compact: list[bytes] = []
    pending = [c for c in signed if c.size > 0]
    passed = 0
    for start in range(0, latest.size, BATCH):
        end = min(start + BATCH, latest.size)
        with uow.read() as s:
            events = s.ledger.events(log, start, end)
            leaves = s.ledger.leaves(log, start, end)
        for offset in range(end - start):
            seq = start + offset
            if offset >= len(events) or events[offset].seq != seq or offset >= len(leaves):
                return _fail(latest.size, seq, seq, None, None, MISSING.format(seq=seq))
            found = merkle.leaf_hash(canonical(vars(events[offset])))
            if found != leaves[offset]:
                return _fail(latest.size, seq, seq, b64(leaves[offset]), b64(found), EVENT_CHANGED.format(seq=seq))
            compact, _ = merkle.append(seq, compact, found)
            while pending and pending[0].size == seq + 1:
                cp = pending.pop(0)
                root = merkle.root_of(compact)
                if root != cp.root:
                    guidance = ROOT_CHANGED.format(size=cp.size, seq=passed)
                    return _fail(latest.size, seq + 1, passed, b64(cp.root), b64(root), guidance)
                passed = cp.size
    return {"ok": True, "size": latest.size, "checked": latest.size, "guidance": OK}


def _signature_problem(cp: Checkpoint, keys: dict) -> str | None:
    key = keys.get(cp.key_id)
    if key is None:
        return f"no key {cp.key_id}"
    try:
        text = notes.open_note(cp.note, notes.verifier_key(key.name, key.public_key))
        _, size, root = notes.parse_checkpoint(text)
    except notes.BadNote as exc:
        return str(exc)
    if size != cp.size or root != cp.root:
        return "its text is not the checkpoint kept"
    return None
