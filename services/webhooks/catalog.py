"""The event catalog: every event type the specs declare (their top-level `x-events`), each with
the JSON Schema of its `data`, references resolved against the merged document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charter import specs
from charter.domain import Invalid

REF = "#/components/"


def _resolved(node: Any, components: dict, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_resolved(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        if ref in seen:
            return {}  # a recursive schema: any value at the point it repeats
        section, _, name = ref[len(REF) :].partition("/")
        target = (components.get(section) or {}).get(name)
        return _resolved(target, components, (*seen, ref)) if target is not None else {}
    return {key: _resolved(value, components, seen) for key, value in node.items()}


@dataclass(frozen=True)
class EventType:
    type: str
    description: str
    payload: dict  # the JSON Schema of the event's data


@dataclass(frozen=True)
class EventCatalog:
    types: tuple[EventType, ...]

    @classmethod
    def from_document(cls, doc: dict) -> EventCatalog:
        components = doc.get("components") or {}
        declared = doc.get(specs.EVENTS) or {}
        return cls(
            tuple(
                EventType(name, str(entry.get("description") or ""), _resolved(entry.get("payload") or {}, components))
                for name, entry in sorted(declared.items())
            )
        )

    @classmethod
    def load(cls) -> EventCatalog:
        """From every spec of the checkout: an event is in the catalog whichever APIs are mounted."""
        return cls.from_document(specs.load_merged())

    def names(self) -> frozenset[str]:
        return frozenset(t.type for t in self.types)

    def check(self, event_types: list[str] | None) -> list[str] | None:
        """The subscription as kept (duplicates dropped, order kept); Invalid for an unknown type."""
        if event_types is None:
            return None
        unknown = sorted(set(event_types) - self.names())
        if unknown:
            raise Invalid(f"unknown event types: {', '.join(unknown)}", "unknown_event_type")
        return list(dict.fromkeys(event_types))
