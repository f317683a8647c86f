"""Fresh, migrated stores for one benchmark run: PostgreSQL schemas and SQLite files.

PostgreSQL comes from BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the test default. Each
server gets a schema of its own, reached through the URL option `options=-csearch_path=<schema>`
exactly as tests/conftest.py does, and the schema is dropped when the context ends, whatever
happened.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_base() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT


def with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    import psycopg

    try:
        psycopg.connect(postgres_base(), connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {postgres_base()} unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(postgres_base(), connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


@contextmanager
def postgres_schema(tag: str, root: Path | None = None) -> Iterator[str]:
    """A migrated schema of its own; yields its URL and drops it at the end. `root`: another
    checkout of Charter (a --baseline revision), whose own `charter migrate` migrates it, so the
    schema is the one that revision expects."""
    import psycopg

    from store.sql.migrate import upgrade

    base = postgres_base()
    schema = f"charter_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = with_schema(base, schema)
        if root is None:
            upgrade(url)
        else:
            _migrate_with(root, url)
        yield url
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _migrate_with(root: Path, url: str) -> None:
    from bench.servers import python

    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [python(), "-m", "tools.cli", "migrate"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"charter migrate at {root} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def sqlite_file(path: Path) -> str:
    """A fresh, migrated SQLite file; returns its URL."""
    from store.sql.migrate import upgrade

    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url
