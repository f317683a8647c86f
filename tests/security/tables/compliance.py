"""The compliance API's operations (specs/compliance.yaml): the ledger and its keys.

Every ledger operation reads the caller's own log and takes no tenant id of its own: a caller
bound to B reads B's, a platform caller names B with x-tenant-id (the matrix sends B's with every
call). Service tokens here hold registry scopes only, so they are refused.
"""

from __future__ import annotations

from tests.security.rows import PEOPLE_READERS, PUBLIC, Access, Call, Public, Route, Row, Scoped

LEDGER_READERS = PEOPLE_READERS
# A pack no key signed: it verifies as a failure (200, ok false), never as a refusal.
PACK = {
    "format": "charter-ledger-verifier-pack/v1",
    "origin": "charter/audit/probe",
    "size": 0,
    "key": {"key_id": "probe+00000000", "algorithm": "ed25519", "public_key_pem": "-", "note_verifier_key": "-"},
    "checkpoint": "charter/audit/probe\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    "events": [],
}


_EXPORTS = (
    "the probe knows no {export_id} placeholder yet (B would need the compliance entitlement and an "
    "export of its own); tests/compliance/test_exports.py probes every export route with another "
    "tenant's credentials and B's real export id (404 each), and the 401 sweep covers the protected ones"
)
PENDING_OPS = {
    f"handlers.compliance.exports.{name}": _EXPORTS
    for name in ("create", "list_exports", "get", "revoke", "bundle", "verify")
}

SEQ = {"path:seq": "a leaf index in the caller's own log: it names no other tenant's object"}


def _get(path: str, **params) -> Row:
    return Row(
        Scoped(Route("GET", path, params=params), waived=SEQ if "/events/" in path else None),
        Access(LEDGER_READERS, 200, lambda x: Call("GET", path, params=params or None, headers=x.in_b)),
    )


ROWS: dict[str, Row] = {
    "handlers.compliance.keys.list_keys": Row(
        Public(
            "the public halves of the checkpoint signing keys: the same for every tenant, no tenant's data",
            Route("GET", "/v1/compliance/keys"),
            check=lambda body: None if isinstance(body.get("items"), list) else "no key list",
        ),
        Access(PUBLIC, 200),
    ),
    "handlers.compliance.ledger.get_checkpoint": _get("/v1/compliance/ledger/checkpoint"),
    "handlers.compliance.ledger.inclusion": _get("/v1/compliance/ledger/proofs/inclusion", seq=0),
    "handlers.compliance.ledger.consistency": _get("/v1/compliance/ledger/proofs/consistency", **{"from": 0}),
    "handlers.compliance.ledger.get_event": _get("/v1/compliance/ledger/events/0"),
    "handlers.compliance.ledger.verify": _get("/v1/compliance/ledger/verify"),
    "handlers.compliance.ledger.verifier_pack": _get("/v1/compliance/ledger/verifier-pack"),
    "handlers.compliance.ledger.verify_pack": Row(
        Scoped(Route("POST", "/v1/compliance/ledger/verifier-pack/verify", json=PACK)),
        Access(
            LEDGER_READERS,
            200,
            lambda x: Call("POST", "/v1/compliance/ledger/verifier-pack/verify", json=PACK, headers=x.in_b),
        ),
    ),
}
