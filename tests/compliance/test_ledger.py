"""The ledger through the real app, on every store: checkpoints, proofs checked against an
independent tree hash, events and their canonical bytes, verify, verifier packs, bad input."""

from __future__ import annotations

import base64
import hashlib

import pytest
import rfc8785
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.compliance.helpers import checkpoint_fields, mth
from tests.helpers import assert_error, bearer, create_key, create_tenant
from tests.identity.helpers import session


@pytest.fixture
def tenant(client):
    return create_tenant(client)


def _in(tenant: dict) -> dict:
    return {"x-tenant-id": tenant["id"]}


def _grow(client, tenant, n: int) -> None:
    for i in range(n):
        create_key(client, tenant["id"], name=f"k{i}")


def _leaves(client, tenant, size: int) -> list[bytes]:
    out = []
    for seq in range(size):
        r = client.get(f"/v1/compliance/ledger/events/{seq}", headers=_in(tenant))
        assert r.status_code == 200, r.text
        body = r.json()
        raw = base64.b64decode(body["canonical"])
        assert raw == rfc8785.dumps(body["event"])  # the canonical bytes are the event's JCS
        assert body["event"]["seq"] == seq and body["event"]["log"] == tenant["id"]
        leaf = hashlib.sha256(b"\x00" + raw).digest()
        assert base64.b64decode(body["leaf_hash"]) == leaf
        out.append(leaf)
    return out


def test_keys_are_public_and_verify_the_checkpoint(client, anonymous, tenant):
    note = client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"]
    (key,) = anonymous.get("/v1/compliance/keys").json()["items"]
    assert key["algorithm"] == "ed25519"
    name, khash, vkey = key["note_verifier_key"].split("+", 2)
    assert key["key_id"] == f"{name}+{khash}"
    raw = base64.b64decode(vkey)
    assert raw[0] == 1
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == khash
    public = load_pem_public_key(key["public_key_pem"].encode())
    text, sigs = note.split("\n\n")
    dash, signer, sig = sigs.strip().split(" ")
    assert dash == "\u2014" and signer == name
    sig = base64.b64decode(sig)
    assert sig[:4].hex() == khash
    public.verify(sig[4:], (text + "\n").encode())  # raises when it does not verify


def test_checkpoint_covers_every_committed_event_and_matches_an_independent_root(client, tenant):
    _grow(client, tenant, 4)
    note = client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"]
    origin, size, root = checkpoint_fields(note)
    assert origin == f"charter/audit/{tenant['id']}"
    assert size >= 5  # tenant.created and four keys, at least
    assert root == mth(_leaves(client, tenant, size))
    _grow(client, tenant, 1)
    after = checkpoint_fields(client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"])
    assert after[1] > size


def _path_root(index: int, size: int, leaf: bytes, hashes: list[bytes]) -> bytes:
    """Recompute the root from an audit path, by the recursive definition of PATH (RFC 6962 2.1.1)."""

    def walk(m: int, n: int, h: list[bytes]) -> bytes:
        if n == 1:
            assert not h
            return leaf
        k = 1
        while k * 2 < n:
            k *= 2
        *rest, sibling = h
        if m < k:
            return hashlib.sha256(b"\x01" + walk(m, k, rest) + sibling).digest()
        return hashlib.sha256(b"\x01" + sibling + walk(m - k, n - k, rest)).digest()

    return walk(index, size, hashes)


def test_inclusion_proofs_lead_to_the_signed_root(client, tenant):
    _grow(client, tenant, 6)
    size = checkpoint_fields(client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"])[
        1
    ]
    leaves = _leaves(client, tenant, size)
    for tree_size in (1, 3, size):
        for seq in range(tree_size):
            r = client.get(
                "/v1/compliance/ledger/proofs/inclusion",
                params={"seq": seq, "tree_size": tree_size},
                headers=_in(tenant),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["seq"] == seq and body["tree_size"] == tree_size
            assert base64.b64decode(body["leaf_hash"]) == leaves[seq]
            origin, cp_size, root = checkpoint_fields(body["checkpoint"])
            assert cp_size == tree_size and root == mth(leaves[:tree_size])
            assert _path_root(seq, tree_size, leaves[seq], [base64.b64decode(h) for h in body["hashes"]]) == root


def test_consistency_proofs_verify(client, tenant):
    from store.merkle import verify_consistency

    _grow(client, tenant, 6)
    size = checkpoint_fields(client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"])[
        1
    ]
    leaves = _leaves(client, tenant, size)
    for old in range(0, size + 1):
        r = client.get(
            "/v1/compliance/ledger/proofs/consistency", params={"from": old, "to": size}, headers=_in(tenant)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        proof = [base64.b64decode(h) for h in body["hashes"]]
        assert verify_consistency(old, size, mth(leaves[:old]), mth(leaves), proof)
        if proof:  # and a forged one does not
            assert not verify_consistency(old, size, mth(leaves[:old]), mth(leaves), proof[:-1] + [bytes(32)])


def test_bad_input_answers_4xx(client, tenant):
    size = checkpoint_fields(client.get("/v1/compliance/ledger/checkpoint", headers=_in(tenant)).json()["checkpoint"])[
        1
    ]
    assert_error(client.get(f"/v1/compliance/ledger/events/{size + 5}", headers=_in(tenant)), 404, "event_not_found")
    q = "/v1/compliance/ledger/proofs/inclusion"
    assert_error(client.get(q, params={"seq": size, "tree_size": size}, headers=_in(tenant)), 400, "seq_beyond_tree")
    assert_error(
        client.get(q, params={"seq": 0, "tree_size": size + 9}, headers=_in(tenant)), 400, "tree_size_beyond_log"
    )
    assert_error(client.get(q, params={"seq": size + 3}, headers=_in(tenant)), 400, "seq_beyond_tree")
    assert_error(client.get(q, params={"seq": -1}, headers=_in(tenant)), 400)
    c = "/v1/compliance/ledger/proofs/consistency"
    assert_error(client.get(c, params={"from": size + 1, "to": size}, headers=_in(tenant)), 400, "sizes_out_of_order")
    assert_error(client.get(c, params={"from": 0, "to": size + 1}, headers=_in(tenant)), 400, "tree_size_beyond_log")


def test_a_tenant_reads_its_own_log_and_the_platform_its_own(client, store, tenant):
    other = create_tenant(client)
    member = session(client, store, ["tenant_member"], tenant["id"])
    r = client.get("/v1/compliance/ledger/checkpoint", headers=bearer(member["access_token"]))
    assert checkpoint_fields(r.json()["checkpoint"])[0] == f"charter/audit/{tenant['id']}"
    other_header = {**bearer(member["access_token"]), "x-tenant-id": other["id"]}
    assert_error(client.get("/v1/compliance/ledger/checkpoint", headers=other_header), 401, "tenant_mismatch")
    platform = client.get("/v1/compliance/ledger/checkpoint").json()["checkpoint"]
    assert checkpoint_fields(platform)[0] == "charter/audit/platform"


def test_verify_and_the_verifier_pack(client, tenant):
    from services.compliance import pack

    _grow(client, tenant, 3)
    result = client.get("/v1/compliance/ledger/verify", headers=_in(tenant)).json()
    assert result["ok"] is True and result["checked"] == result["size"] > 0
    r = client.get("/v1/compliance/ledger/verifier-pack", headers=_in(tenant))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    first = r.json()
    _grow(client, tenant, 2)
    body = client.get("/v1/compliance/ledger/verifier-pack", headers=_in(tenant)).json()
    assert body["size"] > first["size"] and body["checkpoints"]  # the older checkpoint, with its proof
    assert pack.verify(body)["ok"] is True
    checked = client.post("/v1/compliance/ledger/verifier-pack/verify", json=body, headers=_in(tenant)).json()
    assert checked["ok"] is True, checked
    tampered = {**body, "events": [dict(e) for e in body["events"]]}
    event = dict(tampered["events"][2]["event"], action="tenant.forged")
    tampered["events"][2] = {
        **tampered["events"][2],
        "event": event,
        "canonical": base64.b64encode(rfc8785.dumps(event)).decode(),
    }
    failed = client.post("/v1/compliance/ledger/verifier-pack/verify", json=tampered, headers=_in(tenant)).json()
    assert failed["ok"] is False and failed["first_bad_seq"] == 2
    assert_error(
        client.post("/v1/compliance/ledger/verifier-pack/verify", json={"format": "nope"}, headers=_in(tenant)), 400
    )


def test_charter_verify_pack_checks_a_pack_offline(client, anonymous, tenant, tmp_path, capsys):
    import json

    from tools.cli import main

    _grow(client, tenant, 2)
    body = client.get("/v1/compliance/ledger/verifier-pack", headers=_in(tenant)).json()
    (key,) = anonymous.get("/v1/compliance/keys").json()["items"]
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(body))
    assert main(["verify-pack", str(path), "--key", key["note_verifier_key"]]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    body["events"][1]["leaf_hash"] = body["events"][0]["leaf_hash"]
    path.write_text(json.dumps(body))
    assert main(["verify-pack", str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_seq"] == 1
    path.write_text("{}")
    assert main(["verify-pack", str(path)]) == 2
