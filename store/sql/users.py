"""Users and their memberships in tenants over SQL."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from store.errors import Conflict
from store.models import Membership, User
from store.sql.base import Repo, referenced
from store.sql.tables import memberships, users

USER_FIELDS = tuple(c.name for c in users.columns)
# What save() may change.
USER_MUTABLE = ("password_hash", "platform_roles", "disabled_at")
MEMBERSHIP_FIELDS = tuple(c.name for c in memberships.columns)

_BY_ID = sa.select(users).where(users.c.id == sa.bindparam("id"))
_BY_EMAIL = sa.select(users).where(users.c.email == sa.bindparam("email"))
_EMAIL_TAKEN = sa.select(sa.literal(1)).where(users.c.email == sa.bindparam("email"))
_ID_TAKEN = sa.select(sa.literal(1)).where(users.c.id == sa.bindparam("id"))
_SAVE = (
    sa.update(users)
    .where(users.c.id == sa.bindparam("user_id"))
    .values({name: sa.bindparam(f"new_{name}", type_=users.c[name].type) for name in USER_MUTABLE})
)

_MEMBERSHIP = sa.select(memberships).where(
    memberships.c.user_id == sa.bindparam("user_id"), memberships.c.tenant_id == sa.bindparam("tenant_id")
)
_FOR_USER = sa.select(memberships).where(memberships.c.user_id == sa.bindparam("user_id"))
_MEMBERSHIP_REFS = referenced(memberships)


def _upsert(dialect) -> sa.Insert:
    """Insert the membership, or replace the roles of the existing one (its created_at stays)."""
    statement = dialect.insert(memberships)
    return statement.on_conflict_do_update(
        index_elements=[memberships.c.user_id, memberships.c.tenant_id],
        set_={"roles": statement.excluded.roles},
    )


_PUT = {True: _upsert(postgresql), False: _upsert(sqlite)}


def _user(row) -> User:
    return User(**{name: row._mapping[name] for name in USER_FIELDS})


def _membership(row) -> Membership:
    return Membership(**{name: row._mapping[name] for name in MEMBERSHIP_FIELDS})


class SqlUsers(Repo):
    def add(self, user: User) -> None:
        self._write()
        values = {name: getattr(user, name) for name in USER_FIELDS}
        statement = self._insert(users, users.c.id)
        # A clash leaves no row: name it. Should the clashing row vanish before we look, retry.
        for _ in range(3):
            if self._run(statement, values).first() is not None:
                return
            if self._run(_EMAIL_TAKEN, {"email": user.email}).first() is not None:
                raise Conflict("email")
            if self._run(_ID_TAKEN, {"id": user.id}).first() is not None:
                raise Conflict("id")
        raise Conflict("email")

    def get(self, user_id: UUID) -> User | None:
        row = self._run(_BY_ID, {"id": user_id}).first()
        return _user(row) if row else None

    def by_email(self, email: str) -> User | None:
        row = self._run(_BY_EMAIL, {"email": email}).first()
        return _user(row) if row else None

    def save(self, user: User) -> None:
        self._write()
        params = {f"new_{name}": getattr(user, name) for name in USER_MUTABLE}
        if self._run(_SAVE, {"user_id": user.id, **params}).rowcount == 0:
            raise KeyError(user.id)  # as the memory store does for an unknown user


class SqlMemberships(Repo):
    def put(self, membership: Membership) -> None:
        """An upsert: ON CONFLICT (user_id, tenant_id) DO UPDATE SET roles. An existing
        membership keeps its created_at; a missing user or tenant is MissingReference."""
        self._write()
        values = {name: getattr(membership, name) for name in MEMBERSHIP_FIELDS}
        self._insert_referencing(_PUT[self.pg], values, _MEMBERSHIP_REFS, "user or tenant")

    def get(self, user_id: UUID, tenant_id: UUID) -> Membership | None:
        row = self._run(_MEMBERSHIP, {"user_id": user_id, "tenant_id": tenant_id}).first()
        return _membership(row) if row else None

    def for_user(self, user_id: UUID) -> list[Membership]:
        rows = self._run(_FOR_USER, {"user_id": user_id})
        # Sorted here as the memory store sorts: a native uuid does not sort as its text does.
        return sorted((_membership(r) for r in rows), key=lambda m: str(m.tenant_id))
