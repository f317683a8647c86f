"""What every licensing handler reaches: the licensing settings (issuer keys among them)."""

from __future__ import annotations

from charter import runtime
from services.licensing.settings import Licensing


def config() -> Licensing:
    return runtime.services().get(Licensing)


def with_key(shape: dict, key: str) -> dict:
    """A license's shape with its key, as the answers that hand one out carry it."""
    return {**shape, "license_key": key, "license_id": shape["id"]}
