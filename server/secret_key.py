"""Which CHARTER_SECRET_KEY seals secrets at rest (charter.sealing), for the store in use.

- CHARTER_SECRET_KEY set: that key (the standard base64 of 32 bytes), whatever the store.
- unset, on SQLite (the embedded default): the key in a file beside the database,
  `<database>.secret-key`, made on first use with mode 0600. Keep it with the database: what it
  sealed opens with no other key.
- unset, on PostgreSQL: refused. Several workers and machines share the database, so they must
  share the key, and only the operator can hand it to each of them.
- unset, on the memory store: a fresh key per process, which lives exactly as long as the data.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from charter.config import Settings
from charter.sealing import ENV, BadKey, Sealer, new_key, parse_key

REQUIRED = (
    f"{ENV} is required on PostgreSQL: set it to the standard base64 of 32 random bytes, "
    f'the same in every worker (make one with `python -c "import base64,os; '
    f'print(base64.b64encode(os.urandom(32)).decode())"`)'
)


class MissingKey(BadKey):
    pass


def sealer(settings: Settings, store: Any) -> Sealer:
    """The Sealer for `store`; BadKey (MissingKey on PostgreSQL without one) saying why not."""
    raw = settings.env.get(ENV)
    if raw:
        return Sealer(parse_key(raw))
    dialect = getattr(store, "dialect", None)
    if dialect is None:
        return Sealer(os.urandom(32))
    if dialect != "sqlite":
        raise MissingKey(REQUIRED)
    return Sealer(parse_key(_key_file(os.path.abspath(store.url.database) + ".secret-key")))


def problem(settings: Settings) -> str | None:
    """Why the settings give no sealing key, before anything starts (`charter serve`)."""
    if settings.env.get(ENV):
        try:
            parse_key(settings.env[ENV])
        except BadKey as exc:
            return str(exc)
        return None
    if settings.database_url.startswith(("postgres://", "postgresql")):
        return REQUIRED
    return None


def _key_file(path: str) -> str:
    """The key in `path`, made (mode 0600) when there is none. It is written whole to a temporary
    file first and linked into place, so of two workers starting together one makes it and the
    other reads it, never a half-written file."""
    if not os.path.exists(path):
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".secret-key-")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(new_key() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    with open(path, encoding="ascii") as f:
        return f.read().strip()
