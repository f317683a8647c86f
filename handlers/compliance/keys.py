"""The public keys that sign checkpoints."""

from __future__ import annotations

from charter import runtime
from services.compliance.signer import Signer, published


def list_keys() -> dict:
    signer = runtime.services().get(Signer)
    return {"items": [published(k) for k in signer.keys(runtime.store())]}
