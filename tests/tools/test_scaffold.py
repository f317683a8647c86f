"""`charter scaffold` writes 501 stubs for missing handlers and never overwrites code."""

import yaml

from tests.tools.project_copy import charter, copy_project, get_status

NEW_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Notes", "version": "1"},
    "paths": {
        "/v1/notes": {
            "get": {
                "operationId": "handlers.notes.notes.list_notes",
                "security": [],
                "parameters": [{"in": "query", "name": "limit", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok"}, "501": {"description": "stub"}},
            },
            "post": {
                "operationId": "handlers.notes.notes.create_note",
                "summary": "Write a note.",
                "security": [],
                "parameters": [{"$ref": "shared/components.yaml#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "201": {"description": "ok"},
                    "409": {"description": "a request with the key is running"},
                    "422": {"description": "the key was used for another request"},
                    "501": {"description": "stub"},
                },
            },
        },
        "/v1/notes/{note_id}": {
            "get": {
                "operationId": "handlers.notes.notes.get_note",
                "security": [],
                "parameters": [{"in": "path", "name": "note_id", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}, "501": {"description": "stub"}},
            },
        },
    },
}


def register_api(project, name: str) -> None:
    """What adding an API means besides its spec and handlers: its registration, and its line."""
    package = project / "services" / name
    package.mkdir()
    (package / "__init__.py").write_text(
        f'from charter.api import Api\n\nAPI = Api(name="{name}", handlers="handlers.{name}")\n'
    )
    apis = project / "server" / "apis.py"
    anchor = '    "services.registry.api",\n'
    apis.write_text(apis.read_text().replace(anchor, f'{anchor}    "services.{name}",\n'))


def test_scaffold_new_api_serves_501_and_passes_check(tmp_path):
    project = copy_project(tmp_path / "p")
    (project / "specs" / "notes.yaml").write_text(yaml.safe_dump(NEW_SPEC, sort_keys=False))
    before = charter(project, "check")
    assert before.returncode == 1 and "handlers.notes.notes.get_note names no handler" in before.stdout

    out = charter(project, "scaffold", "specs/notes.yaml")
    assert out.returncode == 0, out.stderr
    module = project / "handlers" / "notes" / "notes.py"
    source = module.read_text()
    assert "def list_notes(limit=None):" in source
    assert "def create_note(body):" in source
    assert "def get_note(note_id):" in source
    assert (project / "handlers" / "notes" / "__init__.py").exists()
    checked = charter(project, "check")
    assert checked.returncode == 1 and "specs/notes.yaml is registered as no API" in checked.stdout

    register_api(project, "notes")
    checked = charter(project, "check")
    assert checked.returncode == 0, checked.stdout
    assert get_status(project, "/v1/notes/abc") == (501, "not_implemented")


def test_scaffold_never_overwrites(tmp_path):
    project = copy_project(tmp_path / "p")
    (project / "specs" / "notes.yaml").write_text(yaml.safe_dump(NEW_SPEC, sort_keys=False))
    folder = project / "handlers" / "notes"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""mine"""\n')
    (folder / "notes.py").write_text('"""Notes."""\n\n\ndef list_notes(limit=None):\n    return {"mine": True}\n')
    out = charter(project, "scaffold", "specs/notes.yaml")
    assert out.returncode == 0
    source = (folder / "notes.py").read_text()
    assert 'return {"mine": True}' in source and source.count("def list_notes") == 1
    assert "def create_note(body):" in source and "def get_note(note_id):" in source
    assert (folder / "__init__.py").read_text() == '"""mine"""\n'
    again = charter(project, "scaffold", "specs/notes.yaml")
    assert (folder / "notes.py").read_text() == source
    assert "already has a handler" in again.stdout
    # the registry's handlers are all there: nothing to write
    assert "already has a handler" in charter(project, "scaffold", "specs/registry.yaml").stdout
