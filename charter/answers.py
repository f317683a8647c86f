"""The answers the spine gives on any operation, said in the served document.

Some refusals come from the spine, not from a handler: a parameter or body that fails the
schema (400), a body over the limit (413) or of a media type the operation does not take (415),
header fields over the limit (431), and a store that cannot be reached (503). A spec need not
list them on every operation; at load time the spine adds each one an operation can get and
does not declare, in the error shape, so that validators, fuzzers and generated clients know
every status the server may answer. What a spec declares itself is kept as written, and an
operation that can never get one of them says so with `x-answers-omit: ["503"]` (the liveness
probe, which touches nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_ERROR_INLINE = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}

OMIT = "x-answers-omit"
# status -> (when it applies, description)
_ANSWERS: dict[str, tuple[str, str]] = {
    "400": ("input", "Input failed validation: a parameter or the body breaks the schema."),
    "413": ("body", "The request body is over the configured limit."),
    "415": ("body", "The request body's media type is not one this operation takes."),
    "431": ("any", "The request's header fields are over the configured limit."),
    "503": ("any", "The store cannot be reached, or the server is shutting down; try again shortly."),
}


def complete(doc: dict, operations: Iterable[tuple[dict, dict]]) -> dict:
    """Add the spine's answers, in place, to each of doc's `operations` (path item, operation)
    that can get them; returns doc."""
    schemas = (doc.get("components") or {}).get("schemas") or {}
    error = {"$ref": "#/components/schemas/Error"} if "Error" in schemas else _ERROR_INLINE
    for item, op in operations:
        responses = op.setdefault("responses", {})
        has_body = "requestBody" in op
        has_input = has_body or bool(op.get("parameters")) or bool(item.get("parameters"))
        omit = {str(status) for status in op.get(OMIT) or ()}
        for status, (when, description) in _ANSWERS.items():
            if status in omit:
                continue
            applies = when == "any" or (when == "body" and has_body) or (when == "input" and has_input)
            if applies and status not in responses:
                responses[status] = _answer(description, error)
    return doc


def _answer(description: str, error: dict) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(error)}}}
