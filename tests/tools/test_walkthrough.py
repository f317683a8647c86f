"""The README's "adding an endpoint" walkthrough, replayed step by step on a copy of the project."""

from tests.tools.project_copy import charter, copy_project, get_status, pytest_in, readme_block


def _block(name: str) -> str:
    return readme_block(f"walkthrough: {name}")


def test_readme_walkthrough_works(tmp_path):
    project = copy_project(tmp_path / "p")
    spec = project / "specs" / "registry.yaml"
    # 1. edit the spec: the block goes under `paths:`, indented as the README shows it
    snippet = "\n".join("  " + line if line else line for line in _block("spec").splitlines())
    spec.write_text(spec.read_text().replace("\npaths:\n", "\npaths:\n" + snippet + "\n", 1))
    assert "names no handler" in charter(project, "check").stdout

    # 2. scaffold: a stub that answers 501
    out = charter(project, "scaffold", "specs/registry.yaml")
    assert out.returncode == 0 and "handlers.registry.catalog.get_product" in out.stdout, out.stderr
    module = project / "handlers" / "registry" / "catalog.py"
    assert "def get_product(key):" in module.read_text()
    assert get_status(project, "/v1/catalog/analytics") == (501, "not_implemented")

    # 3. fill in the stub with the README's function
    source = module.read_text()
    start = source.index("def get_product(key):")
    module.write_text(source[:start] + _block("handler"))

    # 4. the contract check passes
    checked = charter(project, "check")
    assert checked.returncode == 0, checked.stdout
    assert get_status(project, "/v1/catalog/analytics") == (200, "")

    # 5. the README's test passes through the real app
    (project / "tests" / "registry" / "test_catalog_product.py").write_text(_block("test"))
    run = pytest_in(project, "tests/registry/test_catalog_product.py")
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr

    # 6. `charter fuzz` covers the new operation with every other, and every check (ST205,
    # unsupported methods, included): /v1/catalog/request is not /v1/catalog/{key}
    # Only the registry's document is mounted: the new operation is the registry's, and
    # tests/fuzz fuzzes every API's on every store already.
    fuzzed = charter(
        project,
        "fuzz",
        "--max-examples",
        "10",
        env={"DATABASE_URL": "memory://", "CHARTER_SPECS": "registry"},
        timeout=600,
    )
    assert fuzzed.returncode == 0, fuzzed.stdout[:12000] + "\n…\n" + fuzzed.stdout[-3000:] + fuzzed.stderr[-2000:]
    assert "GET /v1/catalog/{key}" in fuzzed.stdout and "0 failing scenarios" in fuzzed.stdout, fuzzed.stdout[-3000:]
