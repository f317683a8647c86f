"""Malformed and hostile input through the real app on every store: each answers a 4xx in the
error shape, with a request id, never a 5xx, and nothing is kept that a store cannot keep
faithfully (hardening, issue 10: items 1 to 7 and 12)."""

from __future__ import annotations

import json

import pytest

from tests.contract import unchecked
from tests.helpers import ADMIN, assert_error, create_tenant, settings

JSON = {"content-type": "application/json"}
DEEP = 10_000


def _shaped(response, status: int, code: str | None = None) -> dict:
    body = assert_error(response, status, code)
    assert response.headers.get("x-request-id"), response.headers
    return body


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/internal/api-keys/verify", '{"key": %s}'),
        ("/v1/auth/login", '{"email": "a@b.example", "password": %s}'),
        ("/v1/tenants", '{"slug": "deep", "name": %s}'),
        ("/v1/audit", '{"action": "x", "metadata": {"m": %s}}'),
    ],
)
def test_deep_nesting_answers_400_before_anything_recurses(client, path, body):
    for leaf in ("1", '"\\u0041"'):  # with a \u escape too, which the text check reads
        with unchecked("nested past what the validator's recursive JSON parser takes"):
            r = client.post(path, content=(body % _nested(DEEP, leaf)).encode(), headers=JSON)
        assert "nested deeper than 64" in _shaped(r, 400, "invalid_input")["message"]


def test_nesting_up_to_the_limit_is_kept_and_the_limit_is_configurable(store):
    from server.app import create_app

    with create_app(store=store, settings=settings()).test_client(headers=ADMIN) as c:
        metadata = json.loads(_nested(62))  # the body object and "metadata" make 64
        r = c.post("/v1/audit", json={"action": "deep.ok", "metadata": {"m": metadata}})
        assert r.status_code == 201, r.text
        assert c.get("/v1/audit", params={"action": "deep.ok"}).json()["items"][0]["metadata"]["m"] == metadata
        too_deep = {"action": "x", "metadata": {"m": json.loads(_nested(63))}}
        _shaped(c.post("/v1/audit", json=too_deep), 400, "invalid_input")
    with create_app(store=store, settings=settings(CHARTER_MAX_JSON_DEPTH="3")).test_client(headers=ADMIN) as c:
        _shaped(c.post("/v1/audit", json={"action": "x", "metadata": {"m": [[1]]}}), 400, "invalid_input")
        assert c.post("/v1/audit", json={"action": "x", "metadata": {"m": [1]}}).status_code == 201


@pytest.mark.parametrize(
    "number",
    ["9" * 5000, "NaN", "Infinity", "-Infinity", "1e400", "-1e400"],
)
def test_numbers_no_store_keeps_faithfully_answer_400(client, number):
    r = client.post("/v1/audit", content=f'{{"action": "num", "metadata": {{"v": {number}}}}}'.encode(), headers=JSON)
    _shaped(r, 400, "invalid_input")
    r = client.post("/v1/tenants", content=f'{{"slug": "num", "name": "N", "x": {number}}}'.encode(), headers=JSON)
    _shaped(r, 400, "invalid_input")
    assert client.get("/v1/audit", params={"action": "num"}).json()["items"] == []


def test_numbers_every_store_keeps_round_trip_exactly(client):
    """The parity side: what is accepted reads back as the same number, of the same kind, on every
    store, integers beyond 64 bits included."""
    kept = {
        "max": 2**63 - 1,
        "min": -(2**63),
        "tenth": 0.1,
        "big": 1.7976931348623157e308,
        "neg": -0.5,
        "e5": 1e5,
        "tiny": 5e-324,
        "huge": 10**40,
        "negative_huge": -(10**30) - 7,
    }
    assert client.post("/v1/audit", json={"action": "num.kept", "metadata": kept}).status_code == 201
    got = client.get("/v1/audit", params={"action": "num.kept"}).json()["items"][0]["metadata"]
    assert {k: got[k] for k in kept} == kept
    assert all(type(got[k]) is type(v) for k, v in kept.items()), got


def test_an_unexpected_error_in_the_outermost_layer_still_has_the_error_shape(client, monkeypatch):
    from charter import jsonbody

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(jsonbody, "too_deep", broken)
    with unchecked("a server fault made on purpose: no operation documents a 500"):
        r = client.post("/v1/tenants", json={"slug": "boom", "name": "B"}, headers={"x-request-id": "boom-1"})
    _shaped(r, 500, "internal_error")
    assert r.headers["x-request-id"] == "boom-1"


def test_header_limits_answer_431(store):
    from server.app import create_app

    with create_app(store=store, settings=settings()).test_client(headers=ADMIN) as c:
        _shaped(c.get("/v1/catalog", headers={"x-big": "a" * (1 << 20)}), 431, "headers_too_large")
        _shaped(c.get("/v1/catalog", headers={f"x-h{i}": "1" for i in range(1000)}), 431, "headers_too_large")
        assert c.get("/v1/catalog", headers={"x-fine": "a" * 4096}).status_code == 200
    limited = settings(CHARTER_MAX_HEADERS="8", CHARTER_MAX_HEADER_BYTES="2000")
    with create_app(store=store, settings=limited).test_client(headers=ADMIN) as c:
        _shaped(c.get("/v1/catalog", headers={f"x-h{i}": "1" for i in range(8)}), 431, "headers_too_large")
        _shaped(c.get("/v1/catalog", headers={"x-big": "a" * 2000}), 431, "headers_too_large")
        assert c.get("/v1/catalog").status_code == 200


@pytest.mark.parametrize("value", ["١٢", "1_000", "+5", " 1", "1 ", "007", "1.0", "0x10", "٣"])
def test_query_integers_are_written_as_json_numbers(client, value):
    _shaped(client.get("/v1/audit", params={"limit": value}), 400, "invalid_input")
    _shaped(client.get("/v1/audit", params={"cursor": value}), 400, "invalid_input")


def test_query_integers_in_json_form_pass(client):
    assert client.get("/v1/audit", params={"limit": "12"}).status_code == 200
    assert client.get("/v1/audit", params={"cursor": "-3"}).status_code == 200
    assert client.get("/v1/audit", params={"cursor": "0"}).status_code == 200


def test_json_is_utf8_and_another_charset_answers_415(client):
    declared = ("application/json", "application/json; charset=utf-8", 'application/json; charset="UTF-8"')
    for n, content_type in enumerate(declared):
        body = json.dumps({"slug": f"charset-{n}", "name": "Ü"}).encode()
        r = client.post("/v1/tenants", content=body, headers={"content-type": content_type})
        assert r.status_code == 201 and r.json()["name"] == "Ü", r.text
    body = json.dumps({"slug": "charset-x", "name": "Ü"}).encode()
    for charset in ("utf-16", "latin-1", "no-such-charset"):
        r = client.post("/v1/tenants", content=body, headers={"content-type": f"application/json; charset={charset}"})
        _shaped(r, 415, "unsupported_media_type")
    _shaped(client.post("/v1/tenants", content="{}".encode("utf-16"), headers=JSON), 400, "invalid_input")


def test_no_answer_redirects_to_a_host_from_the_request(client):
    for path in ("/v1/health/", "/v1/tenants/", "/healthz/"):
        r = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
        assert "location" not in r.headers, r.headers
        _shaped(r, 404, "not_found")
    tenant = create_tenant(client)
    r = client.get(f"/v1/tenants/{tenant['id']}/", headers={"host": "evil.example"}, follow_redirects=False)
    assert "location" not in r.headers
    _shaped(r, 404, "not_found")
