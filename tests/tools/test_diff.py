"""`charter diff`: Optic's breaking-changes rules between every spec and the same spec at BASE, in
a throwaway git repository holding a copy of specs/. Each kind of breaking change fails the gate
with the change named, the same changes acknowledged in specs/CHANGES.md pass, additive ones pass.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools.project_copy import ROOT, charter, copy_project
from tools import diff

REQUIRED = bool(os.environ.get("CHARTER_REQUIRE_KIT") or os.environ.get("CHARTER_REQUIRE_CLIENTS"))


@pytest.fixture(autouse=True)
def _optic():
    if diff.optic() is None:
        if REQUIRED:
            pytest.fail("Optic is required (CHARTER_REQUIRE_KIT) but not installed: run `npm ci`")
        pytest.skip("Optic is not installed (npm ci)")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def init(repo: Path) -> Path:
    """repo as a git repository on `main` whose one commit holds what is in it; its specs/."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo / "specs"


@pytest.fixture
def specs(tmp_path) -> Path:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    return init(tmp_path)


def edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def breaking_edits(specs: Path) -> None:
    def gateway(doc):
        del doc["paths"]["/readyz"]  # a removed operation

    def registry(doc):
        del doc["components"]["schemas"]["Tenant"]["properties"]["sales_owner"]  # a removed response field
        by_slug = doc["paths"]["/v1/tenants/by-slug/{slug}"]["get"]
        by_slug["parameters"].append({"in": "query", "name": "view", "required": True, "schema": {"type": "string"}})
        create = doc["components"]["schemas"]["TenantCreate"]["properties"]
        create["kind"]["enum"] = ["customer"]  # a narrowed enum
        doc["components"]["schemas"]["TenantActivate"]["properties"]["plan"] = {"type": "integer"}  # a narrowed type
        del doc["paths"]["/v1/tenants/{id}"]["get"]["responses"]["404"]  # a removed status code

    def shared(doc):
        del doc["components"]["schemas"]["Error"]["properties"]["message"]  # seen through every spec using it

    edit(specs / "gateway.yaml", gateway)
    edit(specs / "registry.yaml", registry)
    edit(specs / "shared" / "components.yaml", shared)


BREAKING = (
    "BREAKING `gateway.yaml GET /readyz` cannot remove an operation",
    "BREAKING `registry.yaml GET /v1/tenants/{id} response 200 response body: application/json property sales_owner`"
    " cannot remove response property 'sales_owner'",
    "BREAKING `registry.yaml GET /v1/tenants/by-slug/{slug} query parameter: view`"
    " cannot add required query parameter view to an existing operation",
    "BREAKING `registry.yaml POST /v1/tenants request body: application/json property: kind`"
    " cannot remove enum option 'demo' from 'kind' property",
    "BREAKING `registry.yaml POST /v1/tenants/{id}/activate request body: application/json property: plan`"
    " expected request body property 'plan' not to be narrowed",
    "BREAKING `registry.yaml GET /v1/tenants/{id} response 404` must not remove response status code 404",
    "BREAKING `gateway.yaml GET /healthz response 400 response body: application/json property message`"
    " cannot remove response property 'message'",
    "BREAKING `registry.yaml GET /v1/audit response 400 response body: application/json property message`",
)

ACKNOWLEDGED = """\
# Breaking changes to the specs

    - `registry.yaml` an example in the header is not an entry

## Unreleased
- `gateway.yaml GET /readyz` the readiness probe is gone
- `registry.yaml * property sales_owner` no longer kept
- `registry.yaml GET /v1/tenants/by-slug/{slug} query parameter: view` say which view
- `registry.yaml POST /v1/tenants request body: application/json property: kind` demo tenants are retired
- `registry.yaml POST /v1/tenants/{id}/activate request body: application/json property: plan` plans are numbered
- `registry.yaml GET /v1/tenants/{id} response 404` an unknown id answers 403
- `*.yaml * property message` errors carry their code only

## v0.1.0
- `registry.yaml` an entry of a release acknowledges nothing now
"""


def test_no_change_passes_against_the_merge_base_with_main_which_is_head(specs, capsys):
    assert diff.run(specs_dir=specs) == 0
    out = capsys.readouterr().out
    assert "(the merge base with main, which is HEAD) against the working tree" in out
    assert f"{len(list(specs.glob('*.yaml')))} spec(s): no breaking change" in out


def test_each_kind_of_breaking_change_fails_the_gate_named(specs, capsys):
    breaking_edits(specs)
    assert diff.run(specs_dir=specs) == 1
    out = capsys.readouterr().out
    for line in BREAKING:
        assert line in out, out
    # What a removed status code held is named by the removal alone.
    assert "`registry.yaml GET /v1/tenants/{id} response 404 response body" not in out


def test_the_same_changes_acknowledged_in_changes_md_pass(specs, capsys):
    breaking_edits(specs)
    (specs / "CHANGES.md").write_text(ACKNOWLEDGED)
    assert diff.run(specs_dir=specs) == 0, capsys.readouterr().out
    assert "each acknowledged in specs/CHANGES.md" in capsys.readouterr().out


def test_what_an_entry_acknowledges(tmp_path):
    changes = tmp_path / "CHANGES.md"
    changes.write_text(ACKNOWLEDGED + "## Unreleased\n- gateway.yaml GET /healthz not in backticks\n")
    entries = diff.acknowledged(changes)
    assert len(entries) == 7  # the first `## Unreleased` only, and there only the lines "- `…`"

    def covered(key):
        return any(e.match(key) for e in entries)

    assert covered("gateway.yaml GET /readyz")
    assert covered("gateway.yaml GET /readyz response 200")  # what lies under it
    assert not covered("gateway.yaml GET /readyzz")
    assert not covered("gateway.yaml GET /healthz")
    assert covered(
        "registry.yaml GET /v1/tenants/{id} response 200 response body: application/json property sales_owner"
    )
    assert not covered("identity.yaml GET /v1/me response 200 response body: application/json property sales_owner")
    assert covered("identity.yaml POST /v1/auth/login response 401 response body: application/json property message")
    assert not covered("registry.yaml POST /v1/tenants response 201 response body: application/json property plan")
    assert diff.acknowledged(tmp_path / "missing.md") == []


def test_additive_changes_and_a_new_spec_pass(specs, capsys):
    def registry(doc):
        doc["components"]["schemas"]["Tenant"]["properties"]["nickname"] = {"type": "string"}  # optional field
        get = doc["paths"]["/v1/tenants/{id}"]["get"]
        get["parameters"].append({"in": "query", "name": "view", "required": False, "schema": {"type": "string"}})
        notes = {**copy.deepcopy(get), "operationId": "handlers.registry.tenants.notes"}
        doc["paths"]["/v1/tenants/{id}/notes"] = {"get": notes}  # a new operation

    edit(specs / "registry.yaml", registry)
    new = yaml.safe_load((specs / "gateway.yaml").read_text())
    new["paths"] = {f"/v1/status{path}": item for path, item in new["paths"].items()}
    (specs / "status.yaml").write_text(yaml.safe_dump(new))
    assert diff.run(specs_dir=specs) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "status.yaml is new" in out
    assert f"{len(list(specs.glob('*.yaml')))} spec(s): no breaking change" in out  # status.yaml counted


def test_a_removed_spec_fails_and_committed_changes_count_against_main(tmp_path):
    """On a branch, through the `charter` command of a project copy: BASE is the merge base with
    main, so a committed change is gated as an uncommitted one is."""
    project = copy_project(tmp_path / "project")
    (project / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    init(project)
    git(project, "checkout", "-q", "-b", "topic")
    (project / "specs" / "gateway.yaml").unlink()
    git(project, "commit", "-q", "-am", "no gateway")
    done = charter(project, "diff")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "(the merge base with main) against the working tree" in done.stdout
    assert "BREAKING `gateway.yaml GET /healthz` cannot remove an operation" in done.stdout
    assert charter(project, "diff", "HEAD").returncode == 0


def test_the_default_base(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a").write_text("1")
    init(repo)
    first = git(repo, "rev-parse", "HEAD")
    assert diff.default_base(repo) == (first, "the merge base with main")
    git(repo, "checkout", "-q", "-b", "topic")
    git(repo, "commit", "-q", "--allow-empty", "-m", "more")
    assert diff.default_base(repo) == (first, "the merge base with main")
    git(repo, "tag", "v1.0.0")
    assert diff.default_base(repo) == ("v1.0.0", "the last release tag")
    git(repo, "branch", "-q", "-m", "main", "trunk")
    git(repo, "tag", "-d", "v1.0.0")
    assert diff.default_base(repo) == ("HEAD", "HEAD")
