"""Answers a handler streams instead of returning whole: a file download, an event stream (SSE).

A handler returns `Stream(chunks, media_type=…)`; the handler app writes each chunk as it comes.
`chunks` may be a plain iterable (run on a worker thread, so it may block) or an async iterable
(run on the event loop). Chunks are bytes or text (UTF-8).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stream:
    chunks: Iterable[bytes | str] | AsyncIterable[bytes | str]
    media_type: str = "application/octet-stream"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


def server_sent(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """One Server-Sent Events message: `event:`, `id:` and one `data:` line per line of data."""
    lines = [f"event: {event}"] if event else []
    if id is not None:
        lines.append(f"id: {id}")
    lines += [f"data: {line}" for line in data.split("\n")]
    return "\n".join(lines) + "\n\n"
