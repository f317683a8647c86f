"""One security table per API: `tables/<api>.py` holds `ROWS`, a row (tests/security/rows.py)
for every operation whose operationId is `handlers.<api>.…`. A new API adds one module here;
tests/security/test_tables.py fails on a served operation without a row, and on a row for an
operation the app no longer serves."""

from __future__ import annotations

import importlib
import pkgutil

from tests.security.rows import Row
from tests.security.served import api_of

_MODULES = {
    info.name: importlib.import_module(f"{__name__}.{info.name}")
    for info in pkgutil.iter_modules(__path__)
    if not info.name.startswith("_")
}
TABLES: dict[str, dict[str, Row]] = {name: module.ROWS for name, module in _MODULES.items()}
# APIs whose table is not written yet (`PENDING = "why, and what covers it meanwhile"` in its
# module, with no rows): the 401 sweep still covers their protected operations; the BOLA probe
# and the role matrix leave them out until the table is there. test_tables lists them.
PENDING: dict[str, str] = {name: module.PENDING for name, module in _MODULES.items() if getattr(module, "PENDING", "")}
# Operations of a written table whose rows are not written yet (`PENDING_OPS = {operationId: "why,
# and what covers it meanwhile"}` in its module): left out of the probe and the matrix likewise.
PENDING_OPS: dict[str, str] = {
    op_id: why for module in _MODULES.values() for op_id, why in (getattr(module, "PENDING_OPS", None) or {}).items()
}


def tabled(ops: list) -> list:
    """The operations whose API has its table (not PENDING) and that have their row."""
    return [op for op in ops if api_of(op.op_id) not in PENDING and op.op_id not in PENDING_OPS]


def row(op_id: str) -> Row:
    """The row of a served operationId (KeyError when its API's table has none)."""
    return TABLES[api_of(op_id)][op_id]


def has_row(op_id: str) -> bool:
    return op_id in TABLES.get(api_of(op_id), {})
