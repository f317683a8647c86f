"""What a store raises. Handlers map these to the statuses their spec documents."""


class StoreError(Exception):
    pass


class Conflict(StoreError):
    """A uniqueness rule refused the write (for example a slug already taken)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class MissingReference(StoreError):
    """The write names a row that does not exist (for example an unknown tenant_id)."""


class Unavailable(StoreError):
    """The backing database cannot be reached."""
