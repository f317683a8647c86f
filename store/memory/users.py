"""Users and their memberships in tenants in memory."""

from __future__ import annotations

import copy
from dataclasses import replace
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE, KEEP
from store.memory.tenants import TenantRows
from store.models import Membership, User


class UserRows(Rows[UUID, User]):
    on_tenant_delete = KEEP  # a user belongs to no tenant; memberships do

    def __init__(self) -> None:
        super().__init__()
        self.emails: dict[str, UUID] = {}

    def _index(self, key: UUID, row: User) -> None:
        self.emails[row.email] = key

    def _unindex(self, key: UUID, row: User) -> None:
        del self.emails[row.email]


class MembershipRows(Rows[tuple[UUID, UUID], Membership]):  # (user_id, tenant_id)
    on_tenant_delete = DELETE


class MemoryUsers(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(UserRows)

    def add(self, user: User) -> None:
        undo = self._undo()
        if user.email in self._rows.emails:
            raise Conflict("email")
        if user.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(user.id, copy.deepcopy(user), undo)

    def get(self, user_id: UUID) -> User | None:
        found = self._rows.by_key.get(user_id)
        return copy.deepcopy(found) if found else None

    def by_email(self, email: str) -> User | None:
        user_id = self._rows.emails.get(email)
        return self.get(user_id) if user_id else None

    def save(self, user: User) -> None:
        undo = self._undo()
        old = self._rows.by_key[user.id]  # KeyError for an unknown user
        changed = replace(
            old,
            password_hash=user.password_hash,
            platform_roles=list(user.platform_roles),
            disabled_at=user.disabled_at,
        )
        self._rows.replace(user.id, changed, undo)


class MemoryMemberships(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(MembershipRows)
        self._users = self._tables.of(UserRows)
        self._tenants = self._tables.of(TenantRows)

    def put(self, membership: Membership) -> None:
        """Insert, or replace the roles of the existing membership (its created_at stays), as the
        SQL store's INSERT … ON CONFLICT DO UPDATE SET roles does."""
        undo = self._undo()
        if membership.user_id not in self._users.by_key:
            raise MissingReference("user")
        if membership.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        key = (membership.user_id, membership.tenant_id)
        old = self._rows.by_key.get(key)
        if old is None:
            self._rows.insert(key, copy.deepcopy(membership), undo)
        else:
            self._rows.replace(key, replace(old, roles=list(membership.roles)), undo)

    def get(self, user_id: UUID, tenant_id: UUID) -> Membership | None:
        found = self._rows.by_key.get((user_id, tenant_id))
        return copy.deepcopy(found) if found else None

    def for_user(self, user_id: UUID) -> list[Membership]:
        found = [copy.deepcopy(m) for (u, _), m in self._rows.by_key.items() if u == user_id]
        return sorted(found, key=lambda m: str(m.tenant_id))
