"""The README's "adding an API" walkthrough, replayed step by step on a copy of the project."""

from tests.tools.project_copy import ROOT, charter, copy_project, get_status, pytest_in, readme_block


def _block(name: str) -> str:
    return readme_block(f"api: {name}")


def test_readme_adding_an_api_works(tmp_path):
    project = copy_project(tmp_path / "p")
    before = {p.relative_to(project) for p in project.rglob("*") if p.is_file()}

    # 1. the spec
    (project / "specs" / "greetings.yaml").write_text(_block("spec"))
    # 2. its services, and the one registration line
    (project / "services" / "greetings").mkdir()
    (project / "services" / "greetings" / "__init__.py").write_text(_block("service"))
    apis = project / "server" / "apis.py"
    registered = apis.read_text()
    entry = _block("register").strip()
    anchor = '    "services.registry.api",\n'
    assert anchor in registered
    apis.write_text(registered.replace(anchor, anchor + "    " + entry + "\n", 1))
    assert "names no handler" in charter(project, "check").stdout

    # 3. scaffold: a stub that answers 501, then the README's handler
    out = charter(project, "scaffold", "specs/greetings.yaml")
    assert out.returncode == 0 and "handlers.greetings.greetings.get" in out.stdout, out.stderr
    assert get_status(project, "/v1/greetings/ann") == (501, "not_implemented")
    (project / "handlers" / "greetings" / "greetings.py").write_text(_block("handler"))

    # 4. the contract check passes, and the operation answers
    checked = charter(project, "check")
    assert checked.returncode == 0, checked.stdout
    assert get_status(project, "/v1/greetings/ann") == (200, "")

    # 5. the README's test passes through the real app
    (project / "tests" / "greetings").mkdir()
    (project / "tests" / "greetings" / "test_greetings.py").write_text(_block("test"))
    run = pytest_in(project, "tests/greetings/test_greetings.py")
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr

    # What the API touched: its own files, and server/apis.py for its one line.
    after = {
        p.relative_to(project)
        for p in project.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts and p.suffix != ".db"
    }
    touched = sorted(str(p) for p in after - before)
    assert touched == [
        "handlers/greetings/__init__.py",
        "handlers/greetings/greetings.py",
        "services/greetings/__init__.py",
        "specs/greetings.yaml",
        "tests/greetings/test_greetings.py",
    ], touched
    changed = [str(p) for p in sorted(before & after) if (project / p).read_bytes() != (ROOT / p).read_bytes()]
    assert changed == ["server/apis.py"], changed
