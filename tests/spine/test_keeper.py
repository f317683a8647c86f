"""charter.idempotency.Keeper over every store: what is kept, what is not (issue 11, part 5)."""

from __future__ import annotations

import pytest

from charter import domain, idempotency, runtime
from charter.config import Settings
from charter.sealing import Sealer
from store.models import KeptAnswer
from tests.store.conftest import make_tenant

TENANT = domain.Actor(domain.SERVICE, "key-1", tenant_id=make_tenant().id)


@pytest.fixture
def keeper(store):
    services = runtime.Services(store=store, settings=Settings.from_env({"DATABASE_URL": "memory://"}))
    tokens = runtime.bind(services, runtime.Caller("req", None, None))
    principal = runtime.bind_principal(type("P", (), {"as_actor": lambda self, caller: TENANT})())
    try:
        yield idempotency.Keeper(store, Sealer(b"k" * 32), 60, KeptAnswer)
    finally:
        runtime.reset_principal(principal)
        runtime.reset(tokens)


def _creating(store, slug: str, status: int):
    def call() -> idempotency.Answer:
        with store.write() as s:
            s.tenants.add(make_tenant(slug=slug))
        return idempotency.Answer(status, [(b"content-type", b"application/json")], b'{"made": true}')

    return call


def test_a_5xx_answer_is_not_kept_and_its_changes_roll_back(keeper, store):
    first = keeper.run("k-5xx", "fp", _creating(store, "five-hundred", 503))
    assert first.status == 503
    with store.read() as s:
        assert s.tenants.get_by_slug("five-hundred") is None
    again = keeper.run("k-5xx", "fp", _creating(store, "five-hundred", 201))
    assert again.status == 201 and idempotency.REPLAYED not in again.headers


def test_an_unexpected_error_keeps_nothing(keeper, store):
    def broken() -> idempotency.Answer:
        _creating(store, "broken", 201)()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        keeper.run("k-err", "fp", broken)
    with store.read() as s:
        assert s.tenants.get_by_slug("broken") is None
    assert keeper.run("k-err", "fp", _creating(store, "broken", 201)).status == 201


def test_a_handled_4xx_is_kept_and_replayed(keeper, store):
    def refused() -> idempotency.Answer:
        raise domain.Conflict("taken", "slug_taken")

    first = keeper.run("k-409", "fp", lambda: idempotency.handled(refused))
    assert first.status == 409 and b"slug_taken" in first.body
    again = keeper.run("k-409", "fp", lambda: pytest.fail("a kept answer runs nothing"))
    assert again.status == 409 and idempotency.REPLAYED in again.headers and again.body == first.body
    other = keeper.run("k-409", "another request", lambda: pytest.fail("a reused key runs nothing"))
    assert other.status == 422 and idempotency.REUSED.encode() in other.body


def test_a_kept_answer_does_not_open_under_another_key(keeper, store):
    keeper.run("k-sealed", "fp", _creating(store, "sealed", 201))
    stranger = idempotency.Keeper(store, Sealer(b"x" * 32), 60, KeptAnswer)
    with pytest.raises(ValueError):
        stranger.run("k-sealed", "fp", lambda: pytest.fail("kept"))
