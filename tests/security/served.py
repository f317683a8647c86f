"""The operations the real app serves, read from its own `GET /openapi.json`.

The security tests iterate these, not a YAML file: whatever the app mounts (every spec, or the
subset CHARTER_SPECS names) is what they probe. The served document may inline its components or
keep `$ref`s to `#/components/...`; `Served.resolve` follows local refs, and anything else (a ref
into another file) fails loudly, since a served document must stand on its own.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPERATION_ID = re.compile(r"handlers\.(?P<api>[a-z_][a-z0-9_]*)\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


def api_of(op_id: str) -> str:
    """The API an operation belongs to: its handler package, `handlers.<api>.<module>.<function>`."""
    m = OPERATION_ID.fullmatch(op_id)
    if m is None:
        raise ValueError(f"{op_id!r} is not the address of a handler (handlers.<api>.<module>.<function>)")
    return m["api"]


@dataclass(frozen=True)
class Operation:
    op_id: str
    method: str  # upper case
    path: str
    spec: dict = field(repr=False, compare=False)
    served: Served = field(repr=False, compare=False)

    @property
    def api(self) -> str:
        return api_of(self.op_id)

    @property
    def security(self) -> list[dict]:
        sec = self.spec.get("security", self.served.doc.get("security"))
        return list(sec or [])

    @property
    def public(self) -> bool:
        """`security: []`, or an alternative that needs nothing (`{}`)."""
        return not self.security or any(not alternative for alternative in self.security)

    @property
    def schemes(self) -> set[str]:
        return {scheme for alternative in self.security for scheme in alternative}

    @property
    def scopes(self) -> frozenset[str]:
        """Every permission any alternative names (each alternative names the same ones here)."""
        return frozenset(s for alternative in self.security for scopes in alternative.values() for s in scopes)

    @property
    def documented(self) -> frozenset[int]:
        return frozenset(int(code) for code in self.spec.get("responses") or {} if str(code).isdigit())

    @property
    def parameters(self) -> list[dict]:
        """Path-item and operation parameters, refs resolved (the operation's win)."""
        item = self.served.doc["paths"][self.path]
        found: dict[tuple[str, str], dict] = {}
        for param in list(item.get("parameters") or []) + list(self.spec.get("parameters") or []):
            param = self.served.resolve(param)
            found[(param["in"], param["name"].lower() if param["in"] == "header" else param["name"])] = param
        return list(found.values())

    def body_properties(self) -> dict[str, dict]:
        """The JSON body's top-level properties, refs (and allOf) resolved."""
        body = self.served.resolve(self.spec.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json") or {}
        return self.served.properties(media.get("schema") or {})

    def positions(self) -> set[str]:
        """Where a request may name an object: every path parameter, and every query parameter
        and body property that is a uuid (the x-tenant-id header is a position of every operation)."""
        found = set()
        for param in self.parameters:
            schema = self.served.resolve(param.get("schema") or {})
            if param["in"] == "path" or (param["in"] == "query" and schema.get("format") == "uuid"):
                found.add(f"{param['in']}:{param['name']}")
        for name, prop in self.body_properties().items():
            if self.served.resolve(prop).get("format") == "uuid":
                found.add(f"body:{name}")
        return found

    def url(self) -> str:
        """The path with made-up values in its parameters (a slug where it takes one, 0 where it takes
        an integer, else a uuid)."""
        integers = {
            p["name"]
            for p in self.parameters
            if p["in"] == "path" and self.served.resolve(p.get("schema") or {}).get("type") == "integer"
        }

        def value(m: re.Match) -> str:
            return "some-slug" if m[1] == "slug" else "0" if m[1] in integers else str(uuid.uuid4())

        return re.sub(r"\{(\w+)\}", value, self.path)


class Served:
    """One served OpenAPI document."""

    def __init__(self, doc: dict):
        self.doc = doc

    def resolve(self, node: Any) -> Any:
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"the served document refers outside itself: $ref {ref!r}")
            if ref in seen:
                raise ValueError(f"$ref cycle through {ref!r}")
            seen.add(ref)
            target: Any = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise ValueError(f"the served document has no {ref!r}")
                target = target[part]
            node = target
        return node

    def properties(self, schema: Any) -> dict[str, dict]:
        schema = self.resolve(schema)
        props = dict(schema.get("properties") or {})
        for part in schema.get("allOf") or []:
            props.update(self.properties(part))
        return props

    def operations(self) -> list[Operation]:
        out = []
        for path, item in (self.doc.get("paths") or {}).items():
            item = self.resolve(item) or {}
            for method in HTTP_METHODS:
                if method in item:
                    op = self.resolve(item[method])
                    out.append(Operation(op["operationId"], method.upper(), path, op, self))
        return out


def fetch(client) -> Served:
    """The document a running app (a test client of server.app.create_app) serves."""
    r = client.get("/openapi.json", headers={"Authorization": ""})
    assert r.status_code == 200, f"GET /openapi.json: {r.status_code} {r.text[:300]}"
    return Served(r.json())


def create_app(**kwargs):
    """The real app factory, called as tests/conftest.py's `app` fixture calls it (store=,
    settings=)."""
    from server.app import create_app as factory

    return factory(**kwargs)


@functools.lru_cache(maxsize=1)
def default_app_document() -> Served:
    """What the app as tests/conftest.py builds it (every mounted spec) serves, over a memory store:
    for the tests that only read the document."""
    from tests.conftest import make_store
    from tests.helpers import settings

    store = make_store("memory", None, None)
    try:
        app = create_app(store=store, settings=settings())
        with app.test_client() as client:
            return fetch(client)
    finally:
        store.close()
