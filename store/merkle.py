"""RFC 6962 (RFC 9162 section 2) Merkle tree hashing, proofs and their verification.

Leaf hash = SHA-256(0x00 || data); interior node = SHA-256(0x01 || left || right). A log of size n
keeps, as Go's sumdb/tlog does, the hash of every complete subtree: level 0 holds the leaf hashes,
level k the hash of leaves [i*2^k, (i+1)*2^k) at index i. Appending leaf n stores one hash per
trailing 1 bit of n, plus the leaf's: amortised two, at most 1 + log2(n+1). The head of a log keeps
its compact range: the hashes of the complete subtrees its size decomposes into, largest first,
so an append and the root are O(log n) with no read of older hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962: the hash of an empty list

NodeReader = Callable[[int, int], bytes]  # (level, index) -> the stored hash of that complete subtree


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_compact(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def append(size: int, compact: list[bytes], leaf: bytes) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Add leaf number `size`: the new compact range, and the complete subtrees it completes as
    (level, index, hash), the leaf itself first."""
    made = [(0, size, leaf)]
    compact = list(compact)
    h, level, index = leaf, 0, size
    while index & 1:
        h = node_hash(compact.pop(), h)
        level, index = level + 1, index >> 1
        made.append((level, index, h))
    compact.append(h)
    return compact, made


def root_of(compact: Iterable[bytes]) -> bytes:
    """The tree hash of a compact range (largest subtree first)."""
    hashes = list(compact)
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def subtree(read: NodeReader, lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) from stored hashes: one read for an aligned complete subtree."""
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        return read(n.bit_length() - 1, lo // n)
    k = _split(n)
    return node_hash(subtree(read, lo, lo + k), subtree(read, lo + k, hi))


def inclusion_proof(read: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]), RFC 6962 2.1.1: leaf to root order."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(subtree(read, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(read, lo, lo + k))
            lo += k
    proof.reverse()
    return proof


def consistency_proof(read: NodeReader, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]), RFC 6962 2.1.2."""
    if not 0 <= old <= new:
        raise ValueError("sizes out of order")
    if old == 0 or old == new:
        return []

    def sub(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [subtree(read, lo, hi)]
        k = _split(n)
        if m <= k:
            return sub(m, lo, lo + k, complete) + [subtree(read, lo + k, hi)]
        return sub(m - k, lo + k, hi, False) + [subtree(read, lo, lo + k)]

    return sub(old, 0, new, True)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2); ValueError when it is malformed."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
