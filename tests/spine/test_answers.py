"""The served document lists the answers the spine gives on any operation (charter.answers)."""

from __future__ import annotations

from charter import answers, specs


def _doc() -> dict:
    return {
        "paths": {
            "/probe": {"get": {"responses": {"200": {"description": "ok"}}, "x-answers-omit": ["503"]}},
            "/plain": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/items/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {"responses": {"200": {"description": "ok"}}},
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"201": {"description": "made"}, "400": {"description": "our own words"}},
                },
            },
        },
        "components": {"schemas": {"Error": {"type": "object"}}},
    }


def _complete(doc: dict) -> dict:
    answers.complete(doc, ((doc["paths"][path], op) for _, path, op in specs.operations(doc)))
    return {f"{m.upper()} {p}": sorted(op["responses"]) for m, p, op in specs.operations(doc)}


def test_each_operation_gets_the_answers_it_can_get():
    assert _complete(_doc()) == {
        "GET /probe": ["200", "431"],
        "GET /plain": ["200", "431", "503"],
        "GET /items/{id}": ["200", "400", "431", "503"],  # a path parameter can fail its schema
        "POST /items/{id}": ["201", "400", "413", "415", "431", "503"],
    }


def test_what_a_spec_declares_is_kept_and_the_error_shape_is_the_documents():
    doc = _doc()
    _complete(doc)
    post = doc["paths"]["/items/{id}"]["post"]["responses"]
    assert post["400"] == {"description": "our own words"}
    assert post["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    bare = {"paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    _complete(bare)
    inline = bare["paths"]["/x"]["get"]["responses"]["431"]["content"]["application/json"]["schema"]
    assert inline["required"] == ["error", "message"]


def test_the_served_document_says_them_on_every_operation():
    for method, path, op in specs.operations(specs.load_merged()):
        expected = {"431"} | ({"400", "413", "415"} if "requestBody" in op else set())
        if path != "/healthz":
            expected.add("503")
        missing = expected - set(op["responses"])
        assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
