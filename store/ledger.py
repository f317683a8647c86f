"""What appending one event to its log computes, the same for every store: its leaf hash (over its
canonical bytes, store.canonical), the head after it, and the complete subtrees it completes."""

from __future__ import annotations

from typing import Any

from store import merkle
from store.canonical import canonical
from store.models import LedgerHead


def next_leaf(head: LedgerHead, values: dict[str, Any]) -> tuple[LedgerHead, list[tuple[int, int, bytes]]]:
    """`values` are the stored event's (its seq is head.size): the new head, and (level, index,
    hash) of each subtree to store, the leaf first."""
    leaf = merkle.leaf_hash(canonical(values))
    compact, made = merkle.append(head.size, merkle.split_compact(head.compact), leaf)
    return LedgerHead(head.log_id, head.size + 1, b"".join(compact)), made
