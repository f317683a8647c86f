"""The BOLA probe: tenant B's credentials against tenant A's ids, on every operation the app serves.

The operations come from the app's own /openapi.json; each has a row in its API's table
(tests/security/tables/<api>.py, checked by test_tables.py). A `Scoped` row is a list of request
templates whose placeholders ({tenant_id}, {slug}, {key_id}, {action}, …) mark the positions that
name a tenant's object: path ids, query and body fields; the x-tenant-id header is a position of
every operation. The runner fills the positions with A's ids (alone, and mixed with B's own ids
and B's header) and sends each request with each of B's credentials the operation takes: for a
bearer token, a tenant_admin login, a tenant_member login, a service token with every tenant
permission and a support session in B opened by a platform support user; for a registry API
key, B's key itself; for sign-in, B's users' email and password in the body.

Every probe must:
- never answer 2xx: 401 `tenant_mismatch` when the header names A, 403 `forbidden` when the
  credential may not call the operation at all, else 404 (or the row's own rule), with exactly
  the status, code and message (ids aside) that the same request with never-issued ids (the
  "ghost twin") gets, and a status the spec documents for the operation;
- answer in the error shape, and contain none of A's data that the probe did not send itself;
- write no audit event in A's tenant, and no event but the gate's own (tenant mismatch, support
  read) or a failed login.
The same requests with B's ids succeed for B (positive control), a platform credential reaches
every handler with them, and the platform admin's reads of A do show A's data (the leak detector
sees it when it is there). A `Public` row's sanity request answers what the row says, with B's
credentials and A's header, and shows nothing of A. After everything, A is unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product as cartesian

import pytest

from auth.roles import TENANT_PERMISSIONS
from tests.helpers import all_events, bearer, create_key, create_tenant, settings
from tests.identity.helpers import PASSWORD, login, service_token, session
from tests.security import served as served_doc
from tests.security.rows import PLACEHOLDER, PLACEHOLDER_NAMES, Public, Route, template_positions
from tests.security.served import Operation, create_app
from tests.security.tables import compliance, has_row, licensing, row, tabled

HIDDEN, FORBIDDEN, MISMATCH = 404, 403, 401
# the only audit events a probe may cause: the gate's own, and a refused login's
PROBE_EVENTS = {"auth.tenant_mismatch", "support_session.read", "auth.login_failed"}
# the probe signs in and presents API keys more often than a minute's default budget allows;
# the limits themselves are tests/identity/test_rate_limits.py's
LIMITS = "login.ip=10000/60,exchange.ip=10000/60,arbitration.tenant=10000/60,recover.ip=10000/60"


@pytest.fixture
def app(store):
    return create_app(store=store, settings=settings(CHARTER_RATE_LIMITS=LIMITS, CHARTER_EXPORT_CONCURRENT="1000"))


# ------------------------------------------------------------------------------ the world


@dataclass
class Party:
    """The ids of one tenant's objects, as a probe places them."""

    tenant_id: str
    slug: str
    key_id: str
    action: str
    endpoint_id: str
    delivery_id: str
    case_id: str
    # licensing objects under the tenant's prefix
    product_id: str
    policy_id: str
    license_id: str
    machine_id: str
    invoice_id: str
    subscription_id: str
    api_key_id: str
    export_id: str  # an audit export (queued: the probe's app runs no job worker)

    def value(self, name: str) -> str:
        return getattr(self, name)


@dataclass
class Credential:
    name: str
    headers: dict
    permissions: frozenset
    body: dict | None = None  # sign-in: the email and password travel in the body
    fresh: Callable[[], dict] | None = None  # another credential of the same kind: its headers

    def renewed(self) -> Credential:
        return Credential(self.name, self.fresh() if self.fresh else self.headers, self.permissions, self.body)


@dataclass
class World:
    a: Party
    b: Party
    ghost: Party
    a_plain_key: str
    markers: dict[str, str]  # label -> a value of A's data
    secret: set[str]  # labels of markers no probe ever sends
    tokens: list[Credential]  # B's access tokens
    key: Credential  # B's raw API key (all tenant permissions)
    users: list[Credential]  # B's users, signing in
    platform: dict[str, dict]  # platform credentials' headers, by name


def _delivery_of(client, tenant_id: str, endpoint_id: str, key_name: str) -> dict:
    """A delivery to the endpoint: of an API key made after it, its api_key.created event."""
    create_key(client, tenant_id, name=key_name)
    r = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers={"x-tenant-id": tenant_id})
    assert r.status_code == 200, r.text
    return r.json()["items"][0]


def _case_of(client, tenant_id: str, subject_id: str) -> dict:
    """A dispute case of the tenant, granted the compliance entitlement first."""
    r = client.post("/v1/entitlements", json={"tenant_id": tenant_id, "product": "compliance"})
    assert r.status_code == 201, r.text
    body = {"subject_type": "payment", "subject_id": subject_id, "title": f"{subject_id} title"}
    r = client.post("/v1/disputes/cases", json=body, headers={"x-tenant-id": tenant_id})
    assert r.status_code == 201, r.text
    return r.json()


def _setup(client, store) -> World:
    # A: distinctive data of every kind the registry keeps
    a = create_tenant(
        client,
        slug="alpha-bola-secret",
        name="Alpha Confidential Holdings",
        sales_owner="alpha-sales-owner@example.com",
    )
    a_key = create_key(client, a["id"], name="alpha-payroll-key", scopes=["audit:read"], created_by="alpha-creator")
    trial = client.post("/v1/catalog/trial-request", json={"tenant_id": a["id"], "product": "analytics"})
    assert trial.status_code == 201, trial.text
    for action in ("alpha.ledger_sealed", "alpha.payroll_exported"):
        r = client.post(
            "/v1/audit", json={"tenant_id": a["id"], "action": action, "target_name": "alpha-target-secret"}
        )
        assert r.status_code == 201, r.text

    a_hook = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "https://alpha-hooks-secret.example.com/in", "description": "alpha-hook-description"},
        headers={"x-tenant-id": a["id"]},
    )
    assert a_hook.status_code == 201, a_hook.text
    a_delivery = _delivery_of(client, a["id"], a_hook.json()["id"], "alpha-hooked-key")
    a_case = _case_of(client, a["id"], "alpha-dispute-secret")
    a_licensing = licensing.objects(client, a, "alpha-secret")
    a_export = compliance.fresh_export(client, a["id"])

    # B likewise, and B's credentials
    b = create_tenant(client, slug="bravo-bola", name="Bravo Probe Ltd")
    b_spare = create_key(client, b["id"], name="bravo-spare")  # revoked by the positive controls
    assert (
        client.post("/v1/catalog/trial-request", json={"tenant_id": b["id"], "product": "analytics"}).status_code == 201
    )
    assert client.post("/v1/audit", json={"tenant_id": b["id"], "action": "bravo.ledger_sealed"}).status_code == 201
    b_hook = client.post(
        "/v1/webhooks/endpoints", json={"url": "https://bravo.example.com/in"}, headers={"x-tenant-id": b["id"]}
    )
    assert b_hook.status_code == 201, b_hook.text
    b_delivery = _delivery_of(client, b["id"], b_hook.json()["id"], "bravo-hooked-key")
    b_case = _case_of(client, b["id"], "bravo-dispute")
    b_licensing = licensing.objects(client, b, "bravo")
    b_licensing.pop("markers")
    b_export = compliance.fresh_export(client, b["id"])

    admin = session(client, store, ["tenant_admin"], b["id"])
    member = session(client, store, ["tenant_member"], b["id"])
    service = service_token(client, b["id"], sorted(TENANT_PERMISSIONS))
    support = session(client, store, ["support"])
    platform_admin = session(client, store, ["platform_admin"])

    def relogin(email):
        def fresh():
            r = login(client, email, tenant_id=b["id"])
            assert r.status_code == 200, r.text
            return bearer(r.json()["access_token"])

        return fresh

    def exchange():
        r = client.post("/v1/auth/token", headers=bearer(service["plaintext"]))
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    def support_session():
        r = client.post(
            "/v1/auth/support-session",
            json={"tenant_id": b["id"], "reason": "BOLA probe"},
            headers=bearer(support["access_token"]),
        )
        assert r.status_code == 201, r.text
        return bearer(r.json()["access_token"])

    def permissions(headers: dict) -> frozenset:
        me = client.get("/v1/auth/principal", headers=headers)
        assert me.status_code == 200 and me.json()["tenant_id"] == b["id"], me.text
        return frozenset(me.json()["permissions"])

    tokens = []
    for name, headers, fresh in (
        ("tenant_admin", bearer(admin["access_token"]), relogin(admin["email"])),
        ("tenant_member", bearer(member["access_token"]), relogin(member["email"])),
        ("service_token", bearer(service["access_token"]), exchange),
        ("support_session", support_session(), support_session),
    ):
        tokens.append(Credential(name, headers, permissions(headers), fresh=fresh))
    key = Credential("B's API key", bearer(service["plaintext"]), permissions(bearer(service["plaintext"])))
    users = [
        Credential(
            f"{role} signing in", {"Authorization": ""}, frozenset(), body={"email": email, "password": PASSWORD}
        )
        for role, email in (("tenant_admin", admin["email"]), ("tenant_member", member["email"]))
    ]

    markers = {
        "A tenant id": a["id"],
        "A slug": a["slug"],
        "A name": a["name"],
        "A sales owner": a["sales_owner"],
        "A created_at": a["created_at"],
        "A trial_ends_at": a["trial_ends_at"],
        "A key id": a_key["api_key"]["id"],
        "A key name": a_key["api_key"]["name"],
        "A key prefix": a_key["api_key"]["prefix"],
        "A key creator": a_key["api_key"]["created_by"],
        "A key created_at": a_key["api_key"]["created_at"],
        "A key plaintext": a_key["plaintext"],
        "A entitlement created_at": trial.json()["created_at"],
        "A entitlement expires_at": trial.json()["expires_at"],
        "A audit action 1": "alpha.ledger_sealed",
        "A audit action 2": "alpha.payroll_exported",
        "A audit target": "alpha-target-secret",
        "A endpoint id": a_hook.json()["id"],
        "A endpoint url": a_hook.json()["url"],
        "A endpoint description": "alpha-hook-description",
        "A endpoint secret": a_hook.json()["secret"],
        "A delivery id": a_delivery["id"],
        "A delivery event id": a_delivery["event_id"],
        "A case id": a_case["id"],
        "A case subject": a_case["subject_id"],
        **a_licensing.pop("markers"),
        **{MARKER_OF[name]: value for name, value in a_licensing.items()},
        "A export id": a_export,
    }
    ghost = Party(
        **{name: str(uuid.uuid4()) for name in PLACEHOLDER_NAMES},
    )
    ghost.slug, ghost.action = f"ghost-{uuid.uuid4().hex[:10]}", "ghost.never_happened"
    return World(
        a=Party(
            a["id"],
            a["slug"],
            a_key["api_key"]["id"],
            "alpha.ledger_sealed",
            a_hook.json()["id"],
            a_delivery["id"],
            a_case["id"],
            **a_licensing,
            export_id=a_export,
        ),
        b=Party(
            b["id"],
            b["slug"],
            b_spare["api_key"]["id"],
            "bravo.ledger_sealed",
            b_hook.json()["id"],
            b_delivery["id"],
            b_case["id"],
            **b_licensing,
            export_id=b_export,
        ),
        ghost=ghost,
        a_plain_key=a_key["plaintext"],
        markers=markers,
        # what B's probes send of A: its tenant id, slug, key id, one audit action (a filter), endpoint id
        secret=set(markers) - set(MARKER_OF.values()),
        tokens=tokens,
        key=key,
        users=users,
        platform={"bootstrap key": {}, "platform_admin login": bearer(platform_admin["access_token"])},
    )


def credentials(w: World, op: Operation, route: Route) -> list[Credential]:
    """B's credentials that this operation takes."""
    if route.credential == "body":
        return w.users
    out = []
    if "bearerAuth" in op.schemes:
        out += w.tokens
    if "serviceKey" in op.schemes:
        out.append(w.key)
    assert out, f"{op.op_id}: no credential of B for its schemes {sorted(op.schemes)}"
    return out


def _snapshot(client, tenant_id: str) -> dict:
    """A as the platform sees it."""
    out = {}
    r = client.get("/v1/webhooks/endpoints", headers={"x-tenant-id": tenant_id})
    assert r.status_code == 200, r.text
    out["webhook_endpoints"] = r.json()
    out["webhook_deliveries"] = {}
    for endpoint in r.json()["items"]:
        found = client.get(f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers={"x-tenant-id": tenant_id})
        assert found.status_code == 200, found.text
        out["webhook_deliveries"][endpoint["id"]] = found.json()
    for name, url, params in (
        ("tenant", f"/v1/tenants/{tenant_id}", {}),
        ("entitlements", "/v1/entitlements", {"tenant_id": tenant_id}),
        ("api_keys", "/v1/api-keys", {"tenant_id": tenant_id}),
        ("audit", "/v1/audit", {"tenant_id": tenant_id, "limit": 500}),
    ):
        r = client.get(url, params=params)
        assert r.status_code == 200, r.text
        out[name] = r.json()
    prefix = f"/licensing/{out['tenant']['slug']}/v1"
    for path in licensing.STATE:
        r = client.get(prefix + path)
        assert r.status_code == 200, r.text
        out[f"licensing {path}"] = r.json()
    return out


# ------------------------------------------------------------------------------ the runner


@dataclass
class Probe:
    label: str
    request: dict  # method, url, params, json, headers (without the credential)
    twin: dict | None  # the same with never-issued ids in A's place
    expect: tuple[int, str | None]  # status, error code (None: the twin's)
    sent: set[str]  # marker labels this probe itself sends
    listing: bool = False
    sent_values: dict = field(default_factory=dict)  # value -> placeholder, A's and the ghost's
    documented: frozenset = frozenset()  # the statuses the spec documents for the operation


def _fill(value, assignment: dict[str, Party], where: str):
    if isinstance(value, str):
        m = PLACEHOLDER.fullmatch(value)
        if m:
            return assignment[f"{where}:{m[1]}"].value(m[1])
        return value
    if isinstance(value, dict):
        return {k: _fill(v, assignment, where) for k, v in value.items()}
    return value


def _request(route: Route, assignment: dict[str, Party], header: Party | None, cred: Credential | None = None) -> dict:
    path = PLACEHOLDER.sub(lambda m: assignment[f"path:{m[1]}"].value(m[1]), route.path)
    params = {k: _fill(v, assignment, "query") for k, v in route.params.items()}
    body = None if route.json is None else {k: _fill(v, assignment, "body") for k, v in route.json.items()}
    if cred is not None and cred.body:
        body = {**cred.body, **(body or {})}
    headers = {"x-tenant-id": header.tenant_id} if header is not None else {}
    return {"method": route.method, "url": path, "params": params, "json": body, "headers": headers}


MARKER_OF = {
    "tenant_id": "A tenant id",
    "slug": "A slug",
    "key_id": "A key id",
    "action": "A audit action 1",
    "endpoint_id": "A endpoint id",
    "delivery_id": "A delivery id",
    "case_id": "A case id",
    "product_id": "A product id",
    "policy_id": "A policy id",
    "license_id": "A license id",
    "machine_id": "A machine id",
    "invoice_id": "A invoice id",
    "subscription_id": "A subscription id",
    "api_key_id": "A licensing key id",
    "export_id": "A export id",
}


def _expect(route: Route, op: Operation, cred: Credential, placed: dict, header: str | None) -> tuple[int, str | None]:
    if route.expect is not None:
        return route.expect(placed, header)
    if header == "A":
        return MISMATCH, "tenant_mismatch"
    if not op.scopes <= cred.permissions or cred.name in route.refused:
        return FORBIDDEN, "forbidden"
    if route.listing:
        return 200, None
    return HIDDEN, None


def probes_of(w: World, op: Operation, route: Route, cred: Credential) -> list[Probe]:
    """Every placement of A's ids: each position A or B, the header absent, A or B; some A."""
    positions = template_positions(route)
    probes = []
    values = {}
    for name in PLACEHOLDER_NAMES:
        values[w.a.value(name)] = f"<{name}>"
        values[w.ghost.value(name)] = f"<{name}>"
    for parties in cartesian(*[(w.a, w.b)] * len(positions), (None, w.a, w.b)):
        *placed, header = parties
        if w.a not in parties:
            continue
        assignment = dict(zip(positions, placed, strict=True))
        twin_assignment = {p: (w.ghost if party is w.a else party) for p, party in assignment.items()}
        request = _request(route, assignment, header, cred)
        twin = _request(route, twin_assignment, w.ghost if header is w.a else header, cred)
        sent = {MARKER_OF[p.split(":")[1]] for p, party in assignment.items() if party is w.a}
        if header is w.a:
            sent.add("A tenant id")
        letters = {p: "A" if party is w.a else "B" for p, party in assignment.items()}
        header_letter = None if header is None else "A" if header is w.a else "B"
        expect = _expect(route, op, cred, letters, header_letter)
        where = ",".join(f"{p}={letter}" for p, letter in letters.items())
        label = f"{route.method} {route.path} [{where or '-'}; x-tenant-id={header_letter or '-'}]"
        probes.append(Probe(label, request, twin, expect, sent, route.listing, values, op.documented))
    return probes


class Runner:
    def __init__(self, client, world: World):
        self.client, self.w = client, world
        self.failures: list[str] = []
        self.sent = {"probes": 0, "twins": 0, "controls": 0, "sanity": 0, "platform": 0}
        self.request_ids: dict[str, str] = {}  # request id -> label (probes and twins)

    def send(self, kind: str, request: dict, cred_headers: dict, label: str):
        self.sent[kind] += 1
        rid = f"bola-{kind}-{sum(self.sent.values())}"
        if kind in ("probes", "twins"):
            self.request_ids[rid] = label
        return self.client.request(
            request["method"],
            request["url"],
            params=request["params"] or None,
            json=request["json"],
            headers={**cred_headers, **request["headers"], "x-request-id": rid},
        )

    def fail(self, label: str, problem: str, response=None):
        text = f" -> {response.status_code} {response.text[:300]}" if response is not None else ""
        self.failures.append(f"{label}: {problem}{text}")

    def leaks(self, response, allowed: set[str]) -> list[str]:
        seen = (response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())).lower()
        return [
            label for label, value in self.w.markers.items() if label not in allowed and value and value.lower() in seen
        ]

    def error_shape(self, label, r) -> dict | None:
        try:
            body = r.json()
        except ValueError:
            self.fail(label, "not JSON", r)
            return None
        if not (
            r.headers.get("content-type", "").startswith("application/json")
            and isinstance(body, dict)
            and isinstance(body.get("error"), str)
            and body["error"]
            and isinstance(body.get("message"), str)
            and body["message"]
        ):
            self.fail(label, "not the error shape", r)
            return None
        return body

    def probe(self, p: Probe, cred_name: str, cred_headers: dict):
        label = f"{cred_name}: {p.label}"
        r = self.send("probes", p.request, cred_headers, label)
        twin = self.send("twins", p.twin, cred_headers, label + " (ghost twin)")
        found = self.leaks(r, p.sent)
        if found:
            self.fail(label, f"LEAKS A's {found}", r)
        if self.leaks(twin, set()):
            self.fail(label + " (ghost twin)", f"LEAKS A's {self.leaks(twin, set())}", twin)
        status, code = p.expect
        if r.status_code != status:
            self.fail(label, f"expected {status} {code or ''}", r)
        if r.status_code not in p.documented:  # contract first: the answer is in the spec
            self.fail(
                label,
                f"answers {r.status_code}, which the spec does not document for this "
                f"operation (documented: {sorted(p.documented)})",
                r,
            )
        if p.listing and r.status_code == 200:
            if r.json().get("items") != []:
                self.fail(label, "a filter by A's value lists something", r)
            return
        if 200 <= r.status_code < 300:
            self.fail(label, "2xx: B reached A's object", r)
            return
        body = self.error_shape(label, r)
        if body is None:
            return
        if code is not None and body["error"] != code:
            self.fail(label, f"expected error {code!r}", r)
        # the gate's 401s challenge for a bearer credential (sign-in takes its credential in the body)
        if (
            r.status_code == 401
            and cred_headers.get("Authorization")
            and not r.headers.get("www-authenticate", "").startswith("Bearer")
        ):
            self.fail(label, "401 without WWW-Authenticate: Bearer", r)
        # hidden exactly as what does not exist: same status, code and message (ids aside)
        if twin.status_code != r.status_code or (twin.json() or {}).get("error") != body["error"]:
            self.fail(label, f"answers unlike a never-issued id ({twin.status_code} {twin.text[:200]})", r)
        elif self._normal(body.get("message"), p) != self._normal(twin.json().get("message"), p):
            self.fail(
                label, f"message differs from a never-issued id's: {body['message']!r} vs {twin.json()['message']!r}"
            )

    @staticmethod
    def _normal(message: str | None, p: Probe) -> str:
        for value, name in p.sent_values.items():
            message = (message or "").replace(value, name)
        return message

    def control(self, label: str, request: dict, cred: Credential, op: Operation, route: Route):
        """B's own ids: 2xx (or the handler's own answer on a re-run) when the credential has the
        permission, 403 `forbidden` when not; never any of A's secret data."""
        r = self.send("controls", request, cred.headers, label)
        found = self.leaks(r, set(self.w.markers) - self.w.secret)
        if found:
            self.fail(label, f"B's own answer shows A's {found}", r)
        if not op.scopes <= cred.permissions or cred.name in route.refused:
            if r.status_code != 403 or (r.json() or {}).get("error") != "forbidden":
                self.fail(label, "expected 403 forbidden (B's own ids)", r)
            return
        reached = 200 <= r.status_code < 300 or (
            r.status_code >= 400 and (r.json() or {}).get("error") in route.reached
        )
        if not reached:
            self.fail(label, "B's own request does not succeed: the probe would prove nothing", r)
        elif route.listing and r.status_code == 200 and not r.json().get("items"):
            self.fail(label, "B's filter by its own value lists nothing", r)
        elif route.control_check is not None and 200 <= r.status_code < 300:
            problem = route.control_check(self.w.b, r.json() if r.content else None)
            if problem:
                self.fail(label, problem, r)

    def sanity(self, op: Operation, public: Public):
        """A public operation: B's credentials and A's header change nothing, and show nothing of A."""
        status, code = public.expect
        for cred in self.w.tokens:
            for header in ({}, {"x-tenant-id": self.w.a.tenant_id}):
                req = _request(public.route, {p: self.w.b for p in template_positions(public.route)}, None)
                req["headers"] = header
                label = f"{cred.name}: public {op.op_id} {header}"
                r = self.send("sanity", req, cred.headers, label)
                body = r.json() if r.content else None
                if r.status_code != status or (code is not None and (body or {}).get("error") != code):
                    self.fail(label, f"public sanity request: expected {status} {code or ''}: {public.why}", r)
                elif self.leaks(r, set()):
                    self.fail(label, f"shows A's {self.leaks(r, set())}: {public.why}", r)
                elif public.check is not None and public.check(body):
                    self.fail(label, public.check(body), r)


def test_bola_probe(client, store, request, capsys):
    w = _setup(client, store)
    before = _snapshot(client, w.a.tenant_id)
    run = Runner(client, w)
    served = tabled(served_doc.fetch(client).operations())
    missing = [op.op_id for op in served if not has_row(op.op_id)]
    assert not missing, f"operations with no row in their API's table: {missing}"
    # stable: B's objects a row would remove (a `last` row) go after every other row's controls
    ops = sorted(((op, row(op.op_id).probe) for op in served), key=lambda item: row(item[0].op_id).access.last)
    assert len(ops) >= 26, "the app serves fewer operations than registry, identity and gateway have"

    for op, entry in ops:
        if isinstance(entry, Public):
            run.sanity(op, entry)
            continue
        for route in entry.routes:
            creds = credentials(w, op, route)
            for cred in creds:
                cred = cred.renewed() if route.spends_credential else cred
                for p in probes_of(w, op, route, cred):
                    run.probe(p, cred.name, cred.headers)
            # positive control: B's own ids, without a header and with B's
            positions = template_positions(route)
            for cred in creds:
                for header in (None, w.b):
                    used = cred.renewed() if route.spends_credential else cred
                    req = _request(route, {p: w.b for p in positions}, header, used)
                    run.control(
                        f"{used.name}: control {route.method} {route.path} with B's ids, "
                        f"x-tenant-id={'B' if header else '-'}",
                        req,
                        used,
                        op,
                        route,
                    )

    # platform teeth: a platform credential reaches every handler with B's ids (the row that
    # would break B, tenant cancel, at the very end), and sees A's data where it reads A
    for _op, entry in sorted(ops, key=lambda item: row(item[0].op_id).access.last):
        if isinstance(entry, Public):
            continue
        for route in entry.routes:
            if route.platform_via is None:
                continue
            headers = w.platform[route.platform_via]
            positions = template_positions(route)
            label = f"platform ({route.platform_via}): {route.method} {route.path} with B's ids"
            r = run.send("platform", _request(route, {p: w.b for p in positions}, None), headers, label)
            if not (200 <= r.status_code < 300 or (r.json() or {}).get("error") in route.reached):
                run.fail(label, "the platform admin does not reach the handler", r)
            if route.method == "GET" and positions:
                label = f"platform ({route.platform_via}): {route.method} {route.path} with A's ids"
                r = run.send("platform", _request(route, {p: w.a for p in positions}, None), headers, label)
                if r.status_code != 200 or not run.leaks(r, set(w.markers) - w.secret):
                    run.fail(label, "the leak detector sees none of A's data where the platform reads A", r)

    # A is unchanged: its tenant, keys, entitlements and audit log, as the platform sees them
    after = _snapshot(client, w.a.tenant_id)
    for part in before:
        if after[part] != before[part]:
            run.fail(f"tenant A's {part}", f"changed by the probes:\n  before {before[part]}\n  after  {after[part]}")
    verified = client.post("/v1/internal/api-keys/verify", json={"key": w.a_plain_key}).json()
    if verified.get("valid") is not True or verified.get("tenant_id") != w.a.tenant_id:
        run.fail("A's API key", f"no longer verifies: {verified}")
    # and no probe wrote anything but the gate's own events, none of them in A's tenant
    for event in all_events(client):
        label = run.request_ids.get((event.get("metadata") or {}).get("request_id"))
        if label is not None and (event["action"] not in PROBE_EVENTS or event.get("tenant_id") == w.a.tenant_id):
            run.fail(label, f"wrote audit event {event}")

    kind = request.node.callspec.params["store"]
    summary = (
        f"BOLA probe on {kind}: {len(ops)} operations, {run.sent['probes']} probes "
        f"(+{run.sent['twins']} ghost twins, {run.sent['controls']} positive controls, "
        f"{run.sent['sanity']} public sanity, {run.sent['platform']} platform teeth), "
        f"{len(run.failures)} failures"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert not run.failures, summary + "\n" + "\n".join(run.failures[:60])
