"""What appending one event to its log computes, the same for every store: its leaf hash (over its
canonical bytes, store.canonical), the head after it, the complete subtrees it completes, and
whether it is due a checkpoint: an append that brings its log to a multiple of the store's
`checkpoint_every` enqueues, in its own transaction, the job that signs the checkpoint at exactly
that size (CHECKPOINT, run by the compliance API)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from store import merkle
from store.canonical import canonical
from store.models import Job, LedgerHead, new_job

CHECKPOINT = "compliance.checkpoint"  # the job kind that signs one log's checkpoint at one size


def next_leaf(head: LedgerHead, values: dict[str, Any]) -> tuple[LedgerHead, list[tuple[int, int, bytes]]]:
    """`values` are the stored event's (its seq is head.size): the new head, and (level, index,
    hash) of each subtree to store, the leaf first."""
    leaf = merkle.leaf_hash(canonical(values))
    compact, made = merkle.append(head.size, merkle.split_compact(head.compact), leaf)
    return LedgerHead(head.log_id, head.size + 1, b"".join(compact)), made


def checkpoint_due(head: LedgerHead, tenant_id: UUID | None, every: int | None) -> Job | None:
    """The job that signs the checkpoint of `head`'s log at its size, when `every` divides that
    size (None: never); one per log and size, whoever enqueues it."""
    if every is None or head.size % every:
        return None
    args = {"log": head.log_id, "size": head.size}
    return new_job(CHECKPOINT, args, key=f"{head.log_id}@{head.size}", tenant_id=tenant_id)
