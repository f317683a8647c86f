"""C2SP signed notes and tlog checkpoints, exactly as Go's golang.org/x/mod/sumdb/note reads them.

A checkpoint's text is `<origin>\\n<size>\\n<base64 root>\\n`; the note is the text, a blank
line, and one line per signature, `— <name> <base64(key hash (4 bytes, big-endian) || sig)>`.
An Ed25519 key's hash is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key), and
its verifier key string `<name>+<8 hex digits of the hash>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = b"\x01"
DASH = "\u2014"


class BadNote(ValueError):
    pass


def key_hash(name: str, public_key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_key).digest()[:4], "big")


def key_id(name: str, public_key: bytes) -> str:
    """The key's id as Charter names it: its verifier key's name and hash, `<name>+<hex>`."""
    return f"{name}+{key_hash(name, public_key):08x}"


def verifier_key(name: str, public_key: bytes) -> str:
    return f"{key_id(name, public_key)}+{base64.b64encode(ALG_ED25519 + public_key).decode()}"


def valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """The signed note of `text` (which ends with a newline)."""
    public = private.public_key().public_bytes_raw()
    sig = key_hash(name, public).to_bytes(4, "big") + private.sign(text.encode())
    return f"{text}\n{DASH} {name} {base64.b64encode(sig).decode()}\n"


def parse_verifier_key(vkey: str) -> tuple[str, int, bytes]:
    """(name, key hash, Ed25519 public key) of a verifier key string; BadNote when malformed."""
    try:
        name, hexhash, key64 = vkey.split("+", 2)
        key = base64.b64decode(key64, validate=True)
        declared = int(hexhash, 16)
    except (ValueError, binascii.Error):
        raise BadNote("not a verifier key") from None
    if len(hexhash) != 8 or key[:1] != ALG_ED25519 or len(key) != 33 or not valid_name(name):
        raise BadNote("not an Ed25519 verifier key")
    if key_hash(name, key[1:]) != declared:
        raise BadNote("the verifier key's hash does not match its key")
    return name, declared, key[1:]


def open_note(note: str, vkey: str) -> str:
    """The text of `note` when a signature by `vkey` verifies over it; BadNote otherwise.
    Signatures by other keys are ignored, as sumdb/note does."""
    name, khash, public = parse_verifier_key(vkey)
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise BadNote("not a signed note")
    text, sigs = note[: cut + 1], note[cut + 2 :]
    verifier = Ed25519PublicKey.from_public_bytes(public)
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except (ValueError, binascii.Error):
            continue
        if len(raw) != 68 or int.from_bytes(raw[:4], "big") != khash:
            continue
        try:
            verifier.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise BadNote("the signature does not verify") from None
        return text
    raise BadNote(f"no signature by {name}")


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint's text; BadNote when malformed."""
    lines = text.split("\n")
    try:
        origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    except (IndexError, ValueError, binascii.Error):
        raise BadNote("not a checkpoint") from None
    if not origin or size < 0 or len(root) != 32 or str(size) != lines[1]:
        raise BadNote("not a checkpoint")
    return origin, size, root
