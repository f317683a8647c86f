"""The README's authentication example, run as written (on a free port) against a real server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

from tests.tools.project_copy import ROOT
from tools.server import free_port


def _example() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- auth example -->\n```sh\n(.*?)\n```", readme, re.DOTALL)
    assert match, "README lost its auth example"
    return match.group(1)


def _run(tmp_path, script: str, env: dict) -> str:
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        try:  # the example's server, should the script have stopped before its `kill`
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return out


def test_the_auth_example_works_as_written_and_again(tmp_path):
    port = free_port()
    script = _example().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")  # the example runs .venv/bin/charter from the checkout
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHARTER_ADMIN_KEY")}
    env.update({"CHARTER_PORT": str(port), "PYTHONPATH": str(ROOT)})
    for run in ("first", "second"):  # the second finds Acme and Ann there already
        out = _run(tmp_path, script, env)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        principal, token = json.loads(lines[0]), json.loads(lines[1])
        assert principal["kind"] == "user" and principal["roles"] == ["tenant_admin"], run
        assert principal["tenant"]["slug"] == "acme"
        assert token["token_type"] == "Bearer" and token["tenant_id"] == principal["tenant_id"]
        assert token["scope"] == "tenants:read"
        assert ("created user" if run == "first" else "updated user") in out
    assert (tmp_path / "charter.db").exists()
