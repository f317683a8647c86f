"""Rate limits on login and key verify, in-process on every store and across two gunicorn workers."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import ADMIN, assert_error, audit, create_key, create_tenant, legacy_key, settings
from tests.identity.helpers import add_user, login

LIMITS = "login.account=3/60,login.ip=5/60,verify.ip=6/60,verify.key=2/60"


def _app(store):
    from server.app import create_app

    return create_app(store=store, settings=settings(CHARTER_RATE_LIMITS=LIMITS))


@pytest.fixture
def limited(store):
    """An app with tight limits; yields a client sending the bootstrap key."""
    with _app(store).test_client(headers=ADMIN) as c:
        yield c


def _retry_after(response) -> int:
    assert_error(response, 429, "rate_limited")
    return int(response.headers["retry-after"])


def test_login_is_limited_per_account_then_per_address(limited, store):
    user = add_user(store, ["platform_admin"])
    for _ in range(3):
        assert_error(login(limited, user.email, password="wrong password!"), 401, "invalid_credentials")
    # the account is used up: even the right password waits, and nothing is checked or audited
    assert 1 <= _retry_after(login(limited, user.email)) <= 20
    assert len(audit(limited, action="auth.login_failed")) == 3
    # another account from the same address: two more attempts fit the address's five
    other = add_user(store, ["platform_admin"])
    assert login(limited, other.email).status_code == 200
    assert login(limited, other.email).status_code == 200  # successes do not use up an account
    _retry_after(login(limited, other.email))


def test_verify_counts_failures_and_never_refuses_a_key_that_verifies(limited, store):
    def verify(client, key):
        return client.post("/v1/internal/api-keys/verify", json={"key": key})

    tenant = create_tenant(limited)
    good = create_key(limited, tenant["id"])["plaintext"]
    for _ in range(20):  # good keys are never held back
        assert verify(limited, good).json()["valid"] is True
    wrong_tail = good[:11] + ("A" if good[11] != "A" else "B") + good[12:]
    for _ in range(6):  # the address's six failures, on the good key's own prefix
        assert verify(limited, wrong_tail).json() == {"valid": False}
    _retry_after(verify(limited, wrong_tail))  # now its failures wait
    _retry_after(verify(limited, "bp_nonsense"))
    with _app(store).test_client() as cold:  # another worker, which has never seen the key
        for _ in range(20):  # the same address, over its failures, behind the same gateway
            assert verify(cold, good).json()["valid"] is True
    old = legacy_key(store, tenant["id"])  # made before SHA-256: argon2 once per worker
    with _app(store).test_client() as cold:
        assert verify(cold, old).json()["valid"] is True
    assert verify(limited, old).json()["valid"] is True


def test_an_attacker_on_a_prefix_costs_no_good_key_a_refusal(store):
    """The bound the README states, measured: an attacker sends bad keys on a good key's prefix
    from one address while the good key's owner verifies from the same address on a worker that
    has never seen the key; every good verify answers valid, the attacker gets 429 past the
    address's failures, and no argon2 run is spent (keys made now are SHA-256 at rest)."""
    from auth.context import Auth

    app = _app(store)
    with app.test_client(headers=ADMIN) as c:
        tenant = create_tenant(c)
        good = create_key(c, tenant["id"])["plaintext"]
        bad = [good[:11] + f"{n:011d}" for n in range(200)]
        statuses = []
        for n, key in enumerate(bad):
            statuses.append(c.post("/v1/internal/api-keys/verify", json={"key": key}).status_code)
            if n % 20 == 0:
                assert c.post("/v1/internal/api-keys/verify", json={"key": good}).json()["valid"] is True
        assert statuses.count(429) == 200 - 6  # past the address's six failures
        assert app.services.get(Auth).keys.argon2_runs == 0


def test_default_limits_are_configurable_and_checked(store):
    from server.app import create_app

    for bad in ("login.ip=ten/60", "login.ip=0/60", "nothing.ip=1/1", "login.ip"):
        with pytest.raises(SystemExit, match="CHARTER_RATE_LIMITS"):
            create_app(store=store, settings=settings(CHARTER_RATE_LIMITS=bad))
    app = create_app(store=store, settings=settings(CHARTER_RATE_LIMITS="login.ip=off, login.account=off"))
    user = add_user(store, ["support"])
    with app.test_client() as c:
        assert all(login(c, user.email, password="wrong password!").status_code == 401 for _ in range(12))


# ------------------------------------------------------------------------- two gunicorn workers


def _serve(cwd, env: dict) -> tuple[subprocess.Popen, str]:
    """`charter serve --workers 2`, its output (the access log) in cwd/stderr.log."""
    from tests.tools.serving import start, wait_up
    from tools.server import free_port

    port = free_port()
    proc = start(cwd, "--workers", "2", env={"CHARTER_PORT": str(port), **env}, log=cwd / "stderr.log")
    base = f"http://127.0.0.1:{port}"
    wait_up(proc, base)
    return proc, base


def _login_workers(log_path) -> set[int]:
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith('{"')]
    return {line["pid"] for line in lines if line.get("operation_id") == "handlers.identity.sessions.login"}


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_login_limit_holds_across_two_gunicorn_workers(database, tmp_path, request):
    """Six attempts per address, whichever worker takes them. The kernel decides which worker
    accepts a connection, so batches of concurrent attempts go out until the access log shows
    both workers answering logins; the six must still be six in all."""
    import signal

    from store.sql.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'limits.db'}" if database == "sqlite" else request.getfixturevalue("pg_empty_url")
    upgrade(url)
    proc, base = _serve(tmp_path, {"DATABASE_URL": url, "CHARTER_RATE_LIMITS": "login.ip=6/600,login.account=off"})
    answers = []
    try:

        def attempt(i):  # a new connection each
            return httpx.post(
                f"{base}/v1/auth/login",
                timeout=60,
                json={"email": f"nobody-{i}@example.com", "password": "wrong password!"},
            )

        with ThreadPoolExecutor(15) as pool:
            for batch in range(20):
                answers += pool.map(attempt, range(batch * 15, (batch + 1) * 15))
                if len(_login_workers(tmp_path / "stderr.log")) == 2:
                    break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    statuses = [r.status_code for r in answers]
    assert statuses.count(401) == 6 and statuses.count(429) == len(answers) - 6, statuses
    assert all(int(r.headers["retry-after"]) >= 1 for r in answers if r.status_code == 429)
    assert len(_login_workers(tmp_path / "stderr.log")) == 2, "one worker took every attempt of 20 batches"
