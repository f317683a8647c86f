"""`charter lint`: Redocly CLI's recommended ruleset (redocly.yaml) over every spec in specs/ and
over the document the app serves, as a client or a generator reads it.

Redocly comes from npm at the version package.json pins (`npm ci`); the shared components
document is checked through the specs that use it, not alone (it is a library: most of it is
unused by any one spec).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from charter import specs
from charter.config import ROOT, SPECS_DIR

REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"


def redocly() -> str | None:
    """The pinned Redocly CLI of this checkout, else one on PATH; None when neither is there."""
    return str(REDOCLY) if REDOCLY.exists() else shutil.which("redocly")


def served_document() -> dict:
    """What /openapi.json answers, from an app over an in-process store."""
    from server.app import create_app
    from store.memory import MemoryStore

    app = create_app(store=MemoryStore())
    with app.test_client() as client:
        response = client.get("/openapi.json")
    response.raise_for_status()
    return response.json()


def run(specs_dir: Path = SPECS_DIR, document: dict | None = None) -> int:
    """Lint; the exit status of Redocly (0: no error and no warning), 2 when it cannot be run."""
    tool = redocly()
    if tool is None:
        print("charter lint: Redocly CLI is not installed: run `npm ci` in the checkout", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "served-openapi.json"
        served.write_text(json.dumps(document if document is not None else served_document()))
        files = [str(p) for p in specs.spec_files((), specs_dir)] + [str(served)]
        done = subprocess.run(
            [tool, "lint", "--config", str(ROOT / "redocly.yaml"), "--max-problems", "200", *files],
            capture_output=True,
            text=True,
            check=False,
        )
    report = done.stdout + done.stderr
    sys.stdout.write(report)
    # Redocly exits 0 with warnings: a warning fails the gate too, unless its rule is off.
    if done.returncode == 0 and re.search(r"You have \d+ warnings?", report):
        return 1
    return done.returncode
