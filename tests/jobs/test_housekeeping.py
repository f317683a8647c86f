"""The platform.sweep job: what ran out of time goes, on every store; what did not, stays."""

from __future__ import annotations

from datetime import timedelta

from charter import jobs
from charter.config import Settings
from charter.domain import JOB, Actor
from charter.jobs import Context, Periodic
from charter.runtime import Services
from server.apis import APIS
from services.gateway import housekeeping
from store.models import new_job, utcnow
from tests.store.conftest import make_job, make_kept_answer, make_signing_key


def test_the_gateway_registers_the_sweep_every_ten_minutes():
    found = jobs.registered(APIS)
    assert found.types[housekeeping.KIND].run is housekeeping.sweep
    assert Periodic(housekeeping.KIND, 600) in found.periodic


def test_the_sweep_deletes_what_expired_and_keeps_the_rest(store):
    now = utcnow()
    expired_answer = make_kept_answer(created_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1))
    live_answer = make_kept_answer(expires_at=now + timedelta(hours=1))
    expired_key = make_signing_key(expires_at=now - timedelta(seconds=1))
    live_key = make_signing_key()
    old_done = make_job(state="done", finished_at=now - timedelta(days=8))
    new_done = make_job(state="done", finished_at=now - timedelta(days=6))
    old_dead = make_job(state="dead", finished_at=now - timedelta(days=31))
    new_dead = make_job(state="dead", finished_at=now - timedelta(days=8))
    pending = make_job(run_at=now - timedelta(days=60))
    with store.write() as s:
        for answer in (expired_answer, live_answer):
            s.kept_answers.put(answer)
        for key in (expired_key, live_key):
            s.signing_keys.add(key)
        for job in (old_done, new_done, old_dead, new_dead, pending):
            s.jobs.enqueue(job)
    reported = []
    services = Services(store=store, settings=Settings.from_env({"DATABASE_URL": "memory://"}))
    context = Context(
        services, Actor(JOB, housekeeping.KIND), new_job(housekeeping.KIND), lambda *p: reported.append(p)
    )
    housekeeping.sweep(context)
    with store.read() as s:
        assert s.kept_answers.get(expired_answer.scope, expired_answer.key_hash, expired_answer.created_at) is None
        assert s.kept_answers.get(live_answer.scope, live_answer.key_hash, now) == live_answer
        assert s.signing_keys.get(expired_key.kid) is None and s.signing_keys.get(live_key.kid) == live_key
        assert [s.jobs.get(j.id) is not None for j in (old_done, new_done, old_dead, new_dead, pending)] == [
            False,
            True,
            False,
            True,
            True,
        ]
    assert reported == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
