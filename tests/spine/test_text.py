r"""No string field holds NUL, and the served document says so (charter.text; issue 11, part 1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter import specs, text
from charter.formats import ecma_pattern
from tests.helpers import assert_error, create_tenant


def _strings(node, where="#"):
    """(where, schema) of every string schema in a document, as charter.text walks it."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{where}/{i}")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        yield where, node
    for key, value in node.items():
        if key == "properties":
            for name, schema in value.items():
                yield from _strings(schema, f"{where}/properties/{name}")
        elif key not in ("example", "examples", "default", "enum", "links") and not key.startswith("x-"):
            yield from _strings(value, f"{where}/{key}")


SERVED = specs.load_merged()
PATTERNS = sorted({s["pattern"] for _, s in _strings(SERVED) if "pattern" in s})


def test_every_string_of_the_served_document_refuses_nul_in_its_schema():
    open_ended = [
        where
        for where, schema in _strings(SERVED)
        if not ({"pattern", "enum", "const"} & set(schema))
        and schema.get("format") not in text.NUL_FREE_FORMATS
        and schema.get("x-nul-allowed") is not True
    ]
    assert open_ended == []
    assert r"^[^\x00]{1,200}$" in PATTERNS or any(p.startswith(r"^[^\x00]") for p in PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_pattern_refuses_nul(pattern):
    compiled = ecma_pattern(pattern)

    @settings(max_examples=60, deadline=None)
    @given(st.from_regex(compiled, fullmatch=True), st.integers(min_value=0))
    def nul_anywhere_fails(sample, at):
        at %= len(sample) + 1
        assert not compiled.search(sample[:at] + "\x00" + sample[at:])

    nul_anywhere_fails()


def test_the_pattern_keeps_the_length_bounds():
    assert text.no_nul_pattern(None, None) == r"^[^\x00]*$"
    assert text.no_nul_pattern(1, 200) == r"^[^\x00]{1,200}$"
    assert text.no_nul_pattern(3, None) == r"^[^\x00]{3,}$"
    schema = {
        "type": "object",
        "properties": {"example": {"type": "string"}, "id": {"type": "string", "format": "uuid"}},
    }
    text.forbid_nul(schema)
    assert schema["properties"]["example"]["pattern"] == r"^[^\x00]*$"  # a property named like a keyword
    assert "pattern" not in schema["properties"]["id"]


def test_nul_in_a_string_field_is_400_and_elsewhere_is_accepted(client):
    r = client.post("/v1/tenants", json={"slug": "nul-field", "name": "a\x00b"})
    assert_error(r, 400, "invalid_input")
    assert_error(client.get("/v1/audit", params={"product": "a\x00b"}), 400, "invalid_input")
    # an unknown extra property is ignored, NUL or not
    r = client.post("/v1/tenants", json={"slug": "nul-extra", "name": "Acme", "note\x00": "x\x00y"})
    assert r.status_code == 201, r.text
    # free-form JSON is kept as sent, on every store
    tenant = create_tenant(client)
    metadata = {"line": "a\x00b", "k\x00ey": ["\x00"], "nested": {"z": "\u0000end"}}
    r = client.post("/v1/audit", json={"tenant_id": tenant["id"], "action": "nul.kept", "metadata": metadata})
    assert r.status_code == 201, r.text
    assert r.json()["metadata"] == metadata
    back = client.get("/v1/audit", params={"tenant_id": tenant["id"], "action": "nul.kept"}).json()["items"]
    assert [e["metadata"] for e in back] == [metadata]


def test_a_lone_surrogate_is_still_refused_anywhere_in_a_body(client):
    r = client.post(
        "/v1/tenants",
        content=b'{"slug": "lone", "name": "Acme", "extra": "\\udc00"}',
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, "invalid_input")


def test_only_the_licensing_calls_that_answer_any_text_take_nul():
    """`x-nul-allowed` is for fields whose operation answers every value itself, never with 400:
    the key and fingerprint of the Keysat client's calls (validate answers garbage with 200)."""
    allowed = sorted(where for where, schema in _strings(SERVED) if schema.get("x-nul-allowed") is True)
    assert allowed == [
        "#/components/schemas/MachineRequest/properties/fingerprint",
        "#/components/schemas/MachineRequest/properties/key",
        "#/components/schemas/ValidateRequest/properties/fingerprint",
        "#/components/schemas/ValidateRequest/properties/key",
        "#/components/schemas/ValidateRequest/properties/product_slug",
    ]
