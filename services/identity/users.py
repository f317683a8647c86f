"""Users and their roles, as `charter users create` makes them.

A new email becomes a user with an argon2id password hash. The roles go on a membership of the
tenant named (tenant_admin, tenant_member), or, with no tenant, on the user itself as platform
roles (platform_admin, support). An email that exists already keeps its password and gains the
roles. Each change records one event, written as its audit row in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from auth import passwords, roles
from charter.domain import Actor, Event, Invalid, NotFound
from store.interface import Store
from store.models import Membership, Tenant, User, utcnow

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Outcome:
    user: User
    created: bool


def find_tenant(store: Store, ref: str) -> Tenant:
    """A tenant by id or slug, or NotFound."""
    with store.read() as s:
        try:
            tenant = s.tenants.get(UUID(ref))
        except ValueError:
            tenant = s.tenants.get_by_slug(ref)
    if tenant is None:
        raise NotFound(f"no tenant with id or slug {ref!r}", "tenant_not_found")
    return tenant


def existing(store: Store, email: str) -> User | None:
    with store.read() as s:
        return s.users.by_email(email.strip().lower())


def grant(
    store: Store, actor: Actor, email: str, role_list: list[str], tenant_id: UUID | None, password: str | None
) -> Outcome:
    """Create the user (password needed) or add roles to it; Invalid on bad input."""
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise Invalid(f"{email!r} is not an email address")
    unknown = roles.unknown_roles(role_list, platform=tenant_id is None)
    if not role_list or unknown:
        allowed = roles.PLATFORM_ROLES if tenant_id is None else roles.TENANT_ROLES
        where = "without --tenant" if tenant_id is None else "in a tenant"
        raise Invalid(f"roles {where} are {', '.join(allowed)}; got {', '.join(unknown or ['none'])}")
    found = existing(store, email)
    created = found is None
    if found is not None:
        user = found
    else:
        if password is None:
            raise Invalid("a new user needs a password")
        problem = passwords.problem(password)
        if problem:
            raise Invalid(problem)
        user = User(id=uuid4(), email=email, password_hash=passwords.hash_password(password), created_at=utcnow())
    with store.write() as s:
        if created:
            s.users.add(user)
        if tenant_id is None:
            user = replace(user, platform_roles=sorted(set(user.platform_roles) | set(role_list)))
            s.users.save(user)
        else:
            held = s.memberships.get(user.id, tenant_id)
            merged = sorted(set(held.roles if held else []) | set(role_list))
            s.memberships.put(Membership(user_id=user.id, tenant_id=tenant_id, roles=merged, created_at=utcnow()))
        s.record(
            Event(
                "user.created" if created else "user.roles_granted",
                actor,
                "user",
                str(user.id),
                tenant_id=tenant_id,
                target_name=email,
                metadata={"roles": sorted(role_list)},
            )
        )
    return Outcome(user, created)
