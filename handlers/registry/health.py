"""Liveness and readiness probes."""

from charter.errors import ApiError
from charter.runtime import store
from store.errors import Unavailable


def healthz():
    return {"status": "ok"}


def readyz():
    try:
        store().ping()
    except Unavailable as exc:
        raise ApiError(503, f"the store cannot be reached: {exc}", "store_unavailable") from None
    return {"status": "ready"}
