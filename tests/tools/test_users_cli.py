"""`charter users create` as a real process against a SQLite file, then signing in through the app."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

PASSWORD = "a long enough passphrase"


def _users(tmp_path, *args, password: str | None = PASSWORD, url: str | None = None):
    env = {**os.environ, "DATABASE_URL": url or f"sqlite:///{tmp_path / 'charter.db'}"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.cli",
            "users",
            "create",
            *args,
            *(["--password-stdin"] if password is not None else []),
        ],
        input=(password + "\n") if password is not None else "",
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_platform_and_tenant_users_then_sign_in(tmp_path):
    from server.app import create_app
    from store.sql import SqlStore
    from tests.helpers import ADMIN, settings

    first = _users(tmp_path, "--email", "Root@Example.com", "--role", "platform_admin")
    assert first.returncode == 0, first.stderr
    assert "created user" in first.stdout and "<root@example.com>" in first.stdout

    store = SqlStore(f"sqlite:///{tmp_path / 'charter.db'}")  # the command migrated the new file
    try:
        with create_app(store=store, settings=settings()).test_client(headers=ADMIN) as c:
            acme = c.post("/v1/tenants", json={"slug": "acme", "name": "Acme"}).json()
            other = c.post("/v1/tenants", json={"slug": "other", "name": "Other"}).json()
            member = _users(tmp_path, "--email", "ann@example.com", "--tenant", "acme", "--role", "tenant_admin")
            assert member.returncode == 0 and f"in tenant acme ({acme['id']})" in member.stdout, member.stderr
            # an existing email keeps its password and gains a membership by id: no password asked
            again = _users(
                tmp_path,
                "--email",
                "ann@example.com",
                "--tenant",
                other["id"],
                "--role",
                "tenant_member",
                password=None,
            )
            assert again.returncode == 0 and "updated user" in again.stdout, again.stderr

            def sign_in(email, **body):
                return c.post("/v1/auth/login", json={"email": email, "password": PASSWORD, **body})

            assert sign_in("root@example.com").json()["roles"] == ["platform_admin"]
            assert sign_in("ann@example.com", tenant_id=acme["id"]).json()["roles"] == ["tenant_admin"]
            assert sign_in("ann@example.com", tenant_id=other["id"]).json()["roles"] == ["tenant_member"]
            created = [e for e in c.get("/v1/audit", params={"actor_id": "cli"}).json()["items"]]
            assert [e["action"] for e in created] == ["user.roles_granted", "user.created", "user.created"]
            assert {e["actor_type"] for e in created} == {"cli"}
        with store.engine.connect() as conn:
            dump = " ".join(
                str(v)
                for t in ("users", "memberships", "audit_events")
                for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
                for v in row
            )
        assert "root@example.com" in dump and "$argon2id$" in dump and PASSWORD not in dump
    finally:
        store.close()


def test_refusals_are_explained(tmp_path):
    cases = [
        (["--email", "x@example.com", "--role", "tenant_admin"], "roles without --tenant are"),
        (["--email", "x@example.com", "--role", "root"], "roles without --tenant are"),
        (
            ["--email", "x@example.com", "--tenant", "nope", "--role", "tenant_admin"],
            "no tenant with id or slug 'nope'",
        ),
        (["--email", "not-an-email", "--role", "support"], "is not an email address"),
    ]
    for args, message in cases:
        run = _users(tmp_path, *args)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, (args, run.stderr)
    short = _users(tmp_path, "--email", "x@example.com", "--role", "support", password="short")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    silent = _users(tmp_path, "--email", "y@example.com", "--role", "support", password=None)
    assert silent.returncode == 2 and "--password-stdin" in silent.stderr
    memory = _users(tmp_path, "--email", "x@example.com", "--role", "support", url="memory://")
    assert memory.returncode == 2 and "memory store" in memory.stderr


def test_on_postgres_the_schema_must_be_current(tmp_path, pg_empty_url):
    behind = _users(tmp_path, "--email", "pg@example.com", "--role", "support", url=pg_empty_url)
    assert behind.returncode == 2 and "charter migrate" in behind.stderr
    migrated = subprocess.run(
        [sys.executable, "-m", "tools.cli", "migrate"],
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "DATABASE_URL": pg_empty_url},
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    made = _users(tmp_path, "--email", "pg@example.com", "--role", "support", url=pg_empty_url)
    assert made.returncode == 0 and "created user" in made.stdout, made.stderr
