"""What every licensing handler reaches: the licensing settings (issuer keys among them)."""

from __future__ import annotations

from charter import runtime
from services.licensing.settings import Licensing


def config() -> Licensing:
    return runtime.services().get(Licensing)
