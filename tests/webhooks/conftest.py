"""Fixtures for deliveries: a loopback receiver, and the app with a short retry schedule whose
in-process job worker delivers while the test client is open."""

from __future__ import annotations

import pytest

from tests.helpers import settings
from tests.webhooks.receiver import Receiver

SCHEDULE = "0,0.05,0.05"  # three attempts, 50 ms apart (with jitter)


def delivering_app(store, **env: str):
    from server.app import create_app

    env = {
        "CHARTER_WEBHOOK_ALLOW_PRIVATE": "1",
        "CHARTER_WEBHOOK_RETRY_SCHEDULE": SCHEDULE,
        "CHARTER_JOB_POLL_MS": "50",
        "CHARTER_INPROCESS_WORKER": "1",
        **env,
    }
    return create_app(store=store, settings=settings(**env), inprocess_worker=True)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def hooks(store):
    """A platform client of an app that delivers, for as long as the test runs."""
    from tests.helpers import ADMIN

    with delivering_app(store).test_client(headers=ADMIN) as c:
        yield c
