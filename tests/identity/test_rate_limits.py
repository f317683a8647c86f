"""Rate limits on login and key verify, in-process on every store and across two gunicorn workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import ADMIN, ADMIN_KEY, assert_error, audit, create_key, create_tenant, settings
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


def test_verify_counts_failures_and_never_locks_out_a_verified_key(limited, store):
    def verify(client, key):
        return client.post("/v1/internal/api-keys/verify", json={"key": key})

    tenant = create_tenant(limited)
    good = create_key(limited, tenant["id"])["plaintext"]
    for _ in range(20):  # good keys are never held back
        assert verify(limited, good).json()["valid"] is True
    wrong_tail = good[:11] + ("A" if good[11] != "A" else "B") + good[12:]
    # this worker knows the key: a wrong tail costs an HMAC, not argon2, and counts for the address only
    for _ in range(3):
        assert verify(limited, wrong_tail).json() == {"valid": False}
    with _app(store).test_client() as cold:  # another worker, which has not verified the key yet
        for _ in range(2):  # each costs it an argon2 run: the prefix's two
            assert verify(cold, wrong_tail).json() == {"valid": False}
        _retry_after(verify(cold, wrong_tail))  # no third argon2 run for that prefix
        _retry_after(verify(cold, good))  # nor for the right key, on a worker that would need one
    assert verify(limited, good).json()["valid"] is True  # where it is known, it is never locked out
    assert verify(limited, "bp_nonsense").json() == {"valid": False}  # the address's sixth failure
    _retry_after(verify(limited, good))  # now the address waits, good key or not


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
    """`charter serve --workers 2`, its stderr (the access log) in cwd/stderr.log."""
    from tests.tools.test_serve import _wait_up
    from tools.server import free_port

    port = free_port()
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full.update({"CHARTER_ADMIN_KEY": ADMIN_KEY, "CHARTER_PORT": str(port), **env})
    with open(cwd / "stderr.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.cli", "serve", "--workers", "2"],
            cwd=cwd,
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    _wait_up(proc, base)
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
