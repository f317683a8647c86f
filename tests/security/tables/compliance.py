"""The compliance API's operations (specs/compliance.yaml): the ledger and its keys.

Every ledger operation reads the caller's own log and takes no tenant id of its own: a caller
bound to B reads B's, a platform caller names B with x-tenant-id (the matrix sends B's with every
call). Service tokens here hold registry scopes only, so they are refused.
"""

from __future__ import annotations

import time

from tests.security.rows import PEOPLE_READERS, PEOPLE_WRITERS, PUBLIC, Access, Call, Public, Route, Row, Scoped

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


EXPORTS = "/v1/compliance/audit-exports"
EXPORT = EXPORTS + "/{export_id}"
# exports are the compliance entitlement's, which B holds (test_bola's setup, the matrix's B)
EXPORT_READERS = PEOPLE_READERS
EXPORT_WRITERS = PEOPLE_WRITERS
# B's export may still be queued (the probe's app runs no job worker): reaching it is what
# `export_not_ready` proves
NOT_READY = frozenset({"export_not_ready"})
WINDOW = {"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z", "includes": ["audit"]}


def fresh_export(client, tenant_id: str) -> str:
    r = client.post(EXPORTS, json=WINDOW, headers={"x-tenant-id": tenant_id})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def ready_export(client, tenant_id: str, timeout: float = 30.0) -> dict:
    """A new export of the tenant, built (by the app's job worker): its shape, with a download token."""
    made = client.post(EXPORTS, json=WINDOW, headers={"x-tenant-id": tenant_id})
    assert made.status_code == 202, made.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"{EXPORTS}/{made.json()['id']}", headers={"x-tenant-id": tenant_id})
        if r.json()["status"] == "ready":
            return made.json()
        assert r.json()["status"] in ("queued", "running"), r.text
        time.sleep(0.05)
    raise AssertionError(f"export {made.json()['id']} was not built in {timeout} s")


def _ready_call(method: str, suffix: str):
    def call(x) -> Call:
        made = ready_export(x.client, x.b["id"])
        params = {"token": made["download_token"]} if suffix == "/bundle" else None
        return Call(method, f"{EXPORTS}/{made['id']}{suffix}", params=params, headers=x.in_b)

    return call


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
    "handlers.compliance.exports.create": Row(
        Scoped(Route("POST", EXPORTS, json=WINDOW, platform_via=None)),
        Access(
            EXPORT_WRITERS,
            202,
            lambda x: Call("POST", EXPORTS, json=WINDOW, headers=x.in_b),
            writes="audit_export.created",
        ),
    ),
    "handlers.compliance.exports.list_exports": Row(
        Scoped(Route("GET", EXPORTS, platform_via=None)),
        Access(EXPORT_READERS, 200, lambda x: Call("GET", EXPORTS, headers=x.in_b)),
    ),
    "handlers.compliance.exports.get": Row(
        Scoped(Route("GET", EXPORT, platform_via=None)),
        Access(EXPORT_READERS, 200, lambda x: Call("GET", f"{EXPORTS}/{x.value('export_id')}", headers=x.in_b)),
    ),
    "handlers.compliance.exports.verify": Row(
        Scoped(Route("POST", EXPORT + "/verify", reached=NOT_READY, platform_via=None)),
        Access(EXPORT_READERS, 200, _ready_call("POST", "/verify")),
    ),
    # the download token is the credential: the export it names, and no other (tokens of another
    # export, session tokens, none: tests/compliance/test_exports.py)
    "handlers.compliance.exports.bundle": Row(
        Public(
            "a bundle opened by its download token only: without one, 400",
            Route("GET", EXPORT + "/bundle"),
            expect=(400, "invalid_input"),
            waived={"path:export_id": "an export id opens nothing without the download token bound to it"},
        ),
        Access(PUBLIC, 200, _ready_call("GET", "/bundle")),
    ),
    # revoking removes B's bundle: after every other row's controls
    "handlers.compliance.exports.revoke": Row(
        Scoped(Route("DELETE", EXPORT, platform_via=None, refused=frozenset({"service_token"}))),
        Access(
            EXPORT_WRITERS,
            200,
            lambda x: Call("DELETE", f"{EXPORTS}/{x.value('export_id')}", headers=x.in_b),
            writes="audit_export.revoked",
            last=True,
        ),
    ),
}
