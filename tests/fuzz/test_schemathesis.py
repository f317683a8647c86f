"""schemathesis over every operation of every spec, all checks (ignored_auth too), all phases, on
every store, with the bootstrap key as the credential. One module per store (this one, and
test_schemathesis_sqlite.py and _postgres.py): the suite runs a module per worker at a time, and
each run takes minutes."""

import pytest

from charter import specs

MAX_EXAMPLES = 50


def _operations_with_input() -> set[str]:
    doc = specs.load_merged()
    return {f"{m.upper()} {p}" for m, p, op in specs.operations(doc) if op.get("parameters") or op.get("requestBody")}


@pytest.mark.fuzz
@pytest.mark.parametrize("store", ["memory"], indirect=True)
def test_schemathesis_finds_nothing(app, store, capsys):
    finds_nothing(app, store, capsys)


def finds_nothing(app, store, capsys) -> None:
    from tests.helpers import ADMIN_KEY
    from tools import fuzz

    result = fuzz.run(app=app, max_examples=MAX_EXAMPLES, echo=False, headers=[f"Authorization: Bearer {ADMIN_KEY}"])
    with capsys.disabled():
        print(f"\nschemathesis on {type(store).__name__} ({getattr(store, 'dialect', 'memory')}):\n{result.table()}")
    assert result.returncode == 0, result.output[-6000:]
    assert result.failed == {}
    every = {f"{m.upper()} {p}" for m, p, _ in specs.operations(specs.load_merged())}
    assert result.operations_total == len(every)
    assert every <= set(result.cases), every - set(result.cases)
    thin = {label: result.total(label) for label in _operations_with_input() if result.total(label) < MAX_EXAMPLES}
    assert thin == {}, f"operations with fewer than {MAX_EXAMPLES} cases: {thin}"
