"""One security table per API: `tables/<api>.py` holds `ROWS`, a row (tests/security/rows.py)
for every operation whose operationId is `handlers.<api>.…`. A new API adds one module here;
tests/security/test_tables.py fails on a served operation without a row, and on a row for an
operation the app no longer serves."""

from __future__ import annotations

import importlib
import pkgutil

from tests.security.rows import Row
from tests.security.served import api_of

TABLES: dict[str, dict[str, Row]] = {
    info.name: importlib.import_module(f"{__name__}.{info.name}").ROWS
    for info in pkgutil.iter_modules(__path__)
    if not info.name.startswith("_")
}


def row(op_id: str) -> Row:
    """The row of a served operationId (KeyError when its API's table has none)."""
    return TABLES[api_of(op_id)][op_id]


def has_row(op_id: str) -> bool:
    return op_id in TABLES.get(api_of(op_id), {})
