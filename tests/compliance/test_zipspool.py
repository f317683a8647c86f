"""The bundle Writer keeps its ZIP's member list on disk (services.compliance.zipspool): the
archive it writes is the one zipfile writes with the list in memory, and Info-ZIP's unzip (an
independent implementation) tests every member of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.compliance import zipspool
from services.compliance.bundle import Writer

MEMBERS = 3000  # past zipfile's ZIP64 count threshold is not needed to show the list is whole
KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))


def _write(path: Path, *, spooled: bool) -> None:
    writer = Writer(path)
    if not spooled:
        writer._zip.filelist = []  # zipfile's own list, in memory
    writer.json_array("audit/events.json", ({"seq": n} for n in range(MEMBERS)))
    for seq in range(MEMBERS):
        writer.proof({"seq": seq, "tree_size": MEMBERS, "leaf_hash": "x", "hashes": [], "checkpoint": "c"})
    writer.finish({"format": "test"}, KEY)


def _central(path: Path) -> list[tuple]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.CRC, i.compress_size, i.file_size, i.header_offset, i.extra) for i in zf.infolist()]


def test_the_spooled_list_writes_the_same_archive(tmp_path):
    spooled, stock = tmp_path / "spooled.zip", tmp_path / "stock.zip"
    _write(spooled, spooled=True)
    _write(stock, spooled=False)
    central = _central(spooled)
    assert len(central) == MEMBERS + 4  # events, proofs, SHA256SUMS, manifest and its signature
    assert central == _central(stock)


def test_unzip_tests_every_member(tmp_path):
    """Skips without Info-ZIP's unzip, as the Go verifier's tests skip without go, unless
    CHARTER_REQUIRE_GO is set (CI sets it, and .ci/run installs both)."""
    if shutil.which("unzip") is None:
        if os.environ.get("CHARTER_REQUIRE_GO"):
            pytest.fail("Info-ZIP unzip is not installed (Debian's unzip), and CHARTER_REQUIRE_GO is set")
        pytest.skip("Info-ZIP unzip is not installed (Debian's unzip)")
    path = tmp_path / "bundle.zip"
    _write(path, spooled=True)
    done = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No errors detected" in done.stdout


def test_only_a_new_archive_is_spooled(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.writestr("a", b"a")
        with pytest.raises(ValueError):
            zipspool.spool(zf)
