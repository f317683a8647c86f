"""An independent RFC 6962 tree hash (the recursive definition, over a list of leaves), the root
an inclusion proof leads to (RFC 9162 2.1.3.2), a checkpoint reader, and the checks an auditor
makes of an unzipped bundle (an audit export's or an arbitration package) with standard tools and
the published key: for checking the ledger's answers without its own code."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 2.1, straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0, "proof too short"
    return r


def checkpoint_fields(note: str) -> tuple[str, int, bytes]:
    origin, size, root = note.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


OPENSSL_VERIFY = ("pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin")


def check_as_an_auditor(out: Path, public_pem: str, events: str) -> tuple[dict, list[dict]]:
    """An unzipped bundle in `out`, checked as the README tells an auditor to: the manifest's
    signature with openssl and the published key (written to `out/pub.pem`), the manifest's digests
    and then SHA256SUMS (the proofs too) with sha256sum, and the inclusion proof of each event of
    the artifact `events` against the checkpoint's root. The manifest and those events."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed for the auditor path"
    (out / "pub.pem").write_text(public_pem)
    signed = subprocess.run(
        [openssl, *OPENSSL_VERIFY, "-in", "manifest.json", "-sigfile", "manifest.json.sig"],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert signed.returncode == 0 and "Signature Verified Successfully" in signed.stdout, signed
    manifest = json.loads((out / "manifest.json").read_bytes())
    listed = "".join(f"{a['sha256']}  {a['path']}\n" for a in manifest["artifacts"])
    assert (
        subprocess.run(["sha256sum", "--strict", "-c", "--quiet", "-"], cwd=out, input=listed, text=True).returncode
        == 0
    )
    assert subprocess.run(["sha256sum", "--strict", "-c", "--quiet", "SHA256SUMS"], cwd=out).returncode == 0
    assert all((out / a["path"]).stat().st_size == a["size"] for a in manifest["artifacts"])
    note = (out / "checkpoint").read_text()
    origin, size, root = checkpoint_fields(note)
    assert manifest["checkpoint"] == {"origin": origin, "size": size, "root": base64.b64encode(root).decode()}
    found = json.loads((out / events).read_bytes())
    assert found and manifest["proofs"] == {"count": len(found), "listed_in": "SHA256SUMS"}
    for e in found:
        proof = json.loads((out / "proofs" / f"{e['seq']}.json").read_bytes())
        assert (proof["seq"], proof["tree_size"], proof["checkpoint"]) == (e["seq"], size, note)
        leaf = hashlib.sha256(b"\x00" + base64.b64decode(e["canonical"])).digest()
        assert base64.b64decode(proof["leaf_hash"]) == base64.b64decode(e["leaf_hash"]) == leaf
        assert root_from_path(e["seq"], size, leaf, [base64.b64decode(h) for h in proof["hashes"]]) == root
    return manifest, found
