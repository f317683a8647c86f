"""What a store raises. Services turn Conflict and MissingReference into the domain errors their
rules call for; Unavailable is a charter.domain.Unavailable as well, so the spine answers it with
503 without knowing the store."""

from __future__ import annotations

from charter import domain


class StoreError(Exception):
    pass


class Conflict(StoreError):
    """A uniqueness rule refused the write (for example a slug already taken)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class MissingReference(StoreError):
    """The write names a row that does not exist (for example an unknown tenant_id)."""


class Busy(StoreError, domain.Busy):
    """Another request holds the exclusive lock asked for (see Store.exclusive)."""


class Unavailable(StoreError, domain.Unavailable):
    """The backing database cannot be reached."""

    default_code = "store_unavailable"
