r"""What text the server keeps, said in the served document: no string field holds NUL.

No PostgreSQL text column can hold U+0000, so every string a request may carry into one says so
in a form validators, fuzzers and client generators read: a `pattern`. At load time the spine
gives every string schema that has no pattern, enum or const, and no format that excludes NUL
already, the pattern `^[^\x00]{min,max}$` (its own length bounds folded in, so a generator that
draws from the pattern meets them). The request validator enforces that same document, so a
string field with NUL answers 400 with the validator's message, and nothing else does: NUL in
an unknown extra property, which the server ignores, or inside a free-form object, which is kept
as JSON text faithfully on every store, is accepted.

A string schema marked `x-nul-allowed: true` is left alone: its operation takes any text there and
answers NUL itself (the licensing validate call answers every key, garbage too, with HTTP 200).
It must not reach a text column as sent. A string schema that has a pattern already keeps it; tests/spine/test_text.py checks that each
such pattern in the specs refuses NUL by itself.
"""

from __future__ import annotations

from typing import Any

# Formats charter.formats checks strictly, none of which admits NUL (email is only "has an @").
NUL_FREE_FORMATS = frozenset({"uuid", "date", "date-time", "int64"})
_NOT_SCHEMAS = frozenset({"example", "examples", "default", "enum", "const", "links", "discriminator"})


def no_nul_pattern(min_length: int | None, max_length: int | None) -> str:
    low = min_length or 0
    bound = f"{{{low},{max_length}}}" if max_length is not None else ("*" if low == 0 else f"{{{low},}}")
    return rf"^[^\x00]{bound}$"


def forbid_nul(node: Any) -> Any:
    """Give every string schema under `node` (a spec, or any part of one) the NUL-free pattern,
    in place; returns `node`."""
    if isinstance(node, list):
        for item in node:
            forbid_nul(item)
        return node
    if not isinstance(node, dict):
        return node
    if _is_free_string(node):
        node["pattern"] = no_nul_pattern(node.get("minLength"), node.get("maxLength"))
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for schema in value.values():  # any name, "example" or "default" included, is a property
                forbid_nul(schema)
        elif key not in _NOT_SCHEMAS and not key.startswith("x-"):
            forbid_nul(value)
    return node


def _is_free_string(node: dict) -> bool:
    kind = node.get("type")
    is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
    return (
        is_string
        and not any(k in node for k in ("pattern", "enum", "const", "$ref"))
        and node.get("x-nul-allowed") is not True
        and node.get("format") not in NUL_FREE_FORMATS
    )
