"""Logging for a served process: access lines are JSON already, everything else one line each."""

from __future__ import annotations

import logging
import sys


def configure(level: int = logging.INFO) -> None:
    access = logging.getLogger("charter.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
    access.setLevel(level)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
