"""The Go verifier (tests/ledger/goverifier, built on golang.org/x/mod/sumdb/note and sumdb/tlog
from Debian's golang-golang-x-mod-dev, offline): building it, running it on a document, and the
document of a bundle's proofs. The `goverifier` fixture (tests/conftest.py) builds it once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "ledger" / "goverifier"
GOPATH = os.environ.get("CHARTER_GOPATH", "/usr/share/gocode")


def build(out_dir: Path) -> str:
    """The verifier's binary, built in `out_dir`. Skips without `go`, unless CHARTER_REQUIRE_GO is
    set (CI sets it): then it fails."""
    go = shutil.which("go")
    if not go or not (Path(GOPATH) / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        why = "go or golang-golang-x-mod-dev is not installed (apt-get install golang-go golang-golang-x-mod-dev)"
        if os.environ.get("CHARTER_REQUIRE_GO"):
            pytest.fail(why)
        pytest.skip(why)
    out = out_dir / "goverifier"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "", "GOCACHE": str(out_dir / "cache")}
    subprocess.run([go, "build", "-o", str(out), "."], cwd=SOURCE, env=env, check=True, timeout=300)
    return str(out)


def run(binary: str, document: dict) -> subprocess.CompletedProcess:
    return subprocess.run([binary], input=json.dumps(document), capture_output=True, text=True, timeout=60)


def bundle_document(package: zipfile.ZipFile, vkey: str) -> dict:
    """What the verifier reads of a bundle (an export's or an arbitration package): every
    proofs/<seq>.json, against the bundle's checkpoint, whose origin it must carry."""
    checkpoint = package.read("checkpoint").decode()
    proofs = [json.loads(package.read(n)) for n in package.namelist() if n.startswith("proofs/")]
    assert proofs and all(p["checkpoint"] == checkpoint for p in proofs)
    return {"vkey": vkey, "origin": checkpoint.split("\n", 1)[0], "inclusion": proofs}


def assert_verifies(binary: str, document: dict) -> None:
    result = run(binary, document)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
