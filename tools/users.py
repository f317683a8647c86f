"""`charter users create`: the first real users, straight into the store DATABASE_URL names."""

from __future__ import annotations

import getpass
import sys

from charter.config import Settings


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("charter users create: the passwords differ")
    return first


def create(args) -> int:
    from charter.domain import CLI, Actor, DomainError
    from services.identity import users
    from store import open_store
    from tools.serve import prepare_store

    settings = Settings.from_env()
    if settings.database_url.startswith("memory://"):
        print(
            "charter users create: the memory store lives inside the serving process; use a "
            "sqlite:/// or postgresql:// DATABASE_URL",
            file=sys.stderr,
        )
        return 2
    problem = prepare_store(settings)
    if problem:
        print(f"charter users create: {problem}", file=sys.stderr)
        return 2
    store = open_store(settings.database_url)
    try:
        tenant = users.find_tenant(store, args.tenant) if args.tenant else None
        known = users.existing(store, args.email) is not None
        password = None if known else _password(args)
        if not known and password is None:
            print(
                "charter users create: a new user needs a password: pass --password-stdin, or run in a terminal",
                file=sys.stderr,
            )
            return 2
        outcome = users.grant(store, Actor(CLI, "cli"), args.email, args.role, tenant.id if tenant else None, password)
    except DomainError as exc:
        print(f"charter users create: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    where = f"in tenant {tenant.slug} ({tenant.id})" if tenant else "on the platform"
    verb = "created" if outcome.created else "updated"
    print(f"{verb} user {outcome.user.id} <{outcome.user.email}>: {', '.join(sorted(args.role))} {where}")
    return 0
