"""`charter lint`: Redocly's recommended rules pass on every spec and the served document, and a
spec that breaks one fails the gate (a warning too)."""

from __future__ import annotations

import os
import shutil

import pytest

from tools import lint

REQUIRED = bool(os.environ.get("CHARTER_REQUIRE_CLIENTS"))


@pytest.fixture(autouse=True)
def _redocly():
    if lint.redocly() is None:
        if REQUIRED:
            pytest.fail("Redocly CLI is required (CHARTER_REQUIRE_CLIENTS) but not installed: run `npm ci`")
        pytest.skip("Redocly CLI is not installed (npm ci)")


def test_every_spec_and_the_served_document_pass(capsys):
    assert lint.run() == 0, capsys.readouterr().out[-3000:]


def test_a_spec_breaking_a_rule_fails_the_gate(tmp_path, capsys):
    specs = tmp_path / "specs"
    shutil.copytree(lint.SPECS_DIR, specs)
    gateway = specs / "gateway.yaml"
    gateway.write_text(
        gateway.read_text().replace("    description: Liveness, readiness and the health of every dependency.\n", "")
    )  # a warning
    assert lint.run(specs_dir=specs, document={"openapi": "3.0.3"}) != 0
    out = capsys.readouterr().out
    assert "tag-description" in out
