"""Verifier packs: everything needed to check a log offline, and the check itself (the same for
POST /v1/compliance/ledger/verifier-pack/verify and `charter verify-pack`, with no server).

A pack is `{format, origin, size, key: {key_id, algorithm, public_key_pem, note_verifier_key},
checkpoint, events: [{seq, event, canonical, leaf_hash}], checkpoints: [{checkpoint,
consistency}]}`: the latest signed checkpoint, every event up to its size with its canonical
bytes, and each older checkpoint with the consistency proof from it to the latest.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from charter.domain import Invalid
from services.compliance import ledger as views
from services.compliance import notes
from services.compliance.signer import Signer, published
from store import merkle
from store.canonical import jcs
from store.interface import Store

FORMAT = "charter-ledger-verifier-pack/v1"


def build(uow: Store, signer: Signer, log: str) -> dict:
    latest = views.checkpoint(uow, signer, log)
    with uow.read() as s:
        key = next(k for k in s.ledger.keys() if k.key_id == latest.key_id)
        older = [c for c in s.ledger.checkpoints(log) if c.size < latest.size]
        events = s.ledger.events(log, 0, latest.size)
        leaves = s.ledger.leaves(log, 0, latest.size)
        read = views.reader(s, log)
        proofs = [merkle.consistency_proof(read, c.size, latest.size) for c in older]
    return {
        "format": FORMAT,
        "origin": signer.origin(log),
        "size": latest.size,
        "key": published(key),
        "checkpoint": latest.note,
        "events": [views.leaf_view(e, leaf) for e, leaf in zip(events, leaves, strict=True)],
        "checkpoints": [
            {"checkpoint": c.note, "consistency": [views.b64(h) for h in p]} for c, p in zip(older, proofs, strict=True)
        ],
    }


def _bytes(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Invalid(f"{what} is not base64", "pack_malformed") from None


def _fail(size: int, checked: int, seq: int | None, guidance: str, expected=None, found=None) -> dict:
    out: dict = {"ok": False, "size": size, "checked": checked, "guidance": guidance}
    for name, value in (("first_bad_seq", seq), ("expected", expected), ("found", found)):
        if value is not None:
            out[name] = value
    return out


def verify(pack: dict, trusted_key: str | None = None) -> dict:
    """Check a pack; the answer has verify's shape. `trusted_key`, a verifier key string known
    beforehand (from GET /v1/compliance/keys), must be the one that signed it; without it the
    pack's own key is taken, which proves consistency but not who signed. Invalid when it is no pack."""
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise Invalid(f"not a verifier pack ({FORMAT})", "pack_malformed")
    try:
        vkey = trusted_key or pack["key"]["note_verifier_key"]
        note, events, older = pack["checkpoint"], pack["events"], pack.get("checkpoints", [])
    except (KeyError, TypeError):
        raise Invalid("a verifier pack needs key, checkpoint and events", "pack_malformed") from None
    try:
        origin, size, root = notes.parse_checkpoint(notes.open_note(note, vkey))
    except notes.BadNote as exc:
        return _fail(0, 0, None, f"The pack's checkpoint does not verify: {exc}.")
    if origin != pack.get("origin"):
        return _fail(size, 0, None, f"The checkpoint is of {origin}, not of the pack's origin {pack.get('origin')}.")
    if len(events) != size:
        return _fail(size, 0, min(len(events), size), f"The pack holds {len(events)} events for a tree of {size}.")
    compact: list[bytes] = []
    for seq, item in enumerate(events):
        if not isinstance(item, dict) or item.get("seq") != seq:
            return _fail(size, seq, seq, f"The event at position {seq} is not seq {seq}.")
        raw = _bytes(item.get("canonical"), f"canonical of seq {seq}")
        if not isinstance(item.get("event"), dict) or jcs(item["event"]) != raw:
            return _fail(size, seq, seq, f"The event at seq {seq} is not what its canonical bytes say.")
        leaf = merkle.leaf_hash(raw)
        if leaf != _bytes(item.get("leaf_hash"), f"leaf_hash of seq {seq}"):
            guidance = f"The canonical bytes of seq {seq} do not hash to its leaf."
            return _fail(size, seq, seq, guidance, item.get("leaf_hash"), views.b64(leaf))
        compact, _ = merkle.append(seq, compact, leaf)
    found = merkle.root_of(compact)
    if found != root:
        guidance = "The events make a tree whose root is not the signed one: the pack's events were changed."
        return _fail(size, size, None, guidance, views.b64(root), views.b64(found))
    for entry in older:
        try:
            o_origin, o_size, o_root = notes.parse_checkpoint(notes.open_note(entry["checkpoint"], vkey))
            proof = [_bytes(h, "a consistency hash") for h in entry["consistency"]]
        except (notes.BadNote, KeyError, TypeError) as exc:
            return _fail(size, size, None, f"An older checkpoint does not verify: {exc}.")
        if o_origin != origin or not merkle.verify_consistency(o_size, size, o_root, root, proof):
            return _fail(size, size, o_size, f"The checkpoint of size {o_size} is not consistent with the latest.")
    return {
        "ok": True,
        "size": size,
        "checked": size,
        "guidance": "The pack verifies: signature, events, tree and checkpoints.",
    }
