"""The caller's log: checkpoint, proofs, one event, verification, verifier packs."""

from __future__ import annotations

from charter import runtime
from charter.runtime import actor, store
from services.compliance import ledger, pack
from services.compliance import verify as verification
from services.compliance.signer import Signer, published


def _signer() -> Signer:
    return runtime.services().get(Signer)


def _log() -> str:
    return ledger.log_for(actor())


def get_checkpoint() -> dict:
    return {"checkpoint": ledger.checkpoint(store(), _signer(), _log()).note}


def inclusion(seq: int, tree_size: int | None = None) -> dict:
    return ledger.inclusion(store(), _signer(), _log(), seq, tree_size)


def consistency(to: int | None = None, **params) -> dict:
    """`from` is no Python name: it arrives among the keyword arguments."""
    return ledger.consistency(store(), _signer(), _log(), params["from"], to)


def get_event(seq: int) -> dict:
    return ledger.event(store(), _log(), seq)


def verify() -> dict:
    return verification.verify(store(), _signer(), _log())


def verifier_pack() -> tuple[dict, int, dict]:
    log = _log()
    name = f"verifier-pack-{log}.json"
    return pack.build(store(), _signer(), log), 200, {"Content-Disposition": f'attachment; filename="{name}"'}


def verify_pack(body: dict) -> dict:
    """Checked against the published keys: the pack's own key counts only when it is one of them."""
    signer = _signer()
    known = {published(k)["note_verifier_key"] for k in signer.keys(store())}
    claimed = (body.get("key") or {}).get("note_verifier_key")
    trusted = claimed if claimed in known else next(iter(sorted(known)), "none+00000000+")
    return pack.verify(body, trusted)
