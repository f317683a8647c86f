"""Fixtures shared by every test: stores on memory, SQLite and PostgreSQL, and the real app.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
Each test run works in a schema of its own, so parallel runs never see each other's rows.
When CHARTER_REQUIRE_POSTGRES is set (CI sets it), an unreachable PostgreSQL fails the run
instead of skipping, and any skipped PostgreSQL test turns the exit status into a failure.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
REQUIRE_PG = bool(os.environ.get("CHARTER_REQUIRE_POSTGRES"))
STORES = ["memory", "sqlite", "postgres"]


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_url():
    """A migrated, private schema in the test PostgreSQL; dropped at the end of the run."""
    import psycopg

    base = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    schema = f"charter_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {base} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {base} unreachable: {exc}")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = _with_schema(base, schema)
    from store.sql.migrate import upgrade

    upgrade(url)
    try:
        yield url
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def pg_empty_url(pg_url):
    """A URL to a fresh, empty (never migrated) schema in the test PostgreSQL."""
    import psycopg

    base = os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)
    schema = f"charter_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_schema(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_store(pg_url):
    """An emptied SqlStore on the test PostgreSQL, for tests that run on it alone."""
    from store.sql import SqlStore
    from tests.store.helpers import empty_tables

    sql_store = SqlStore(pg_url)
    empty_tables(sql_store)
    yield sql_store
    sql_store.close()


def make_store(kind: str, request, tmp_path):
    if kind == "memory":
        from store.memory import MemoryStore

        return MemoryStore()
    from store.sql import SqlStore
    from store.sql.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'charter.db'}"
        upgrade(url)
        return SqlStore(url)
    from tests.store.helpers import empty_tables

    url = request.getfixturevalue("pg_url")
    sql_store = SqlStore(url)
    empty_tables(sql_store)
    return sql_store


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    """The same test on every store implementation."""
    s = make_store(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture
def app(store):
    """The real app over `store`, with the tests' bootstrap key. Its answers are checked by the test
    client (tests/contract.py), not by Connexion's response validation."""
    from server.app import create_app
    from tests.helpers import settings

    return create_app(store=store, settings=settings())


@pytest.fixture
def client(app):
    """A client that sends the bootstrap key: a platform_admin."""
    from tests.helpers import ADMIN

    with app.test_client(headers=ADMIN) as c:
        yield c


@pytest.fixture
def anonymous(app):
    """A client that sends no credential."""
    with app.test_client() as c:
        yield c


@pytest.fixture(scope="session")
def goverifier(tmp_path_factory) -> str:
    """The Go verifier's binary (tests/compliance/goverifier.py), built once per test process."""
    from tests.compliance.goverifier import build

    return build(tmp_path_factory.mktemp("go"))


@pytest.fixture(autouse=True, scope="session")
def contract_check():
    """Every in-process test client checks each exchange against the served document
    (tests/contract.py)."""
    import connexion.apps.abstract

    from tests.contract import CheckedClient

    patch = pytest.MonkeyPatch()
    patch.setattr(connexion.apps.abstract, "TestClient", CheckedClient)
    yield
    patch.undo()


_skipped_pg: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "postgres" in report.nodeid:
        _skipped_pg.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: its contract counts go to the controller
        from tests.contract import export

        workeroutput["contract"] = export()
    if REQUIRE_PG and _skipped_pg:
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests.contract import absorb

    absorb(getattr(node, "workeroutput", {}).get("contract"))


def pytest_terminal_summary(terminalreporter):
    from tests.contract import summary

    for line in summary():
        terminalreporter.write_line(line)
    if REQUIRE_PG and _skipped_pg:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped_pg)} PostgreSQL test(s) were skipped but CHARTER_REQUIRE_POSTGRES is set",
            red=True,
        )
