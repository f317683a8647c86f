"""Scenario 7's parts: an audit export asked for, waited on and downloaded as a client does it,
and the downloaded bundle checked, so the benchmark times a correct export.

The check, on the bundle's bytes only (and the published keys of GET /v1/compliance/keys):
- the file's SHA-256 and size are those the export reports;
- services.compliance.bundle.check: the manifest's Ed25519 signature, every listed artifact's
  digest and size, and every line of SHA256SUMS (so every proofs/<seq>.json);
- the pinned `checkpoint` note opens with its key's note verifier key and names the manifest's
  origin, size and root;
- audit/events.json holds seqs 0..size-1 in order, each item's leaf hash is SHA-256(0x00 ||
  its canonical bytes), and the tree of all those leaves (store.merkle's compact range) has the
  checkpoint's root: every exported event is in the signed tree, none missing;
- the manifest's proof count is the event count, SHA256SUMS lists one line per proof beside the
  artifacts, and a sample of proofs (first, last, and random ones) leads from its event's leaf to
  the checkpoint's root (RFC 9162 2.1.3.2).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from bench.servers import JobProcess, Server

EXPORTS = "/v1/compliance/audit-exports"
SAMPLED_PROOFS = 2000


@dataclass
class Sample:
    at_s: float  # since the export was asked for
    status: str
    done: int
    total: int | None
    rss_mib: float | None  # the builder's resident set then


@dataclass
class Built:
    export: dict  # the export as GET answers it once ready
    seconds: float  # asked for (POST) to seen ready (GET, polled)
    samples: list[Sample] = field(default_factory=list)


def build(server: Server, headers: dict[str, str], body: dict, builder: JobProcess, timeout: float) -> Built:
    """POST the export, then poll it (and the builder's RSS) until it is ready; RuntimeError when
    it fails, the builder dies, or `timeout` seconds pass."""
    started = time.monotonic()
    made = server.expect(202, "POST", EXPORTS, body, headers)
    samples: list[Sample] = []
    while True:
        now = time.monotonic() - started
        got = server.expect(200, "GET", f"{EXPORTS}/{made['id']}", headers=headers)
        progress = got["progress"]
        samples.append(Sample(now, got["status"], progress["done"], progress.get("total"), builder.rss_mb()))
        if got["status"] == "ready":
            return Built(got, now, samples)
        if got["status"] in ("failed", "revoked"):
            raise RuntimeError(f"the export ended {got['status']}: {got.get('error')}")
        if not builder.alive():
            raise RuntimeError(f"{builder.label} exited with {builder.proc.returncode}; see {builder.log_path}")
        if now > timeout:
            raise RuntimeError(f"the export was not ready after {timeout:.0f} s: {progress}")
        time.sleep(0.5)


def download(server: Server, headers: dict[str, str], export_id: str, into: Path) -> float:
    """A fresh download token (?issue_download=1: the first may have expired during a long build),
    then the bundle streamed to `into`; the seconds the download took."""
    fresh = server.expect(200, "GET", f"{EXPORTS}/{export_id}?issue_download=1", headers=headers)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        started = time.perf_counter()
        conn.request("GET", fresh["download_url"])
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"the bundle download answered {response.status}: {response.read()[:300]!r}")
        with open(into, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        return time.perf_counter() - started
    finally:
        conn.close()


@dataclass
class Checked:
    events: int
    proofs: int
    sums_lines: int
    sampled: int
    seconds: float


def check(path: Path, export: dict, keys: list[dict]) -> Checked:
    """Everything the module docstring lists; RuntimeError naming the first thing that is wrong."""
    from services.compliance import bundle, notes
    from store import merkle

    started = time.perf_counter()
    digest, size = bundle.digest_of(path)
    if (digest, size) != (export["sha256"], export["size"]):
        raise RuntimeError(f"the downloaded bundle is {size} bytes, {digest}; the export says {export}")
    by_id = {k["key_id"]: k for k in keys}

    def public(key_id: str) -> Ed25519PublicKey | None:
        key = by_id.get(key_id)
        loaded = None if key is None else load_pem_public_key(key["public_key_pem"].encode())
        return loaded if isinstance(loaded, Ed25519PublicKey) else None

    verdict = bundle.check(path, public)
    if not verdict["ok"] or verdict["manifest_signature"] != "valid":
        raise RuntimeError(f"bundle.check: {verdict['guidance']} {verdict['problems'][:3]}")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
        pinned = manifest["checkpoint"]
        origin, cp_size, root = notes.parse_checkpoint(
            notes.open_note(zf.read(bundle.CHECKPOINT).decode(), by_id[manifest["key_id"]]["note_verifier_key"])
        )
        if (origin, cp_size, base64.b64encode(root).decode()) != (pinned["origin"], pinned["size"], pinned["root"]):
            raise RuntimeError(f"the checkpoint note ({origin}, {cp_size}) is not the manifest's {pinned}")
        if manifest["tenant"] != export["tenant_id"] or cp_size != export["checkpoint_size"]:
            raise RuntimeError(f"the manifest's tenant or size is not the export's: {manifest['tenant']}, {cp_size}")
        chosen = {0, cp_size - 1, *random.Random(cp_size).sample(range(cp_size), min(SAMPLED_PROOFS, cp_size))}
        leaves: dict[int, bytes] = {}
        compact: list[bytes] = []
        count = 0
        with zf.open("audit/events.json") as lines:
            for raw in lines:
                line = raw.strip().rstrip(b",")
                if line in (b"[", b"]", b""):
                    continue
                item = json.loads(line)
                leaf = merkle.leaf_hash(base64.b64decode(item["canonical"]))
                if item["seq"] != count or base64.b64decode(item["leaf_hash"]) != leaf:
                    raise RuntimeError(f"audit/events.json item {count} (seq {item['seq']}) is not leaf {count}")
                compact, _ = merkle.append(count, compact, leaf)
                if count in chosen:
                    leaves[count] = leaf
                count += 1
        if count != cp_size or merkle.root_of(compact) != root:
            raise RuntimeError(f"{count} exported events do not make the checkpoint's tree of size {cp_size}")
        proofs = manifest["proofs"]["count"]
        sums = zf.read(bundle.SUMS).decode().splitlines()
        listed = len(manifest["artifacts"]) - 1  # every artifact but SHA256SUMS has its line there
        if proofs != count or len(sums) != proofs + listed:
            raise RuntimeError(f"{proofs} proofs and {len(sums)} SHA256SUMS lines for {count} events")
        for seq in sorted(chosen):
            proof = json.loads(zf.read(f"proofs/{seq}.json"))
            hashes = [base64.b64decode(h) for h in proof["hashes"]]
            if (
                proof["tree_size"] != cp_size
                or base64.b64decode(proof["leaf_hash"]) != leaves[seq]
                or merkle.root_from_inclusion(seq, cp_size, leaves[seq], hashes) != root
            ):
                raise RuntimeError(f"proofs/{seq}.json does not lead to the checkpoint's root")
    return Checked(count, proofs, len(sums), len(chosen), time.perf_counter() - started)
