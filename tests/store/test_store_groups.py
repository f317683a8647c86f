"""Repositories per API group: the same groups on every store, built on first use, names unique."""

from __future__ import annotations

from uuid import uuid4

import pytest

from store import interface
from store.groups import Group, repository
from store.memory import MemorySession
from store.memory.base import Rows
from store.sql import SqlSession

GROUPS = {
    "registry": {"tenants", "entitlements", "api_keys", "audit"},
    "identity": {"users", "memberships", "auth_sessions", "refresh_tokens", "signing_keys", "rate_limits"},
    "platform": {"kept_answers", "jobs"},
    "webhooks": {"webhook_endpoints", "webhook_events", "webhook_deliveries"},
    "licensing": {
        "issuer_keys",
        "license_products",
        "license_policies",
        "licenses",
        "machines",
        "invoices",
        "discount_codes",
    },
    "compliance": {"ledger", "audit_exports"},
    "disputes": {"dispute_cases", "dispute_evidence", "dispute_notes"},
}


def _protocol_members(protocol: type) -> set[str]:
    return {name for name, value in vars(protocol).items() if isinstance(value, property)}


@pytest.mark.parametrize("session_class", [MemorySession, SqlSession], ids=["memory", "sql"])
def test_both_stores_declare_the_interface_groups(session_class):
    declared: dict[str, set[str]] = {}
    for name, group in session_class.declared.items():
        declared.setdefault(group.api, set()).add(name)
    assert declared == GROUPS
    assert GROUPS == {
        "registry": _protocol_members(interface.Registry),
        "identity": _protocol_members(interface.Identity),
        "platform": _protocol_members(interface.Platform),
        "webhooks": _protocol_members(interface.Webhooks),
        "licensing": _protocol_members(interface.Licensing),
        "compliance": _protocol_members(interface.Compliance),
        "disputes": _protocol_members(interface.Disputes),
    }


def test_a_session_builds_a_repository_when_first_used_and_keeps_it(store):
    with store.write() as s:
        assert not set(vars(s)) & set(type(s).declared)
        tenants = s.tenants
        assert s.tenants is tenants
        assert set(vars(s)) & set(type(s).declared) == {"tenants"}
    with store.write() as s:
        assert s.tenants is not tenants  # one per session: a write session's repositories are its own


def test_two_groups_declaring_one_name_fail_at_import():
    class Billing(Group, api="billing"):
        invoices = repository(object)

    class Ledger(Group, api="ledger"):
        invoices = repository(object)

    with pytest.raises(TypeError, match="'invoices' is declared by both 'billing' and 'ledger'"):

        class Session(Billing, Ledger):
            pass


def test_a_group_may_not_redeclare_another_groups_name():
    class Billing(Group, api="billing"):
        invoices = repository(object)

    with pytest.raises(TypeError, match="'invoices' of 'ledger' is declared by 'billing' already"):

        class Ledger(Billing, api="ledger"):
            invoices = repository(object)


def test_repositories_are_declared_in_groups_only():
    with pytest.raises(TypeError, match="outside a group"):

        class Session(Group):
            invoices = repository(object)


def test_memory_rows_must_say_what_a_tenant_delete_does_to_them():
    with pytest.raises(TypeError, match="on_tenant_delete"):

        class InvoiceRows(Rows):
            pass


def test_the_memory_read_session_has_every_repository_and_writes_nothing():
    from store.memory import MemoryStore

    store = MemoryStore()
    with store.read() as s:
        assert set(MemorySession.declared) <= set(vars(s))
        with pytest.raises(RuntimeError):
            s.tenants.delete(uuid4())
