"""tests/fuzz/test_schemathesis.py on PostgreSQL, in a module of its own so another worker can run it."""

import pytest

from tests.fuzz.test_schemathesis import finds_nothing


@pytest.mark.fuzz
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_schemathesis_finds_nothing(app, store, capsys):
    finds_nothing(app, store, capsys)
