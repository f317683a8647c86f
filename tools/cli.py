"""The `charter` command: serve, worker, migrate, check, lint, diff, scaffold, fuzz, users, verify-pack."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import replace
from pathlib import Path


def _serve(args) -> int:
    from charter.config import Settings
    from tools.serve import serve

    settings = Settings.from_env()
    settings = replace(
        settings,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
    )
    return serve(settings)


def _worker(args) -> int:
    from charter.config import Settings
    from tools.jobs import work

    return work(Settings.from_env(), args.concurrency, args.api or [])


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _migrate(args) -> int:
    from charter.config import Settings
    from store.sql import migrate

    url = Settings.from_env().database_url
    if url.startswith("memory://"):
        print("charter migrate: the memory store has no schema to migrate", file=sys.stderr)
        return 0
    from store.errors import Unavailable
    from tools.serve import unreachable

    try:
        before = migrate.current(url)
        migrate.upgrade(url)
        after = migrate.current(url)
    except ValueError as exc:
        print(f"charter migrate: DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        print(f"charter migrate: {unreachable(url, exc)}", file=sys.stderr)
        return 2
    print(f"charter migrate: {before or 'empty'} -> {after}")
    return 0


def _check(args) -> int:
    from tools.check import problems

    found = problems(Path(args.specs_dir)) if args.specs_dir else problems()
    for line in found:
        print(f"FAIL {line}")
    if found:
        print(f"charter check: {len(found)} problem(s)")
        return 1
    print("charter check: every operation has a handler and every handler an operation")
    return 0


def _lint(args) -> int:
    from tools.lint import run

    return run()


def _diff(args) -> int:
    from tools.diff import run

    return run(args.base)


def _scaffold(args) -> int:
    from tools.scaffold import scaffold

    written = scaffold(Path(args.spec))
    for line in written:
        print(line)
    if not written:
        print("charter scaffold: every operationId already has a handler")
    return 0


def _fuzz(args) -> int:
    from tools import fuzz

    result = fuzz.run(
        url=args.url,
        names=args.spec or (),
        max_examples=args.max_examples,
        seed=args.seed,
        extra=args.schemathesis_args,
        headers=args.header or (),
    )
    print(result.table())
    return result.returncode


def _users_create(args) -> int:
    from tools.users import create

    return create(args)


def _verify_pack(args) -> int:
    from tools.verify_pack import verify_file

    return verify_file(args.file, args.key)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="charter", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve every spec with gunicorn (uvicorn workers)")
    s.add_argument("--host", help="bind address (env CHARTER_HOST, default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (env CHARTER_PORT, default 8080)")
    s.add_argument("--workers", type=int, help="worker processes (env CHARTER_WORKERS, default 1)")
    s.set_defaults(func=_serve)

    s = sub.add_parser("worker", help="run background jobs until SIGTERM (any number of these share one database)")
    s.add_argument("--concurrency", type=_positive, default=4, help="jobs run at once (default 4)")
    s.add_argument(
        "--api",
        action="append",
        metavar="MODULE",
        help="also run the jobs of the API this module registers (repeatable)",
    )
    s.set_defaults(func=_worker)

    s = sub.add_parser("migrate", help="bring the DATABASE_URL schema to the newest revision")
    s.set_defaults(func=_migrate)

    s = sub.add_parser("check", help="the contract gate between specs/ and handlers/")
    s.add_argument("--specs-dir", help=argparse.SUPPRESS)
    s.set_defaults(func=_check)

    s = sub.add_parser("lint", help="Redocly's recommended rules over every spec and the served document")
    s.set_defaults(func=_lint)

    s = sub.add_parser("diff", help="Optic's breaking-changes rules: every spec against its BASE revision")
    s.add_argument("base", nargs="?", help="git revision (default: last v* tag, else the merge base with main)")
    s.set_defaults(func=_diff)

    s = sub.add_parser("scaffold", help="write 501 stubs for operationIds without a handler")
    s.add_argument("spec", help="specs/<api>.yaml")
    s.set_defaults(func=_scaffold)

    s = sub.add_parser("fuzz", help="schemathesis over every operation, all checks and phases")
    s.add_argument("--url", help="fuzz a running Charter at this base URL instead of an in-process one")
    s.add_argument("--spec", action="append", help="fuzz only this spec (repeatable)")
    s.add_argument("--max-examples", type=int, default=50)
    s.add_argument("--seed", type=int)
    s.add_argument(
        "--header",
        action="append",
        metavar="NAME: VALUE",
        help="send this header with every request, e.g. 'Authorization: Bearer …' with --url",
    )
    s.add_argument("schemathesis_args", nargs="*", help="passed on to `schemathesis run` (after --)")
    s.set_defaults(func=_fuzz)

    users = sub.add_parser("users", help="users who sign in with an email and a password")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    s = users_sub.add_parser("create", help="create a user, or give an existing one more roles")
    s.add_argument("--email", required=True)
    s.add_argument("--tenant", help="tenant id or slug; leave out for platform roles")
    s.add_argument(
        "--role",
        action="append",
        required=True,
        help="tenant_admin or tenant_member in a tenant; platform_admin or support without one (repeatable)",
    )
    s.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input instead of prompting"
    )
    s.set_defaults(func=_users_create)

    s = sub.add_parser("verify-pack", help="check a ledger verifier pack offline, with no server")
    s.add_argument("file", help="the pack, from GET /v1/compliance/ledger/verifier-pack")
    s.add_argument("--key", help="the note verifier key it must be signed with (GET /v1/compliance/keys)")
    s.set_defaults(func=_verify_pack)
    return p


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    args = parser().parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
