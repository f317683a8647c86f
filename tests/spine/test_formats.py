"""JSON Schema patterns mean what ECMA-262 says, as every client and schemathesis read them."""

import pytest

from charter.formats import ecma_pattern


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", "acme", True),
        (r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", "acme\n", False),  # `$` ends the text
        (r"\S", "\x1c", True),  # ECMA-262's whitespace has no \x1c-\x1f (Python's has)
        (r"\S", " \t\u3000\ufeff", False),
        (r"\s", "\x85", False),
        (r"^\d+$", "١٢", False),  # \d and \w are ASCII in ECMA-262
        (r"^\d+$", "12", True),
        (r"^[\w-]+$", "é", False),
        (r"^[\w-]+$", "a-b_1", True),
        (r"^\W$", "é", True),
        (r"^\.x$", ".x", True),  # other escapes stay as they are
    ],
)
def test_ecma_meaning(pattern, text, matches):
    assert bool(ecma_pattern(pattern).search(text)) is matches
