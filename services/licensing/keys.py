"""License keys: `LIC1-<base32 payload>-<base32 signature>`, as Keysat's client reads them.

The payload is version 2, every integer big-endian:

    version (1) = 2 · flags (1: bit 0 fingerprint-bound, bit 1 trial) · product id (16, RFC 4122
    byte order) · license id (16) · issued_at (8, unix seconds) · expires_at (8, unix seconds, 0 =
    perpetual) · SHA-256 of the fingerprint (32, raw; zeros when unbound) · N (1) · N × (length
    (1), ASCII slug)

and the signature is Ed25519 over exactly those bytes. Base32 is RFC 4648's alphabet, upper case,
without padding. Ed25519 is deterministic, so one license's fields and key give the same key text
every time: the server keeps fields, never keys.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "LIC1"
VERSION = 2
BOUND = 0x01
TRIAL = 0x02
_HEAD = struct.Struct(">BB16s16sQQ32sB")  # 83 bytes: everything before the entitlements
_V1_LENGTH = 74
SIGNATURE_BYTES = 64
MAX_ENTITLEMENTS = 255


class BadFormat(ValueError):
    """Not a LIC1 key this server could have issued: the reason `bad_format`."""


@dataclass(frozen=True)
class Payload:
    product_id: UUID
    license_id: UUID
    issued_at: int
    expires_at: int  # 0: perpetual
    entitlements: tuple[str, ...] = ()
    trial: bool = False
    fingerprint_sha256: bytes | None = None  # raw 32 bytes when the key is bound to a machine

    def encode(self) -> bytes:
        if len(self.entitlements) > MAX_ENTITLEMENTS:
            raise ValueError(f"at most {MAX_ENTITLEMENTS} entitlements fit in a key")
        flags = (BOUND if self.fingerprint_sha256 else 0) | (TRIAL if self.trial else 0)
        head = _HEAD.pack(
            VERSION,
            flags,
            self.product_id.bytes,
            self.license_id.bytes,
            self.issued_at,
            self.expires_at,
            self.fingerprint_sha256 or bytes(32),
            len(self.entitlements),
        )
        parts = [head]
        for slug in self.entitlements:
            raw = slug.encode("ascii")  # UnicodeEncodeError for a slug the client could not read
            if not 0 < len(raw) <= 255:
                raise ValueError(f"an entitlement slug is 1 to 255 bytes, not {len(raw)}")
            parts += [bytes([len(raw)]), raw]
        return b"".join(parts)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    text = text.upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise BadFormat("not RFC 4648 base32") from None


def sign(payload: Payload, key: Ed25519PrivateKey) -> str:
    data = payload.encode()
    return f"{PREFIX}-{_b32(data)}-{_b32(key.sign(data))}"


def split(text: str) -> tuple[bytes, bytes]:
    """The payload and signature bytes of a key; BadFormat when it is none, as the client decides."""
    parts = text.strip().split("-")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise BadFormat("a key is LIC1-<payload>-<signature>")
    data, signature = _unb32(parts[1]), _unb32(parts[2])
    if len(signature) != SIGNATURE_BYTES:
        raise BadFormat("the signature is not 64 bytes")
    return data, signature


def license_id_of(text: str) -> UUID | None:
    """The license id a key names, or None when it is no key; nothing verified."""
    try:
        return parse(split(text)[0]).license_id
    except BadFormat:
        return None


def parse(data: bytes) -> Payload:
    """The fields of version-2 payload bytes (a version-1 payload, 74 bytes, has no expiry and no
    entitlements); BadFormat for anything else, trailing bytes included."""
    if not data or data[0] not in (1, VERSION):
        raise BadFormat("unknown key version")
    if data[0] == 1:
        if len(data) != _V1_LENGTH:
            raise BadFormat("a version-1 payload is 74 bytes")
        _, flags, product, license_id, issued, fingerprint = struct.unpack(">BB16s16sQ32s", data)
        return Payload(
            UUID(bytes=product),
            UUID(bytes=license_id),
            issued,
            0,
            (),
            bool(flags & TRIAL),
            fingerprint if flags & BOUND else None,
        )
    if len(data) < _HEAD.size:
        raise BadFormat("a version-2 payload is at least 83 bytes")
    _, flags, product, license_id, issued, expires, fingerprint, count = _HEAD.unpack_from(data)
    at, slugs = _HEAD.size, []
    for _ in range(count):
        if at >= len(data) or at + 1 + data[at] > len(data):
            raise BadFormat("an entitlement runs past the payload")
        length = data[at]
        try:
            slugs.append(data[at + 1 : at + 1 + length].decode("ascii"))
        except UnicodeDecodeError:
            raise BadFormat("an entitlement is not ASCII") from None
        at += 1 + length
    if at != len(data):
        raise BadFormat("trailing bytes after the entitlements")
    bound = fingerprint if flags & BOUND else None
    return Payload(
        UUID(bytes=product), UUID(bytes=license_id), issued, expires, tuple(slugs), bool(flags & TRIAL), bound
    )


def verifies(data: bytes, signature: bytes, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True
