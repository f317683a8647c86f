"""An independent RFC 6962 tree hash (the recursive definition, over a list of leaves) and a
checkpoint reader, for checking the ledger's answers without its own code."""

from __future__ import annotations

import base64
import hashlib


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 2.1, straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def checkpoint_fields(note: str) -> tuple[str, int, bytes]:
    origin, size, root = note.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)
