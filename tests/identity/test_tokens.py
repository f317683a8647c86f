"""Access tokens against forgery, and signing key rotation and the JWKS, on every store.

Every forged or broken token must answer 401 `invalid_token` with a WWW-Authenticate challenge,
before any handler runs: a spy on the handler of GET /v1/tenants/{id} counts the calls that got
through. Each group starts from a real token that works (the positive control), so a 401 below
means the forgery was refused, not that the route or the fixture is broken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auth.context import Auth
from auth.signing import LOOKUPS_PER_SECOND
from server.app import create_app
from services.registry import tenancy
from tests.helpers import assert_error, bearer, settings
from tests.identity.helpers import claims, header, service_token, tenant

ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493  # L, the group order


# --------------------------------------------------------------------------------- helpers


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segment(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def jws(head: dict, payload: dict, sign) -> str:
    """A compact JWS built by hand (so any header, even one PyJWT would refuse, can be sent);
    `sign` maps the signing input to the signature bytes."""
    signing_input = f"{segment(head)}.{segment(payload)}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def thumbprint(jwk: dict) -> str:
    """RFC 7638 for an OKP key: SHA-256 of the required members, sorted, no whitespace."""
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def random_kid() -> str:
    return b64url(secrets.token_bytes(32))  # 43 base64url characters, like a real thumbprint


def refused(response) -> None:
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer"), response.headers


@pytest.fixture
def handler_calls(monkeypatch):
    """Calls that reached the handler of GET /v1/tenants/{id} (it looks the tenant up through
    services.registry.tenancy.existing)."""
    calls = []
    real = tenancy.existing

    def spy(*args, **kwargs):
        calls.append(args[1:])
        return real(*args, **kwargs)

    monkeypatch.setattr(tenancy, "existing", spy)
    return calls


class Setup:
    """A tenant, a service token for it that works, and the app's real current signing key."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.tenant = tenant(client)
        self.other = tenant(client)
        self.minted = service_token(client, self.tenant["id"], ["tenants:read"])
        self.token = self.minted["access_token"]
        self.kid, self.key = app.services.get(Auth).tokens.keyring.signer()
        assert header(self.token)["kid"] == self.kid
        self.url = f"/v1/tenants/{self.tenant['id']}"

    def get(self, token: str, url: str | None = None):
        return self.client.get(url or self.url, headers=bearer(token))

    def payload(self, **changes) -> dict:
        """The real token's claims, with a fresh jti and `changes` (a value None drops the claim)."""
        out = {**claims(self.token), "jti": uuid.uuid4().hex, **changes}
        return {k: v for k, v in out.items() if v is not None}

    def signed(self, payload: dict, head: dict | None = None) -> str:
        """Signed by the app's real current key."""
        return jws(
            head if head is not None else {"alg": "EdDSA", "typ": "JWT", "kid": self.kid}, payload, self.key.sign
        )

    def public(self) -> Ed25519PublicKey:
        return self.key.public_key()


def assert_all_refused(s: Setup, forged: dict[str, str], handler_calls: list) -> None:
    before = len(handler_calls)
    answers = {name: s.get(token) for name, token in forged.items()}
    wrong = {
        name: (r.status_code, r.text[:200])
        for name, r in answers.items()
        if r.status_code != 401
        or r.json().get("error") != "invalid_token"
        or not r.headers.get("www-authenticate", "").startswith("Bearer")
    }
    assert not wrong, f"forgeries not refused with 401 invalid_token: {wrong}"
    for r in answers.values():
        refused(r)
    assert len(handler_calls) == before, "a forged token reached the handler"


# --------------------------------------------------------------------------- forgeries


def test_the_real_token_works_and_reaches_the_handler(app, client, store, handler_calls):
    s = Setup(app, client)
    before = len(handler_calls)
    r = s.get(s.token)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == s.tenant["id"]
    assert len(handler_calls) == before + 1
    # the same claims freshly signed with the real key are accepted too (the control for the
    # claim checks below)
    assert s.get(s.signed(s.payload())).status_code == 200
    me = client.get("/v1/auth/principal", headers=bearer(s.signed(s.payload()))).json()
    assert me["kind"] == "service" and me["tenant_id"] == s.tenant["id"]


def test_algorithm_and_key_forgeries_are_refused(app, client, store, handler_calls):
    s = Setup(app, client)
    assert s.get(s.token).status_code == 200  # positive control
    calls = len(handler_calls)
    raw_public = s.public().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk_x = b64url(raw_public)
    pem_public = s.public().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    jwks = client.get("/.well-known/jwks.json").json()["keys"]
    assert any(k["kid"] == s.kid and k["x"] == jwk_x for k in jwks)

    def hs256(secret: bytes):
        return lambda data: hmac.new(secret, data, hashlib.sha256).digest()

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    impostor = Ed25519PrivateKey.generate()
    impostor_jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(impostor.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
    }
    body = s.payload()
    unsigned_head = segment({"alg": "none", "typ": "JWT", "kid": s.kid})
    forged = {
        "alg none, trailing dot": f"{unsigned_head}.{segment(body)}.",
        "alg none, no trailing dot": f"{unsigned_head}.{segment(body)}",
        "alg None": f"{segment({'alg': 'None', 'kid': s.kid})}.{segment(body)}.",
        "alg NONE": f"{segment({'alg': 'NONE', 'kid': s.kid})}.{segment(body)}.",
        "alg none without kid": f"{segment({'alg': 'none'})}.{segment(body)}.",
        "alg none, EdDSA signature of it appended": jws({"alg": "none", "kid": s.kid}, body, s.key.sign),
        "no alg at all, real signature": jws({"typ": "JWT", "kid": s.kid}, body, s.key.sign),
        "HS256 keyed with the raw public key": jws(
            {"alg": "HS256", "typ": "JWT", "kid": s.kid}, body, hs256(raw_public)
        ),
        "HS256 keyed with the JWK x string": jws(
            {"alg": "HS256", "typ": "JWT", "kid": s.kid}, body, hs256(jwk_x.encode())
        ),
        "HS256 keyed with the public key PEM": jws(
            {"alg": "HS256", "typ": "JWT", "kid": s.kid}, body, hs256(pem_public)
        ),
        "HS512 keyed with the JWK x string": jws(
            {"alg": "HS512", "kid": s.kid}, body, lambda d: hmac.new(jwk_x.encode(), d, hashlib.sha512).digest()
        ),
        "RS256 by a fresh RSA key with our kid": jwt.encode(body, rsa_key, algorithm="RS256", headers={"kid": s.kid}),
        "PS256 by a fresh RSA key with our kid": jwt.encode(body, rsa_key, algorithm="PS256", headers={"kid": s.kid}),
        "ES256 by a fresh EC key with our kid": jwt.encode(body, ec_key, algorithm="ES256", headers={"kid": s.kid}),
        "EdDSA by another Ed25519 key with our kid": jwt.encode(
            body, impostor, algorithm="EdDSA", headers={"kid": s.kid}
        ),
        "EdDSA by another key, its own kid and an embedded jwk": jws(
            {"alg": "EdDSA", "kid": thumbprint(impostor_jwk), "jwk": impostor_jwk}, body, impostor.sign
        ),
        "EdDSA by another key, our kid and an embedded jwk": jws(
            {"alg": "EdDSA", "kid": s.kid, "jwk": impostor_jwk}, body, impostor.sign
        ),
        "EdDSA by another key, our kid and a jku": jws(
            {"alg": "EdDSA", "kid": s.kid, "jku": "https://attacker.example/jwks.json"}, body, impostor.sign
        ),
        "EdDSA, all-zero signature": jws({"alg": "EdDSA", "kid": s.kid}, body, lambda d: bytes(64)),
    }
    assert_all_refused(s, forged, handler_calls)
    assert len(handler_calls) == calls
    # still fine afterwards (nothing was poisoned)
    assert s.get(s.token).status_code == 200


def test_claims_signed_by_the_real_key_are_checked(app, client, store, handler_calls):
    s = Setup(app, client)
    now = int(time.time())
    control = s.signed(s.payload())
    assert s.get(control).status_code == 200  # everything right: accepted
    before = len(handler_calls)
    forged = {
        "wrong aud": s.signed(s.payload(aud="someone-else")),
        "aud list without ours": s.signed(s.payload(aud=["someone-else", "another"])),
        "wrong iss": s.signed(s.payload(iss="https://attacker.example")),
        "iss as a list": s.signed(s.payload(iss=["charter"])),
        "expired beyond the leeway": s.signed(s.payload(iat=now - 700, nbf=now - 700, exp=now - 30)),
        "nbf in the future": s.signed(s.payload(nbf=now + 60)),
        "iat in the future": s.signed(s.payload(iat=now + 60)),
        "kind admin": s.signed(s.payload(kind="admin")),
        "kind api_key": s.signed(s.payload(kind="api_key")),
        "kind admin_key": s.signed(s.payload(kind="admin_key")),
        "kind Service (case)": s.signed(s.payload(kind="Service")),
        "kind missing": s.signed(s.payload(kind=None)),
        "service token without tid": s.signed(s.payload(tid=None)),
        "support token without tid": s.signed(s.payload(kind="support", tid=None, reason="x")),
        "tid not a UUID": s.signed(s.payload(tid="acme")),
        "sid not a UUID": s.signed(s.payload(sid="key-1")),
        "roles not a list": s.signed(s.payload(roles="tenant_admin")),
        "roles missing": s.signed(s.payload(roles=None)),
        "scope not a string": s.signed(s.payload(scope=["tenants:read"])),
    }
    for claim in ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid"):
        forged[f"missing {claim}"] = s.signed(s.payload(**{claim: None}))
    assert_all_refused(s, forged, handler_calls)
    assert len(handler_calls) == before
    assert s.get(control).status_code == 200


def test_within_the_leeway_is_still_accepted(app, client, store):
    """The 5 s leeway is a leeway, not a hole: just expired or just not yet valid passes."""
    s = Setup(app, client)
    now = int(time.time())
    assert s.get(s.signed(s.payload(iat=now - 600, nbf=now - 600, exp=now - 1))).status_code == 200
    assert s.get(s.signed(s.payload(nbf=now + 2, iat=now + 2))).status_code == 200


def test_unknown_missing_and_malformed_kids_are_refused(app, client, store, handler_calls):
    s = Setup(app, client)
    assert s.get(s.signed(s.payload())).status_code == 200
    body = s.payload()

    def real(head):
        return s.signed(body, head=head)

    forged = {
        "unknown kid, real signature": real({"alg": "EdDSA", "kid": random_kid()}),
        "unknown kid, impostor signature": jwt.encode(
            body, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": random_kid()}
        ),
        "no kid": real({"alg": "EdDSA", "typ": "JWT"}),
        "kid null": real({"alg": "EdDSA", "kid": None}),
        "kid a number": real({"alg": "EdDSA", "kid": 7}),
        "kid a list": real({"alg": "EdDSA", "kid": [s.kid]}),
        "kid an object": real({"alg": "EdDSA", "kid": {"kid": s.kid}}),
        "kid empty": real({"alg": "EdDSA", "kid": ""}),
        "kid too short": real({"alg": "EdDSA", "kid": s.kid[:42]}),
        "kid too long": real({"alg": "EdDSA", "kid": s.kid + "A"}),
        "kid with padding": real({"alg": "EdDSA", "kid": s.kid + "="}),
        "kid with a newline": real({"alg": "EdDSA", "kid": s.kid + "\n"}),
        "kid not base64url": real({"alg": "EdDSA", "kid": "+" * 43}),
        "kid a path": real({"alg": "EdDSA", "kid": "../../../../etc/passwd"}),
        "kid SQL": real({"alg": "EdDSA", "kid": "x' OR '1'='1"}),
        "kid upper-cased": real({"alg": "EdDSA", "kid": s.kid.upper()})
        if s.kid.upper() != s.kid
        else real({"alg": "EdDSA", "kid": s.kid.lower()}),
    }
    assert_all_refused(s, forged, handler_calls)


def test_tampered_truncated_and_garbage_tokens_are_refused(app, client, store, handler_calls):
    s = Setup(app, client)
    assert s.get(s.token).status_code == 200
    head, payload, signature = s.token.split(".")
    original = claims(s.token)
    other_token = service_token(client, s.tenant["id"], ["tenants:read"])["access_token"]
    before = len(handler_calls)
    sig_bytes = unb64url(signature)
    r_part, s_part = sig_bytes[:32], int.from_bytes(sig_bytes[32:], "little")
    malleated = b64url(r_part + (s_part + ED25519_ORDER).to_bytes(32, "little"))

    def with_payload(**changes):
        return f"{head}.{segment({**original, **changes})}.{signature}"

    forged = {
        "tid changed to another tenant": with_payload(tid=s.other["id"]),
        "scope widened": with_payload(scope="tenants:read api_keys:write audit:read"),
        "roles added": with_payload(roles=["platform_admin"]),
        "kind changed to user, tid dropped": f"{head}.{segment({k: v for k, v in original.items() if k != 'tid'} | {'kind': 'user', 'roles': ['platform_admin']})}.{signature}",
        "exp pushed out": with_payload(exp=original["exp"] + 86400),
        "sub changed": with_payload(sub=str(uuid.uuid4())),
        "header changed (typ)": f"{segment({**header(s.token), 'typ': 'at+jwt'})}.{payload}.{signature}",
        "signature of another valid token": f"{head}.{payload}.{other_token.split('.')[2]}",
        "signature truncated by 4": f"{head}.{payload}.{signature[:-4]}",
        "signature truncated by half": f"{head}.{payload}.{signature[:43]}",
        "signature empty": f"{head}.{payload}.",
        "signature bit flipped": f"{head}.{payload}.{b64url(bytes([sig_bytes[0] ^ 1]) + sig_bytes[1:])}",
        "signature with S + L (non-canonical)": f"{head}.{payload}.{malleated}",
        "signature not base64": f"{head}.{payload}.!!!!",
        "no signature segment": f"{head}.{payload}",
        "four segments": f"{s.token}.{signature}",
        "five segments (JWE-like)": f"{head}.{payload}.{signature}.{payload}.{signature}",
        "header garbage": f"garbage.{payload}.{signature}",
        "header not JSON": f"{b64url(b'not json')}.{payload}.{signature}",
        "header a JSON list": f"{b64url(b'[1,2]')}.{payload}.{signature}",
        "payload garbage": f"{head}.garbage.{signature}",
        "payload not JSON": f"{head}.{b64url(b'not json')}.{signature}",
        "payload a JSON list": f"{head}.{b64url(b'[1,2]')}.{signature}",
        "one word": "garbage",
        "dots only": "...",
        "a.b.c": "a.b.c",
        "empty segments": "..",
        "long garbage": "x" * 8192,
        "the token twice": s.token + s.token,
        "the token reversed": s.token[::-1],
    }
    assert_all_refused(s, forged, handler_calls)
    assert len(handler_calls) == before
    assert s.get(s.token).status_code == 200


def test_forgeries_are_refused_on_every_kind_of_route(app, client, anonymous, store, handler_calls):
    """A route that also takes a raw API key (the principal), and a write, refuse them alike."""
    s = Setup(app, client)
    before = len(handler_calls)
    forged = [
        jwt.encode(s.payload(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": s.kid}),
        jws(
            {"alg": "HS256", "kid": s.kid},
            s.payload(),
            lambda d: hmac.new(s.public().public_bytes(Encoding.Raw, PublicFormat.Raw), d, hashlib.sha256).digest(),
        ),
        f"{segment({'alg': 'none', 'kid': s.kid})}.{segment(s.payload())}.",
    ]
    for token in forged:
        refused(anonymous.get("/v1/auth/principal", headers=bearer(token)))
        refused(anonymous.post("/v1/api-keys", json={"tenant_id": s.tenant["id"], "name": "x"}, headers=bearer(token)))
        refused(anonymous.post("/v1/auth/logout", headers=bearer(token)))
    assert (
        client.get("/v1/api-keys", params={"tenant_id": s.tenant["id"]}).json()["items"][0]["id"] == s.minted["key_id"]
    )  # nothing was created
    assert len(handler_calls) == before + 1  # the list just above, nothing else


# ---------------------------------------------------------------------- rotation and JWKS


def _exchange(client, plaintext: str) -> str:
    r = client.post("/v1/auth/token", headers=bearer(plaintext))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _works(client, token: str, tenant_id: str) -> bool:
    r = client.get(f"/v1/tenants/{tenant_id}", headers=bearer(token))
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def test_rotation_jwks_and_a_second_worker(app, client, anonymous, store):
    t = tenant(client)
    minted = service_token(client, t["id"], ["tenants:read"])
    old = minted["access_token"]
    keyring = app.services.get(Auth).tokens.keyring
    old_kid = header(old)["kid"]
    new_kid = keyring.rotate()
    assert new_kid != old_kid
    new = _exchange(client, minted["plaintext"])
    assert header(new)["kid"] == new_kid and header(new)["alg"] == "EdDSA"
    assert _works(client, old, t["id"]) and _works(client, new, t["id"])

    r = anonymous.get("/.well-known/jwks.json")  # public: no credential
    assert r.status_code == 200, r.text
    keys = r.json()["keys"]
    by_kid = {k["kid"]: k for k in keys}
    assert len(by_kid) == len(keys), "a kid is listed twice"
    assert {old_kid, new_kid} <= set(by_kid)
    for k in keys:
        assert (k["kty"], k["crv"], k["alg"], k["use"]) == ("OKP", "Ed25519", "EdDSA", "sig"), k
        assert k["kid"] == thumbprint(k), k
        assert len(unb64url(k["x"])) == 32 and "=" not in k["x"]
        assert "d" not in k, "the JWKS publishes a private key"
    # the published keys verify the tokens, independently of the server's own code
    for token, kid in ((old, old_kid), (new, new_kid)):
        public = jwt.PyJWK(by_kid[kid]).key
        decoded = jwt.decode(token, public, algorithms=["EdDSA"], audience="charter", issuer="charter")
        assert decoded["tid"] == t["id"]
        with pytest.raises(jwt.InvalidSignatureError):
            other = old_kid if kid == new_kid else new_kid
            jwt.decode(token, jwt.PyJWK(by_kid[other]).key, algorithms=["EdDSA"], audience="charter")

    # a second worker over the same store: empty caches, it finds both public keys in the store
    second = create_app(store=store, settings=settings())
    assert second.services.get(Auth).tokens.keyring is not keyring
    with second.test_client() as c:
        assert _works(c, old, t["id"]) and _works(c, new, t["id"])
        assert {k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]} >= {old_kid, new_kid}

    # the old key leaves the store (its expiry passed and it was pruned)
    with store.read() as session:
        old_record, new_record = session.signing_keys.get(old_kid), session.signing_keys.get(new_kid)
    assert old_record is not None and new_record is not None
    assert old_record.public_jwk["kid"] == old_kid
    assert new_record.expires_at > old_record.expires_at, (old_record, new_record)
    with store.write() as session:
        assert session.signing_keys.prune(old_record.expires_at) >= 1
    with store.read() as session:
        assert session.signing_keys.get(old_kid) is None and session.signing_keys.get(new_kid) is not None
    fresh = create_app(store=store, settings=settings())
    with fresh.test_client() as c:
        refused(c.get(f"/v1/tenants/{t['id']}", headers=bearer(old)))
        assert _works(c, new, t["id"])
        kids = {k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]}
        assert old_kid not in kids and new_kid in kids


def test_a_flood_of_random_kids_does_not_become_a_flood_of_store_reads(app, client, store, monkeypatch):
    t = tenant(client)
    minted = service_token(client, t["id"], ["tenants:read"])
    good = minted["access_token"]
    kid, key = app.services.get(Auth).tokens.keyring.signer()
    assert _works(client, good, t["id"])
    body = claims(good)

    reads = []
    real_read = store.read

    def counting_read(*args, **kwargs):
        reads.append(1)
        return real_read(*args, **kwargs)

    n = 300
    flood = [jws({"alg": "EdDSA", "kid": random_kid()}, {**body, "jti": uuid.uuid4().hex}, key.sign) for _ in range(n)]
    url = f"/v1/tenants/{t['id']}"
    monkeypatch.setattr(store, "read", counting_read)
    started = time.monotonic()
    answers = [client.get(url, headers=bearer(token)) for token in flood]
    elapsed = time.monotonic() - started
    monkeypatch.setattr(store, "read", real_read)
    for r in answers:
        refused(r)
    assert elapsed < 30, f"{n} random-kid tokens took {elapsed:.1f} s"
    # at most the burst plus the refill during the flood went to the store
    allowed = LOOKUPS_PER_SECOND * (1 + elapsed) + 2
    assert len(reads) <= allowed, f"{len(reads)} store reads for {n} unknown kids in {elapsed:.2f} s"
    assert len(reads) < n / 2
    # known keys are not held up by the flood
    assert _works(client, good, t["id"])
    # and once the allowance has refilled, a key this worker has not seen yet is found again
    second = create_app(store=store, settings=settings())
    second.services.get(Auth).tokens.keyring.rotate()
    with second.test_client() as c:
        from_second = _exchange(c, minted["plaintext"])
    assert header(from_second)["kid"] not in (kid,)
    time.sleep(0.3)
    assert _works(client, from_second, t["id"])
