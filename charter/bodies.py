"""Request bodies over ASGI: read one whole, and hand it on to the next layer unchanged."""

from __future__ import annotations


class TooLarge(Exception):
    """The body grew past the limit it was read under."""


async def read_body(receive, limit: int | None = None) -> bytes:
    """Every chunk of the request body; TooLarge as soon as it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise TooLarge(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replaying(receive, body: bytes):
    """A receive channel that gives `body` once, then whatever `receive` gives (a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
