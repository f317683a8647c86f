"""Bundles as files: writing one, streamed to disk (or to any binary file), and checking one.
Audit exports are bundles, and so are arbitration packages (services.disputes.arbitration, whose
manifest names its case instead of a filter and a build).

A bundle is a ZIP of:
- the artifacts, JSON files (`audit/events.json`, `licensing/licenses.json`, …), each written as
  it is read from the store, never whole in memory;
- `checkpoint`: the signed checkpoint (C2SP signed note) the export pins;
- `proofs/<seq>.json`: each exported event's inclusion proof in that checkpoint's tree, in the
  shape of GET /v1/compliance/ledger/proofs/inclusion;
- `SHA256SUMS`: `sha256sum -c` lines for every file above, proofs included;
- `manifest.json`: the RFC 8785 (JCS) bytes of `{format, tenant, filter, generated_at, build,
  key_id, checkpoint: {origin, size, root}, artifacts: [{path, sha256, size}], proofs}`, where
  `artifacts` lists every file but the proofs (which SHA256SUMS lists, itself an artifact), so the
  manifest stays small however many events a bundle holds;
- `manifest.json.sig`: the raw Ed25519 signature of exactly those bytes, by the key `key_id` of
  GET /v1/compliance/keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.compliance import zipspool
from services.compliance.ledger import b64
from store.canonical import jcs
from store.models import Checkpoint

FORMAT = "charter-audit-export/v1"
MANIFEST, SIGNATURE, CHECKPOINT, SUMS = "manifest.json", "manifest.json.sig", "checkpoint", "SHA256SUMS"
CHUNK = 1 << 16


@dataclass
class Artifact:
    path: str
    sha256: str
    size: int


@dataclass
class Writer:
    """A bundle being written to `path` (a file's, or a binary file open for writing): artifacts go
    in one by one, each hashed as it streams."""

    path: Path | IO[bytes]
    artifacts: list[Artifact] = field(default_factory=list)
    proofs: int = 0
    _zip: zipfile.ZipFile = field(init=False)
    _infos: zipspool.SpooledInfos = field(init=False)
    _sums: IO[str] = field(init=False)

    def __post_init__(self) -> None:
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self._infos = zipspool.spool(self._zip)  # a member per exported event: the list stays on disk
        self._sums = tempfile.TemporaryFile("w+", encoding="utf-8")  # SHA256SUMS grows on disk

    @contextmanager
    def artifact(self, name: str, *, listed: bool = True) -> Iterator[Callable[[bytes], None]]:
        """A member `name`, written by the function this yields; `listed`: in the manifest's
        artifacts (a proof is not: SHA256SUMS lists it)."""
        digest, size = hashlib.sha256(), 0

        def write(data: bytes) -> None:
            nonlocal size
            digest.update(data)
            size += len(data)
            out.write(data)

        with self._zip.open(name, "w", force_zip64=True) as out:
            yield write
        self._sums.write(f"{digest.hexdigest()}  {name}\n")
        if listed:
            self.artifacts.append(Artifact(name, digest.hexdigest(), size))
        else:
            self.proofs += 1
            self._zip.NameToInfo.pop(name, None)  # only the central directory needs it: keep less

    def json_array(self, name: str, items: Iterable[Any]) -> int:
        """`items` as one JSON array, one item per line; how many there were."""
        count = 0
        with self.artifact(name) as write:
            write(b"[")
            for item in items:
                write((b"\n" if count == 0 else b",\n") + json_bytes(item))
                count += 1
            write(b"\n]\n")
        return count

    def small(self, name: str, data: bytes, *, listed: bool = True) -> None:
        with self.artifact(name, listed=listed) as write:
            write(data)

    def proof(self, proof: dict[str, Any]) -> None:
        """`proofs/<seq>.json`: an inclusion proof, in the shape of the inclusion route."""
        self.small(f"proofs/{proof['seq']}.json", json_bytes(proof), listed=False)

    def finish(self, manifest: dict[str, Any], private: Ed25519PrivateKey) -> bytes:
        """Write SHA256SUMS, the manifest (its artifacts filled in) and its signature; close the
        ZIP. Returns the manifest's bytes."""
        self._sums.seek(0)
        with self.artifact(SUMS) as write:
            for line in self._sums:
                write(line.encode())
        self._sums.close()
        manifest = {
            **manifest,
            "artifacts": [vars(a) for a in self.artifacts],
            "proofs": {"count": self.proofs, "listed_in": SUMS},
        }
        data = jcs(manifest)
        self._zip.writestr(MANIFEST, data)
        self._zip.writestr(SIGNATURE, private.sign(data))
        self._zip.close()
        self._infos.close()
        return data

    def abandon(self) -> None:
        self._zip.close()
        self._infos.close()
        self._sums.close()


def pinned(cp: Checkpoint) -> dict[str, Any]:
    """The manifest's `checkpoint`: the pinned one's origin (its note's first line), size and root."""
    return {"origin": cp.note.split("\n", 1)[0], "size": cp.size, "root": b64(cp.root)}


def json_bytes(item: Any) -> bytes:
    """An item as a bundle writes it: compact, keys sorted, UTF-8."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def digest_of(path: Path) -> tuple[str, int]:
    """The file's hex SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ------------------------------------------------------------------------------------ checking


@dataclass
class Problem:
    path: str
    expected: str
    found: str


def _member_digest(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_member(zf: zipfile.ZipFile, name: str, sha256: str, size: int | None, problems: list[Problem]) -> None:
    try:
        found, found_size = _member_digest(zf, name)
    except KeyError:
        problems.append(Problem(name, sha256, "missing from the bundle"))
        return
    except Exception as exc:  # a corrupted member: a bad CRC, a broken deflate stream, a bad header
        problems.append(Problem(name, sha256, f"unreadable: {type(exc).__name__}: {exc}"))
        return
    if found != sha256 or (size is not None and found_size != size):
        problems.append(Problem(name, sha256, found))


def check(path: Path, public_key: Callable[[str], Ed25519PublicKey | None]) -> dict:
    """Re-verify a bundle on disk: the manifest's signature (by the key its key_id names, looked
    up with `public_key`), every listed artifact's digest and size, and every line of SHA256SUMS.
    `{ok, checked, manifest_signature, problems: [{path, expected, found}], guidance}`."""
    problems: list[Problem] = []
    checked = 0
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return _verdict(False, 0, "unchecked", [Problem(path.name, "a readable ZIP", f"unreadable: {exc}")])
    with zf:
        try:
            data, signature = zf.read(MANIFEST), zf.read(SIGNATURE)
            manifest = json.loads(data)
        except Exception as exc:
            return _verdict(False, 0, "unchecked", [Problem(MANIFEST, "a readable manifest", f"unreadable: {exc}")])
        key = public_key(str(manifest.get("key_id")))
        signed = "unknown_key" if key is None else "valid"
        if key is not None:
            try:
                key.verify(signature, data)
            except InvalidSignature:
                signed = "invalid"
        if signed != "valid":
            problems.append(Problem(MANIFEST, f"signed by {manifest.get('key_id')}", f"signature {signed}"))
        for entry in manifest.get("artifacts") or []:
            _check_member(zf, str(entry.get("path")), str(entry.get("sha256")), entry.get("size"), problems)
            checked += 1
        listed = {str(e.get("path")) for e in manifest.get("artifacts") or []}
        if SUMS in listed and not any(p.path == SUMS for p in problems):
            for line in zf.read(SUMS).decode("utf-8", "replace").splitlines():
                sha256, _, name = line.partition("  ")
                if name and name not in listed:
                    _check_member(zf, name, sha256, None, problems)
                    checked += 1
    return _verdict(not problems, checked, signed, problems)


def _verdict(ok: bool, checked: int, signed: str, problems: list[Problem]) -> dict:
    if ok:
        guidance = "The manifest's signature and every artifact's digest verify."
    else:
        first = problems[0]
        guidance = (
            f"{len(problems)} problem(s); first: {first.path}: expected {first.expected}, found {first.found}. "
            "Do not rely on this bundle: create the export again."
        )
    return {
        "ok": ok,
        "checked": checked,
        "manifest_signature": signed,
        "problems": [vars(p) for p in problems[:100]],
        "guidance": guidance,
    }


def remove(path: Path) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
