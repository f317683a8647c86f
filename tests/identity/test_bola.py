"""The BOLA probe: tenant B's credentials against tenant A's ids, on every registry route.

Every operation of specs/registry.yaml is read FROM THE SPEC and must have an entry in PROBES (a
new route cannot escape the probe). An entry is a list of request templates whose placeholders
({tenant_id}, {slug}, {key_id}, {action}) mark the positions that name a tenant's object: path
ids, query and body fields; the x-tenant-id header is a position of every operation. The runner
fills the positions with A's ids (alone, and mixed with B's own ids and B's header) and sends each
request with each of B's credentials: a tenant_admin login, a tenant_member login, a service
token with every tenant permission, and a support session in B opened by a platform support user.

Every probe must:
- never answer 2xx: 401 `tenant_mismatch` when the header names A, 403 `forbidden` when the
  credential may not call the operation at all, else 404, with exactly the status, code and
  message (ids aside) that the same request with never-issued ids (the "ghost twin") gets;
- answer in the error shape, and contain none of A's data that the probe did not send itself;
- write no audit event in A's tenant, and no event but the gate's own (tenant mismatch, support
  read) or a failed login.
The same requests with B's ids succeed for B (positive control), the platform admin reaches every
handler with them, and the platform admin's reads of A do show A's data (the leak detector sees
it when it is there). After everything, A is unchanged.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from itertools import product as cartesian


from auth.roles import TENANT_PERMISSIONS
from charter.config import SPECS_DIR
from charter.specs import load, operations
from tests.api.helpers import all_events, bearer, create_key, create_tenant
from tests.identity.helpers import login, service_token, session

REGISTRY = load(SPECS_DIR / "registry.yaml")
IDENTITY = load(SPECS_DIR / "identity.yaml")


# --------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Route:
    """One request shape of an operation. Placeholders mark where a tenant's ids go."""

    method: str
    path: str
    params: dict = field(default_factory=dict)
    json: dict | None = None
    # error codes that prove the handler ran on the object (stateful re-runs), besides a 2xx
    reached: frozenset = frozenset()
    # a filter position (not an object reference): A's value answers 2xx with no items
    listing: bool = False


@dataclass(frozen=True)
class Public:
    """An operation with `security: []`: why no tenant object is involved, and a sanity request."""

    why: str
    route: Route


@dataclass(frozen=True)
class Entry:
    routes: tuple[Route, ...]
    # uuid fields of the spec that are no object reference, and why
    waived: dict = field(default_factory=dict)


PROBES: dict[str, Entry | Public] = {
    "handlers.registry.health.healthz": Public(
        "liveness: answers a constant, reads nothing of any tenant", Route("GET", "/healthz")
    ),
    "handlers.registry.health.readyz": Public(
        "readiness: pings the store, returns no row of any tenant", Route("GET", "/readyz")
    ),
    "handlers.registry.api_keys.verify": Public(
        "the key in the body is the credential: whoever holds A's plaintext key is A; a key that "
        "is not one answers valid=false and nothing else",
        Route("POST", "/v1/internal/api-keys/verify", json={"key": "bp_notakey_0000000000000000"}),
    ),
    "handlers.registry.tenants.create": Entry(
        (
            Route(
                "POST", "/v1/tenants", json={"slug": "{slug}", "name": "BOLA probe"}, reached=frozenset({"slug_taken"})
            ),
        )
    ),
    "handlers.registry.tenants.get": Entry((Route("GET", "/v1/tenants/{tenant_id}"),)),
    "handlers.registry.tenants.get_by_slug": Entry((Route("GET", "/v1/tenants/by-slug/{slug}"),)),
    "handlers.registry.tenants.activate": Entry(
        (Route("POST", "/v1/tenants/{tenant_id}/activate", json={"plan": "enterprise"}),)
    ),
    "handlers.registry.tenants.cancel": Entry(
        (Route("POST", "/v1/tenants/{tenant_id}/cancel", json={"reason": "bola probe"}),)
    ),
    "handlers.registry.entitlements.list_for_tenant": Entry(
        (Route("GET", "/v1/entitlements", params={"tenant_id": "{tenant_id}"}),)
    ),
    "handlers.registry.catalog.list_products": Entry((Route("GET", "/v1/catalog"),)),
    "handlers.registry.catalog.request_product": Entry(
        (Route("POST", "/v1/catalog/request", json={"tenant_id": "{tenant_id}", "product": "licensing"}),)
    ),
    "handlers.registry.catalog.request_trial": Entry(
        (
            # A holds an analytics trial, not licensing: a leak would grant A a licensing trial
            Route(
                "POST",
                "/v1/catalog/trial-request",
                json={"tenant_id": "{tenant_id}", "product": "licensing"},
                reached=frozenset({"already_entitled"}),
            ),
        )
    ),
    "handlers.registry.api_keys.list_for_tenant": Entry(
        (Route("GET", "/v1/api-keys", params={"tenant_id": "{tenant_id}"}),)
    ),
    "handlers.registry.api_keys.create": Entry(
        (Route("POST", "/v1/api-keys", json={"tenant_id": "{tenant_id}", "name": "bola-probe"}),)
    ),
    "handlers.registry.api_keys.revoke": Entry((Route("DELETE", "/v1/api-keys/{key_id}"),)),
    "handlers.registry.audit.append": Entry(
        (
            Route("POST", "/v1/audit", json={"tenant_id": "{tenant_id}", "action": "bola.probe"}),
            Route("POST", "/v1/audit", json={"action": "bola.probe"}),  # the tenant filled in
        ),
        waived={"body:project_id": "a label of the caller's own project; the registry resolves nothing by it"},
    ),
    "handlers.registry.audit.query": Entry(
        (
            Route("GET", "/v1/audit", params={"tenant_id": "{tenant_id}"}),
            Route("GET", "/v1/audit", params={"action": "{action}"}, listing=True),
        )
    ),
}

PLACEHOLDER = re.compile(r"\{(tenant_id|slug|key_id|action)\}")
HIDDEN, FORBIDDEN, MISMATCH = 404, 403, 401
# the only audit events a probe may cause: the gate's own, and a refused login's
PROBE_EVENTS = {"auth.tenant_mismatch", "support_session.read", "auth.login_failed"}


# ------------------------------------------------------------------------- the spec's side


def _resolve(node, doc: dict = REGISTRY):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def spec_positions(op: dict) -> set[str]:
    """Where the spec lets a request name an object: every path parameter, and every query
    parameter and body property that is a uuid (the x-tenant-id header is probed everywhere)."""
    found = set()
    for param in op.get("parameters") or []:
        param = _resolve(param)
        schema = _resolve(param.get("schema") or {})
        if param["in"] == "path" or (param["in"] == "query" and schema.get("format") == "uuid"):
            found.add(f"{param['in']}:{param['name']}")
    body = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")
    for name, prop in (_resolve(body or {}).get("properties") or {}).items():
        if _resolve(prop).get("format") == "uuid":
            found.add(f"body:{name}")
    return found


def template_positions(route: Route) -> list[str]:
    out = [f"path:{m[1]}" for m in PLACEHOLDER.finditer(route.path)]
    out += [f"query:{k}" for k, v in route.params.items() if isinstance(v, str) and PLACEHOLDER.fullmatch(v)]
    out += [f"body:{k}" for k, v in (route.json or {}).items() if isinstance(v, str) and PLACEHOLDER.fullmatch(v)]
    return out


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_registry_operation_has_a_probe_entry_that_covers_its_positions():
    """A new route, or a new id parameter on an old one, fails here until the table probes it."""
    problems = []
    ops = {op["operationId"]: (method, path, op) for method, path, op in operations(REGISTRY)}
    for op_id in ops.keys() - PROBES.keys():
        problems.append(f"{op_id}: no entry in PROBES")
    for op_id in PROBES.keys() - ops.keys():
        problems.append(f"{op_id}: in PROBES but not in specs/registry.yaml")
    for op_id, entry in PROBES.items():
        if op_id not in ops:
            continue
        method, path, op = ops[op_id]
        public = op.get("security") == []
        if public != isinstance(entry, Public):
            problems.append(f"{op_id}: public in the spec is {public}, the table says {not public}")
        routes = (entry.route,) if isinstance(entry, Public) else entry.routes
        for route in routes:
            if (route.method.lower(), _shape(route.path)) != (method, _shape(path)):
                problems.append(f"{op_id}: {route.method} {route.path} is not {method.upper()} {path}")
        if isinstance(entry, Entry):
            placed = set()
            for r in entry.routes:
                names = re.findall(r"\{(\w+)\}", path)
                if len(PLACEHOLDER.findall(r.path)) == len(names):
                    placed |= {f"path:{name}" for name in names}
                placed |= {p for p in template_positions(r) if not p.startswith("path:")}
            missing = spec_positions(op) - placed - set(entry.waived)
            if missing:
                problems.append(f"{op_id}: the spec takes {sorted(missing)}, which no probe fills")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ the world


@dataclass
class Party:
    """The ids of one tenant's objects, as a probe places them."""

    tenant_id: str
    slug: str
    key_id: str
    action: str

    def value(self, name: str) -> str:
        return getattr(self, name)


@dataclass
class Credential:
    name: str
    headers: dict
    permissions: frozenset


@dataclass
class World:
    a: Party
    b: Party
    ghost: Party
    a_plain_key: str
    markers: dict[str, str]  # label -> a value of A's data
    secret: set[str]  # labels of markers no probe ever sends
    creds: list[Credential]
    b_key: str  # B's raw API key (all tenant permissions)
    b_admin_email: str
    b_member_email: str


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

    # B likewise, and B's credentials
    b = create_tenant(client, slug="bravo-bola", name="Bravo Probe Ltd")
    b_spare = create_key(client, b["id"], name="bravo-spare")  # revoked by the positive controls
    assert (
        client.post("/v1/catalog/trial-request", json={"tenant_id": b["id"], "product": "analytics"}).status_code == 201
    )
    assert client.post("/v1/audit", json={"tenant_id": b["id"], "action": "bravo.ledger_sealed"}).status_code == 201

    admin = session(client, store, ["tenant_admin"], b["id"])
    member = session(client, store, ["tenant_member"], b["id"])
    service = service_token(client, b["id"], sorted(TENANT_PERMISSIONS))
    support = session(client, store, ["support"])
    opened = client.post(
        "/v1/auth/support-session",
        json={"tenant_id": b["id"], "reason": "BOLA probe"},
        headers=bearer(support["access_token"]),
    )
    assert opened.status_code == 201, opened.text

    creds = []
    for name, token in (
        ("tenant_admin", admin["access_token"]),
        ("tenant_member", member["access_token"]),
        ("service_token", service["access_token"]),
        ("support_session", opened.json()["access_token"]),
    ):
        me = client.get("/v1/auth/principal", headers=bearer(token))
        assert me.status_code == 200 and me.json()["tenant_id"] == b["id"], me.text
        creds.append(Credential(name, bearer(token), frozenset(me.json()["permissions"])))

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
    }
    ghost = Party(str(uuid.uuid4()), f"ghost-{uuid.uuid4().hex[:10]}", str(uuid.uuid4()), "ghost.never_happened")
    return World(
        a=Party(a["id"], a["slug"], a_key["api_key"]["id"], "alpha.ledger_sealed"),
        b=Party(b["id"], b["slug"], b_spare["api_key"]["id"], "bravo.ledger_sealed"),
        ghost=ghost,
        a_plain_key=a_key["plaintext"],
        markers=markers,
        # what B's probes send of A: its tenant id, slug, key id and one audit action (a filter)
        secret={k for k in markers if k not in ("A tenant id", "A slug", "A key id", "A audit action 1")},
        creds=creds,
        b_key=service["plaintext"],
        b_admin_email=admin["email"],
        b_member_email=member["email"],
    )


def _snapshot(client, tenant_id: str) -> dict:
    """A as the platform sees it."""
    out = {}
    for name, url, params in (
        ("tenant", f"/v1/tenants/{tenant_id}", {}),
        ("entitlements", "/v1/entitlements", {"tenant_id": tenant_id}),
        ("api_keys", "/v1/api-keys", {"tenant_id": tenant_id}),
        ("audit", "/v1/audit", {"tenant_id": tenant_id, "limit": 500}),
    ):
        r = client.get(url, params=params)
        assert r.status_code == 200, r.text
        out[name] = r.json()
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


def _request(route: Route, assignment: dict[str, Party], header: Party | None) -> dict:
    path = PLACEHOLDER.sub(lambda m: assignment[f"path:{m[1]}"].value(m[1]), route.path)
    params = {k: _fill(v, assignment, "query") for k, v in route.params.items()}
    body = None if route.json is None else {k: _fill(v, assignment, "body") for k, v in route.json.items()}
    headers = {"x-tenant-id": header.tenant_id} if header is not None else {}
    return {"method": route.method, "url": path, "params": params, "json": body, "headers": headers}


MARKER_OF = {"tenant_id": "A tenant id", "slug": "A slug", "key_id": "A key id", "action": "A audit action 1"}


def documented(op: dict) -> frozenset:
    return frozenset(int(code) for code in op.get("responses") or {} if code.isdigit())


def registry_probes(w: World, route: Route, cred: Credential, scopes: frozenset, statuses: frozenset) -> list[Probe]:
    """Every placement of A's ids: each position A or B, the header absent, A or B; some A."""
    positions = template_positions(route)
    probes = []
    for parties in cartesian(*[(w.a, w.b)] * len(positions), (None, w.a, w.b)):
        *placed, header = parties
        if w.a not in parties:
            continue
        assignment = dict(zip(positions, placed))
        twin_assignment = {p: (w.ghost if party is w.a else party) for p, party in assignment.items()}
        request = _request(route, assignment, header)
        twin = _request(route, twin_assignment, w.ghost if header is w.a else header)
        sent = {MARKER_OF[p.split(":")[1]] for p, party in assignment.items() if party is w.a}
        if header is w.a:
            sent.add("A tenant id")
            expect = (MISMATCH, "tenant_mismatch")
        elif not scopes <= cred.permissions:
            expect = (FORBIDDEN, "forbidden")
        elif route.listing:
            expect = (200, None)
        else:
            expect = (HIDDEN, None)
        where = ",".join(f"{p}=A" if party is w.a else f"{p}=B" for p, party in assignment.items())
        label = f"{route.method} {route.path} [{where or '-'}; x-tenant-id={'A' if header is w.a else 'B' if header else '-'}]"
        values = {}
        for name in ("tenant_id", "slug", "key_id", "action"):
            values[w.a.value(name)] = f"<{name}>"
            values[w.ghost.value(name)] = f"<{name}>"
        probes.append(Probe(label, request, twin, expect, sent, route.listing, values, statuses))
    return probes


def identity_probes(w: World) -> list[tuple[Probe, dict]]:
    """The identity routes that take a tenant: (probe, credential headers)."""
    out = []
    values = {w.a.tenant_id: "<tenant_id>", w.ghost.tenant_id: "<tenant_id>"}

    def add(label, cred_headers, method, url, expect, json=None, header_a=False, body_a=False, twin_json=None):
        headers = {"x-tenant-id": w.a.tenant_id} if header_a else {}
        twin_headers = {"x-tenant-id": w.ghost.tenant_id} if header_a else {}
        sent = {"A tenant id"} if header_a or body_a else set()
        out.append(
            (
                Probe(
                    label,
                    {"method": method, "url": url, "params": {}, "json": json, "headers": headers},
                    {
                        "method": method,
                        "url": url,
                        "params": {},
                        "json": twin_json if twin_json is not None else json,
                        "headers": twin_headers,
                    },
                    expect,
                    sent,
                    False,
                    values,
                    IDENTITY_STATUSES[url],
                ),
                cred_headers,
            )
        )

    anonymous = {"Authorization": ""}
    pw = "correct horse battery staple"
    for who, email in (("B tenant_admin", w.b_admin_email), ("B tenant_member", w.b_member_email)):
        creds = {"email": email, "password": pw}
        add(
            f"login by {who} with tenant_id=A",
            anonymous,
            "POST",
            "/v1/auth/login",
            (403, "not_a_member"),
            json={**creds, "tenant_id": w.a.tenant_id},
            body_a=True,
            twin_json={**creds, "tenant_id": w.ghost.tenant_id},
        )
        add(
            f"login by {who} with x-tenant-id=A",
            anonymous,
            "POST",
            "/v1/auth/login",
            (403, "not_a_member"),
            json=creds,
            header_a=True,
        )
        add(
            f"login by {who} with tenant_id=B, x-tenant-id=A",
            anonymous,
            "POST",
            "/v1/auth/login",
            (401, "tenant_mismatch"),
            json={**creds, "tenant_id": w.b.tenant_id},
            header_a=True,
        )
    for cred in w.creds:
        add(
            f"support-session for A by B {cred.name}",
            cred.headers,
            "POST",
            "/v1/auth/support-session",
            (403, "forbidden"),
            json={"tenant_id": w.a.tenant_id, "reason": "bola"},
            body_a=True,
            twin_json={"tenant_id": w.ghost.tenant_id, "reason": "bola"},
        )
        add(
            f"support-session for A by B {cred.name}, x-tenant-id=A",
            cred.headers,
            "POST",
            "/v1/auth/support-session",
            (401, "tenant_mismatch"),
            json={"tenant_id": w.a.tenant_id, "reason": "bola"},
            header_a=True,
            body_a=True,
            twin_json={"tenant_id": w.ghost.tenant_id, "reason": "bola"},
        )
        add(
            f"support-session for B by B {cred.name}, x-tenant-id=A",
            cred.headers,
            "POST",
            "/v1/auth/support-session",
            (401, "tenant_mismatch"),
            json={"tenant_id": w.b.tenant_id, "reason": "bola"},
            header_a=True,
        )
        add(
            f"principal of B {cred.name}, x-tenant-id=A",
            cred.headers,
            "GET",
            "/v1/auth/principal",
            (401, "tenant_mismatch"),
            header_a=True,
        )
    key = bearer(w.b_key)
    add(
        "principal of B's API key, x-tenant-id=A",
        key,
        "GET",
        "/v1/auth/principal",
        (401, "tenant_mismatch"),
        header_a=True,
    )
    add(
        "token exchange of B's API key, x-tenant-id=A",
        key,
        "POST",
        "/v1/auth/token",
        (401, "tenant_mismatch"),
        header_a=True,
    )
    add(
        "harbor-access of B's API key, x-tenant-id=A",
        key,
        "POST",
        "/v1/auth/harbor-access",
        (401, "tenant_mismatch"),
        header_a=True,
    )
    return out


IDENTITY_STATUSES = {path: documented(op) for _, path, op in operations(IDENTITY)}


def test_identity_operations_that_take_a_tenant_are_probed():
    """Every identity operation with the x-tenant-id header, or a tenant_id in its body, is in
    identity_probes (by path)."""
    probed = {
        "/v1/auth/login",
        "/v1/auth/support-session",
        "/v1/auth/principal",
        "/v1/auth/token",
        "/v1/auth/harbor-access",
    }
    takes = set()
    for _, path, op in operations(IDENTITY):
        headers = {
            _resolve(p, IDENTITY)["name"] for p in op.get("parameters") or [] if _resolve(p, IDENTITY)["in"] == "header"
        }
        body = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")
        if "x-tenant-id" in headers or "tenant_id" in (_resolve(body or {}, IDENTITY).get("properties") or {}):
            takes.add(path)
    assert "/v1/auth/login" in takes and "/v1/auth/principal" in takes
    assert takes <= probed, f"identity routes that take a tenant but are not probed: {sorted(takes - probed)}"


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
        # the gate's 401s challenge for a bearer credential (login takes its credential in the body)
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

    def control(self, label: str, request: dict, cred: Credential, scopes: frozenset, route: Route):
        """B's own ids: 2xx (or the handler's own answer on a re-run) when the credential has the
        permission, 403 `forbidden` when not; never any of A's secret data."""
        r = self.send("controls", request, cred.headers, label)
        found = self.leaks(r, set(self.w.markers) - self.w.secret)
        if found:
            self.fail(label, f"B's own answer shows A's {found}", r)
        if not scopes <= cred.permissions:
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


def _scopes(op: dict) -> frozenset:
    return frozenset(s for alternative in op.get("security") or [] for scopes in alternative.values() for s in scopes)


def test_bola_probe(client, store, request, capsys):
    w = _setup(client, store)
    before = _snapshot(client, w.a.tenant_id)
    run = Runner(client, w)
    ops = [(op["operationId"], op) for _, _, op in operations(REGISTRY)]
    missing = [op_id for op_id, _ in ops if op_id not in PROBES]
    assert not missing, f"operations with no probe entry: {missing}"

    for op_id, op in ops:
        entry, scopes = PROBES[op_id], _scopes(op)
        if isinstance(entry, Public):  # sanity: B's credentials and A's header change nothing
            for cred in w.creds:
                for header in ({}, {"x-tenant-id": w.a.tenant_id}):
                    req = _request(entry.route, {}, None)
                    req["headers"] = header
                    label = f"{cred.name}: public {op_id} {header}"
                    r = run.send("sanity", req, cred.headers, label)
                    if r.status_code != 200 or run.leaks(r, set()):
                        run.fail(label, f"public sanity request: {entry.why}", r)
                    if op_id.endswith("verify") and r.json() != {"valid": False}:
                        run.fail(label, "a key that is none verifies", r)
            continue
        for route in entry.routes:
            for cred in w.creds:
                for p in registry_probes(w, route, cred, scopes, documented(op)):
                    run.probe(p, cred.name, cred.headers)
            # positive control: B's own ids, without a header and with B's
            positions = template_positions(route)
            for cred in w.creds:
                for header in (None, w.b):
                    req = _request(route, {p: w.b for p in positions}, header)
                    run.control(
                        f"{cred.name}: control {route.method} {route.path} with B's ids, "
                        f"x-tenant-id={'B' if header else '-'}",
                        req,
                        cred,
                        scopes,
                        route,
                    )

    for p, cred_headers in identity_probes(w):
        run.probe(p, "identity", cred_headers)
    for email in (w.b_admin_email, w.b_member_email):  # the positive control of the login probes
        r = login(client, email, tenant_id=w.b.tenant_id)
        run.sent["controls"] += 1
        if r.status_code != 200 or r.json().get("tenant_id") != w.b.tenant_id:
            run.fail(f"login of {email} into B", "B's user cannot sign in to B", r)
    for cred in w.creds:
        r = client.get("/v1/auth/principal", headers={**cred.headers, "x-tenant-id": w.b.tenant_id})
        run.sent["controls"] += 1
        if r.status_code != 200 or r.json()["tenant_id"] != w.b.tenant_id or run.leaks(r, set()):
            run.fail(f"principal of {cred.name} with x-tenant-id=B", "wrong", r)

    # platform teeth: the platform admin reaches every handler with B's ids (tenant moves last,
    # cancel at the very end: it freezes B), and sees A's data where it reads A
    platform = Credential("platform_admin", {}, frozenset({"*"}))
    for op_id, op in sorted(ops, key=lambda item: item[0].endswith("tenants.cancel")):
        entry = PROBES[op_id]
        if isinstance(entry, Public):
            continue
        for route in entry.routes:
            positions = template_positions(route)
            label = f"platform_admin: {route.method} {route.path} with B's ids"
            r = run.send("platform", _request(route, {p: w.b for p in positions}, None), platform.headers, label)
            if not (200 <= r.status_code < 300 or (r.json() or {}).get("error") in route.reached):
                run.fail(label, "the platform admin does not reach the handler", r)
            if route.method == "GET" and positions:
                label = f"platform_admin: {route.method} {route.path} with A's ids"
                r = run.send("platform", _request(route, {p: w.a for p in positions}, None), platform.headers, label)
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
        f"BOLA probe on {kind}: {run.sent['probes']} probes (+{run.sent['twins']} ghost twins, "
        f"{run.sent['controls']} positive controls, {run.sent['sanity']} public sanity, "
        f"{run.sent['platform']} platform teeth), {len(run.failures)} failures"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert not run.failures, summary + "\n" + "\n".join(run.failures[:60])
