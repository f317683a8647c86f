"""Every operation the app serves has a row in its API's table, and every row still matches one.

The operations come from the app's own `GET /openapi.json`, grouped by API by their operationId's
package (`handlers.<api>.…`); the tables are tests/security/tables/<api>.py. A new route, a new
API, or a new id parameter on an old route fails here until the tables say what to probe.
"""

from __future__ import annotations

import re

from tests.security.rows import ANONYMOUS, EVERYONE, PLACEHOLDER, PUBLIC, Public, Route, Scoped, template_positions
from tests.security.served import Operation, api_of, default_app_document
from tests.security.tables import PENDING, PENDING_OPS, TABLES

SCHEMES = {"bearerAuth", "serviceKey"}  # the schemes the probe knows B's credentials for


def served() -> dict[str, Operation]:
    """Served operations by their operationId."""
    return {op.op_id: op for op in default_app_document().operations()}


def _pairs(route: Route, op: Operation) -> list[tuple[str, str]]:
    """(the route's segment, the spec's) along their paths; [] when they differ in length."""
    mine, theirs = route.path.split("/"), op.path.split("/")
    return list(zip(mine, theirs, strict=True)) if len(mine) == len(theirs) else []


def covered(route: Route, op: Operation) -> set[str]:
    """The spec positions a route fills: its query and body placeholders, and each path
    parameter the route has a placeholder in."""
    placed = {p for p in template_positions(route) if not p.startswith("path:")}
    for mine, theirs in _pairs(route, op):
        name = re.fullmatch(r"\{(\w+)\}", theirs)
        if name and PLACEHOLDER.fullmatch(mine):
            placed.add(f"path:{name[1]}")
    return placed


def matches(route: Route, op: Operation, waived: dict) -> bool:
    """Whether the route is a request of the operation: a placeholder where the spec has a path
    parameter, or a literal value there when that position is waived (no tenant object)."""
    pairs = _pairs(route, op)
    if route.method != op.method or not pairs:
        return False
    for mine, theirs in pairs:
        name = re.fullmatch(r"\{(\w+)\}", theirs)
        if name is None:
            if mine != theirs:
                return False
        elif not PLACEHOLDER.fullmatch(mine) and f"path:{name[1]}" not in waived:
            return False
    return True


def test_every_served_operation_has_a_row_and_every_row_an_operation():
    ops = served()
    problems = []
    for op_id in sorted(ops):
        api = api_of(op_id)
        if api in PENDING or op_id in PENDING_OPS:
            continue  # listed by test_pending_tables_are_declared
        if api not in TABLES:
            problems.append(f"{op_id}: no table for API {api!r} (add tests/security/tables/{api}.py)")
        elif op_id not in TABLES[api]:
            problems.append(f"{op_id}: no row in tests/security/tables/{api}.py")
    for api, rows in sorted(TABLES.items()):
        for op_id in sorted(rows):
            if not op_id.startswith(f"handlers.{api}."):
                problems.append(f"{op_id}: in the {api} table, but it belongs to {api_of(op_id)}'s")
            elif op_id not in ops:
                problems.append(
                    f"{op_id}: a row in tests/security/tables/{api}.py, but the app serves no such operation"
                )
    assert not problems, f"{len(problems)} table problems:\n" + "\n".join(problems)


def test_rows_agree_with_the_spec():
    """Public in the spec is public in the table; routes are the operation's; every position the
    spec gives a request is filled by some probe, or waived with a reason; the matrix's statuses
    are documented."""
    problems = []
    for op_id, op in sorted(served().items()):
        try:
            row = TABLES[api_of(op_id)][op_id]
        except KeyError:
            continue  # the test above names it
        probe, access = row.probe, row.access
        table_public = isinstance(probe, Public) or probe.public
        if op.public != table_public:
            problems.append(f"{op_id}: public in the spec is {op.public}, the table says {table_public}")
        if op.public != (ANONYMOUS in access.allowed):
            problems.append(
                f"{op_id}: public in the spec is {op.public}, but the matrix "
                f"{'refuses' if op.public else 'allows'} an anonymous caller"
            )
        if not access.allowed <= PUBLIC:
            problems.append(f"{op_id}: unknown callers {sorted(access.allowed - PUBLIC)}")
        if access.status not in op.documented or not 200 <= access.status < 300:
            problems.append(
                f"{op_id}: the matrix expects {access.status}, not a 2xx the spec documents ({sorted(op.documented)})"
            )
        if EVERYONE - access.allowed and access.denied[0] not in op.documented:
            problems.append(f"{op_id}: the matrix expects {access.denied} for the others, undocumented")
        if not op.public and not op.schemes <= SCHEMES:
            problems.append(
                f"{op_id}: security schemes {sorted(op.schemes - SCHEMES)} are new to the "
                "probe: teach tests/security/test_bola.py which of B's credentials they take"
            )
        routes = (probe.route,) if isinstance(probe, Public) else probe.routes
        waived = probe.waived
        for route in routes:
            if not matches(route, op, waived):
                problems.append(f"{op_id}: {route.method} {route.path} is not {op.method} {op.path}")
            if route.credential == "body" and not op.public:
                problems.append(f"{op_id}: a credential in the body, but the spec wants one in the header")
        if isinstance(probe, Scoped):
            positions = op.positions()
            placed = set().union(*(covered(r, op) for r in probe.routes))
            missing = positions - placed - set(probe.waived)
            if missing:
                problems.append(f"{op_id}: the spec takes {sorted(missing)}, which no probe fills")
            stale = set(probe.waived) - positions
            if stale:
                problems.append(f"{op_id}: waives {sorted(stale)}, which the spec no longer takes")
        else:
            missing, stale = op.positions() - set(probe.waived), set(probe.waived) - op.positions()
            if missing:
                problems.append(
                    f"{op_id}: public with no tenant object, yet the spec takes "
                    f"{sorted(missing)}: probe them (Scoped) or say why not (waived)"
                )
            if stale:
                problems.append(f"{op_id}: waives {sorted(stale)}, which the spec no longer takes")
    assert not problems, "\n".join(problems)


def test_pending_tables_are_declared(capsys):
    """An API may be PENDING only with a reason and no rows; the run says which are."""
    for api, why in PENDING.items():
        assert why.strip() and not TABLES[api], api
    ops = served()
    for op_id, why in PENDING_OPS.items():
        assert why.strip() and op_id in ops and op_id not in TABLES.get(api_of(op_id), {}), op_id
    with capsys.disabled():
        print(f"\nsecurity tables pending: {sorted(PENDING) or 'none'}; rows pending: {sorted(PENDING_OPS) or 'none'}")
