"""Tenants and entitlements: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from store.errors import Conflict, MissingReference
from store.models import AuditExport, AuditQuery, WebhookDelivery, WebhookEvent, utcnow


def test_add_then_get_and_get_by_slug_return_every_field(store, make):
    tenant = make.full_tenant(slug="acme")
    with store.write() as s:
        s.tenants.add(tenant)
    with store.read() as s:
        by_id = s.tenants.get(tenant.id)
        by_slug = s.tenants.get_by_slug("acme")
    assert by_id == tenant
    assert by_slug == tenant
    assert isinstance(by_id.id, UUID)
    assert by_id.contract_start == date(2025, 1, 1)
    assert by_id.contract_end == date(2026, 12, 31)
    assert by_id.trial_ends_at == tenant.trial_ends_at


def test_at_prefix_reads_the_tenant_and_one_entitlement(store, make):
    tenant = make.full_tenant(slug="holder")
    held = make.entitlement(tenant.id, "licensing", expires_at=utcnow() + timedelta(days=3), config={"a": 1})
    with store.write() as s:
        s.tenants.add(tenant)
        s.entitlements.add(held)
        s.entitlements.add(make.entitlement(tenant.id, "billing", enabled=False))
    with store.read() as s:
        assert s.licenses.at_prefix("holder", "licensing", None) == (tenant, held, None)
        assert s.licenses.at_prefix("holder", "billing", None) == (
            tenant,
            s.entitlements.get(tenant.id, "billing"),
            None,
        )
        assert s.licenses.at_prefix("holder", "analytics", None) == (tenant, None, None)
        assert s.licenses.at_prefix("nobody", "licensing", None) is None


def test_optional_fields_stay_none(store, tenant_in):
    tenant = tenant_in()
    with store.read() as s:
        found = s.tenants.get(tenant.id)
    assert (found.erp_customer_id, found.stripe_cust_id, found.trial_ends_at) == (None, None, None)
    assert (found.contract_start, found.contract_end, found.sales_owner) == (None, None, None)


def test_unknown_tenant_is_none(store, tenant_in):
    tenant_in(slug="known")
    with store.read() as s:
        assert s.tenants.get(uuid4()) is None
        assert s.tenants.get_by_slug("unknown") is None


def test_returned_tenant_is_a_copy(store, tenant_in):
    tenant = tenant_in(name="Original")
    with store.read() as s:
        found = s.tenants.get(tenant.id)
    found.name = "Changed"
    with store.read() as s:
        assert s.tenants.get(tenant.id).name == "Original"


def test_slug_conflict(store, tenant_in, make):
    first = tenant_in(slug="taken", name="First")
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.tenants.add(make.tenant(slug="taken", name="Second"))
    assert raised.value.what == "slug"
    with store.read() as s:
        assert s.tenants.get_by_slug("taken") == first


def test_session_stays_usable_after_a_caught_conflict(store, tenant_in, make):
    tenant_in(slug="taken")
    other = make.tenant(slug="free")
    with store.write() as s:
        with pytest.raises(Conflict):
            s.tenants.add(make.tenant(slug="taken"))
        s.tenants.add(other)
        s.audit.append(make.draft(tenant_id=other.id))
    with store.read() as s:
        assert s.tenants.get_by_slug("free") == other
        assert len(s.audit.query(AuditQuery(tenant_id=other.id))) == 1


def test_get_for_update_in_a_write(store, tenant_in):
    tenant = tenant_in()
    with store.write() as s:
        locked = s.tenants.get(tenant.id, for_update=True)
        locked.status = "frozen"
        s.tenants.save(locked)
    with store.read() as s:
        assert s.tenants.get(tenant.id).status == "frozen"
        assert s.tenants.get(uuid4(), for_update=True) is None


def test_save_overwrites_mutable_fields_but_not_slug_or_created_at(store, tenant_in):
    tenant = tenant_in(slug="keep-me")
    later = utcnow() + timedelta(hours=1)
    changed = replace(
        tenant,
        slug="ignored",
        created_at=later,
        name="New Name",
        status="frozen",
        kind="demo",
        plan="enterprise",
        erp_customer_id="ERP-9",
        stripe_cust_id="cus_9",
        trial_ends_at=later,
        contract_start=date(2024, 2, 29),
        contract_end=date(2030, 1, 1),
        sales_owner="sam@example.com",
        updated_at=later,
    )
    with store.write() as s:
        s.tenants.save(changed)
    with store.read() as s:
        found = s.tenants.get(tenant.id)
        assert s.tenants.get_by_slug("ignored") is None
    assert found == replace(changed, slug="keep-me", created_at=tenant.created_at)


def test_save_can_clear_optional_fields(store, make):
    tenant = make.full_tenant()
    with store.write() as s:
        s.tenants.add(tenant)
    cleared = replace(
        tenant,
        erp_customer_id=None,
        stripe_cust_id=None,
        trial_ends_at=None,
        contract_start=None,
        contract_end=None,
        sales_owner=None,
    )
    with store.write() as s:
        s.tenants.save(cleared)
    with store.read() as s:
        assert s.tenants.get(tenant.id) == cleared


def test_save_of_an_unknown_tenant_raises_key_error(store, make):
    # The memory store's behaviour (a dict lookup); the SQL store mirrors it.
    with pytest.raises(KeyError):
        with store.write() as s:
            s.tenants.save(make.tenant())


def test_delete_removes_what_the_tenant_owns_and_keeps_audit(store, tenant_in, make):
    tenant = tenant_in(slug="doomed")
    other = tenant_in(slug="bystander")
    key = make.key(tenant.id, prefix="ck_shared")
    other_key = make.key(other.id, prefix="ck_shared")
    with store.write() as s:
        s.entitlements.add(make.entitlement(tenant.id, "billing"))
        s.entitlements.add(make.entitlement(other.id, "billing"))
        s.api_keys.add(key)
        s.api_keys.add(other_key)
        event = s.audit.append(make.draft("tenant.updated", tenant_id=tenant.id))
        other_event = s.audit.append(make.draft("tenant.updated", tenant_id=other.id))
    with store.write() as s:
        assert s.tenants.delete(tenant.id) is True
    with store.read() as s:
        assert s.tenants.get(tenant.id) is None
        assert s.tenants.get_by_slug("doomed") is None
        assert s.entitlements.list(tenant.id) == []
        assert s.entitlements.get(tenant.id, "billing") is None
        assert s.api_keys.get(key.id) is None
        assert s.api_keys.list(tenant.id) == []
        assert [k.id for k, _ in s.api_keys.by_prefix("ck_shared")] == [other_key.id]
        events = {e.id: e for e in s.audit.query(AuditQuery())}
        assert s.entitlements.get(other.id, "billing") is not None
    assert set(events) == {event.id, other_event.id}
    # The audit row is evidence in the tenant's log: its deletion leaves it exactly as written.
    assert events[event.id] == event
    with store.read() as s:
        assert s.ledger.event(str(tenant.id), 0) == event
    assert events[other_event.id].tenant_id == other.id


def test_delete_unknown_is_false_and_slug_is_free_again(store, tenant_in, make):
    tenant = tenant_in(slug="again")
    with store.write() as s:
        assert s.tenants.delete(uuid4()) is False
        assert s.tenants.delete(tenant.id) is True
        assert s.tenants.delete(tenant.id) is False
    fresh = make.tenant(slug="again")
    with store.write() as s:
        s.tenants.add(fresh)
    with store.read() as s:
        assert s.tenants.get_by_slug("again") == fresh


def test_entitlement_round_trip(store, tenant_in, make):
    tenant = tenant_in()
    expires = utcnow() + timedelta(days=30)
    ent = make.entitlement(
        tenant.id,
        "analytics",
        enabled=False,
        expires_at=expires,
        config={"seats": 25, "regions": ["eu", "us"], "nested": {"a": None, "b": 1.5}},
    )
    with store.write() as s:
        s.entitlements.add(ent)
    with store.read() as s:
        found = s.entitlements.get(tenant.id, "analytics")
    assert found == ent
    assert found.enabled is False
    assert found.expires_at == expires


def test_entitlement_remove_returns_what_it_was_and_rolls_back(store, tenant_in, make):
    tenant, other = tenant_in(), tenant_in()
    ent = make.entitlement(tenant.id, "compliance", config={"seats": 3}, expires_at=utcnow() + timedelta(days=9))
    with store.write() as s:
        s.entitlements.add(ent)
        s.entitlements.add(make.entitlement(tenant.id, "analytics"))
        s.entitlements.add(make.entitlement(other.id, "compliance"))
    with pytest.raises(RuntimeError):
        with store.write() as s:
            assert s.entitlements.remove(tenant.id, "compliance") == ent
            raise RuntimeError("roll back")
    with store.write() as s:
        assert s.entitlements.get(tenant.id, "compliance") == ent  # the rollback kept it
        assert s.entitlements.remove(tenant.id, "compliance") == ent
        assert s.entitlements.remove(tenant.id, "compliance") is None
        assert s.entitlements.remove(uuid4(), "compliance") is None
    with store.read() as s:
        assert [e.product for e in s.entitlements.list(tenant.id)] == ["analytics"]
        assert s.entitlements.get(other.id, "compliance") is not None  # only that tenant's
    with store.write() as s:
        s.entitlements.add(ent)  # held again: the key is free once removed
    with store.read() as s:
        assert s.entitlements.get(tenant.id, "compliance") == ent


def test_entitlement_defaults(store, tenant_in, make):
    tenant = tenant_in()
    with store.write() as s:
        s.entitlements.add(make.entitlement(tenant.id, "billing"))
    with store.read() as s:
        found = s.entitlements.get(tenant.id, "billing")
    assert found.config == {}
    assert found.expires_at is None
    assert found.enabled is True


def test_entitlements_list_by_product_and_only_the_tenants_own(store, tenant_in, make):
    tenant = tenant_in()
    other = tenant_in()
    products = ["zeta", "alpha", "Beta", "beta-2", "beta_1", "Alpha"]
    with store.write() as s:
        for product in products:
            s.entitlements.add(make.entitlement(tenant.id, product))
        s.entitlements.add(make.entitlement(other.id, "other-only"))
    with store.read() as s:
        listed = s.entitlements.list(tenant.id)
        assert s.entitlements.list(uuid4()) == []
    # Python's order (code points), whatever the database collation is.
    assert [e.product for e in listed] == sorted(products)
    assert {e.tenant_id for e in listed} == {tenant.id}


def test_entitlement_get_unknown_is_none(store, tenant_in, make):
    tenant = tenant_in()
    with store.write() as s:
        s.entitlements.add(make.entitlement(tenant.id, "billing"))
    with store.read() as s:
        assert s.entitlements.get(tenant.id, "crm") is None
        assert s.entitlements.get(uuid4(), "billing") is None


def test_entitlement_conflict(store, tenant_in, make):
    tenant = tenant_in()
    with store.write() as s:
        s.entitlements.add(make.entitlement(tenant.id, "billing", config={"v": 1}))
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.entitlements.add(make.entitlement(tenant.id, "billing", config={"v": 2}))
    assert raised.value.what == "entitlement"
    with store.read() as s:
        assert s.entitlements.get(tenant.id, "billing").config == {"v": 1}


def test_entitlement_for_unknown_tenant(store, make):
    missing = uuid4()
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.entitlements.add(make.entitlement(missing, "billing"))
    with store.read() as s:
        assert s.entitlements.list(missing) == []


def test_an_id_that_exists_is_a_conflict_not_an_overwrite(store, tenant_in, make):
    from dataclasses import replace

    from store.errors import Conflict

    first = tenant_in()
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.tenants.add(replace(make.tenant(), id=first.id))
    assert raised.value.what == "id"
    key = make.key(tenant_id=first.id)
    with store.write() as s:
        s.api_keys.add(key)
    with pytest.raises(Conflict):
        with store.write() as s:
            s.api_keys.add(replace(make.key(tenant_id=first.id), id=key.id))
    with store.read() as s:
        assert s.tenants.get(first.id) == first
        assert s.tenants.get_by_slug(first.slug) == first


# --- what a tenant's deletion does to every aggregate ----------------------------------------


class Boom(Exception):
    pass


def _rows_everywhere(store, make):
    """A row in every aggregate: the doomed tenant's, another tenant's, and (where an aggregate
    has them) rows of no tenant."""
    from types import SimpleNamespace

    from store.models import RateBucket

    doomed, kept, user = make.tenant(), make.tenant(), make.user()
    sessions = {
        "doomed": make.session(user.id, doomed.id),
        "kept": make.session(user.id, kept.id),
        "platform": make.session(user.id, None),
    }
    w = SimpleNamespace(
        doomed=doomed,
        kept=kept,
        user=user,
        sessions=sessions,
        tokens={name: make.refresh(session.id) for name, session in sessions.items()},
        keys={"doomed": make.key(doomed.id), "kept": make.key(kept.id)},
        signing_key=make.signing_key(),
        bucket=RateBucket(f"login.account:{doomed.id}", 10.0, 1),
        kept_answer=make.kept_answer(str(doomed.id)),
        job=make.job(tenant_id=doomed.id),
        endpoints={"doomed": make.endpoint(doomed.id), "kept": make.endpoint(kept.id)},
    )
    with store.write() as s:
        for tenant in (doomed, kept):
            s.tenants.add(tenant)
            s.entitlements.add(make.entitlement(tenant.id, "billing"))
        for key in w.keys.values():
            s.api_keys.add(key)
        for tenant_id in (doomed.id, kept.id, None):
            s.audit.append(make.draft("tenant.updated", tenant_id=tenant_id))
        s.users.add(user)
        for tenant in (doomed, kept):
            s.memberships.put(make.membership(user.id, tenant.id))
        for name, session in sessions.items():
            s.auth_sessions.add(session)
            s.refresh_tokens.add(w.tokens[name])
        s.signing_keys.add(w.signing_key)
        assert s.rate_limits.acquire([w.bucket], 1000.0) == 0.0
        s.kept_answers.put(w.kept_answer)
        s.jobs.enqueue(w.job)
        for endpoint in w.endpoints.values():
            s.webhook_endpoints.add(endpoint)
        w.events, w.deliveries = {}, {}
        for name, endpoint in w.endpoints.items():
            now = endpoint.created_at
            event = WebhookEvent(uuid4(), endpoint.tenant_id, "tenant.created", now, "{}")
            s.webhook_events.add(event)
            delivery = WebhookDelivery(uuid4(), endpoint.tenant_id, endpoint.id, event.id, event.type, now, now)
            s.webhook_deliveries.add(delivery)
            w.events[name], w.deliveries[name] = event, delivery
        w.licensing = {}
        for name, tenant in (("doomed", doomed), ("kept", kept)):
            key, product = make.issuer_key(tenant.id), make.product(tenant.id)
            policy = make.policy(tenant.id, product.id)
            license = make.license(tenant.id, product.id, key.id, policy_id=policy.id)
            records = {
                "issuer_keys": key,
                "license_products": product,
                "license_policies": policy,
                "licenses": license,
                "machines": make.machine(tenant.id, license.id),
                "invoices": make.invoice(tenant.id, product.id),
                "discount_codes": make.code(tenant.id),
            }
            for repository, record in records.items():
                getattr(s, repository).add(record)
            w.licensing[name] = records
        w.exports = {}
        for name, tenant in (("doomed", doomed), ("kept", kept)):
            at = tenant.created_at
            w.exports[name] = AuditExport(uuid4(), tenant.id, at, at, ["audit"], "test", at, at)
            s.audit_exports.add(w.exports[name])
        w.disputes = {}
        for name, tenant in (("doomed", doomed), ("kept", kept)):
            case = make.case(tenant.id)
            s.dispute_cases.add(case)
            s.dispute_evidence.add(make.evidence(tenant.id, case.id))
            s.dispute_notes.add(make.note(tenant.id, case.id))
            w.disputes[name] = case
    return w


LICENSING = (
    "issuer_keys",
    "license_products",
    "license_policies",
    "licenses",
    "machines",
    "invoices",
    "discount_codes",
)


def _observe(s, w) -> dict:
    """What every aggregate holds of those rows, one entry per repository of the session."""
    return {
        "tenants": [s.tenants.get(w.doomed.id), s.tenants.get_by_slug(w.doomed.slug), s.tenants.get(w.kept.id)],
        "entitlements": [[e.product for e in s.entitlements.list(t.id)] for t in (w.doomed, w.kept)],
        "api_keys": [s.api_keys.get(k.id) is not None for k in w.keys.values()]
        + [[k.id for k, _ in s.api_keys.by_prefix(w.keys["kept"].prefix)]],
        "audit": sorted((e.action, str(e.tenant_id)) for e in s.audit.query(AuditQuery(limit=100))),
        "users": s.users.get(w.user.id),
        "memberships": [m.tenant_id for m in s.memberships.for_user(w.user.id)],
        "auth_sessions": {name: s.auth_sessions.get(session.id) is not None for name, session in w.sessions.items()},
        "refresh_tokens": {name: s.refresh_tokens.by_hash(t.token_hash) is not None for name, t in w.tokens.items()},
        "signing_keys": s.signing_keys.get(w.signing_key.kid),
        "rate_limits": s.rate_limits.peek([w.bucket], 1000.0),
        # kept by scope, not by reference: they stay until they expire
        "kept_answers": s.kept_answers.get(w.kept_answer.scope, w.kept_answer.key_hash, w.kept_answer.created_at),
        # tenant_id is informational, no reference: the job stays and finds its tenant gone
        "jobs": s.jobs.get(w.job.id),
        "webhook_endpoints": {name: s.webhook_endpoints.get(e.id) is not None for name, e in w.endpoints.items()},
        "webhook_events": {name: s.webhook_events.get(e.id) is not None for name, e in w.events.items()},
        "webhook_deliveries": {name: s.webhook_deliveries.get(d.id) is not None for name, d in w.deliveries.items()},
        **{
            repository: {
                name: getattr(s, repository).get(records[repository].id) is not None
                for name, records in w.licensing.items()
            }
            for repository in LICENSING
        },
        "ledger": [s.ledger.head(log) for log in (str(w.doomed.id), str(w.kept.id), "platform")],
        "audit_exports": {name: s.audit_exports.get(e.id) is not None for name, e in w.exports.items()},
        "dispute_cases": {name: s.dispute_cases.get(c.id) is not None for name, c in w.disputes.items()},
        "dispute_evidence": {name: len(s.dispute_evidence.list(c.id)) for name, c in w.disputes.items()},
        "dispute_notes": {name: len(s.dispute_notes.list(c.id)) for name, c in w.disputes.items()},
    }


def test_tenant_delete_does_what_every_aggregate_declares(store, make):
    """Memory applies each aggregate's on_tenant_delete, SQL its foreign keys' ON DELETE: the
    same outcome for every repository the session has, and all of it undone by a rollback."""
    w = _rows_everywhere(store, make)
    with store.read() as s:
        before = _observe(s, w)
    with store.write() as s:
        # A new aggregate fails here until this test says what a tenant's deletion does to it.
        assert set(before) == set(type(s).declared)
    with pytest.raises(Boom):
        with store.write() as s:
            assert s.tenants.delete(w.doomed.id) is True
            raise Boom()
    with store.read() as s:
        assert _observe(s, w) == before
    with store.write() as s:
        assert s.tenants.delete(w.doomed.id) is True
    with store.read() as s:
        after = _observe(s, w)
    assert after == {
        **before,  # users, signing keys and rate limits belong to no tenant, jobs name one loosely: untouched
        "tenants": [None, None, w.kept],
        "entitlements": [[], ["billing"]],  # deleted
        "api_keys": [False, True, [w.keys["kept"].id]],  # deleted
        # kept as written, in the logs that outlive their tenant
        "memberships": [w.kept.id],  # deleted
        "auth_sessions": {"doomed": False, "kept": True, "platform": True},  # deleted when bound to it
        "refresh_tokens": {"doomed": False, "kept": True, "platform": True},  # follow their session
        "webhook_endpoints": {"doomed": False, "kept": True},  # deleted
        "webhook_events": {"doomed": False, "kept": True},  # deleted
        "webhook_deliveries": {"doomed": False, "kept": True},  # deleted
        **{repository: {"doomed": False, "kept": True} for repository in LICENSING},  # deleted
        "audit_exports": {"doomed": False, "kept": True},  # deleted (their files stay on disk)
        "dispute_cases": {"doomed": False, "kept": True},  # deleted
        "dispute_evidence": {"doomed": 0, "kept": 1},  # deleted, with their case
        "dispute_notes": {"doomed": 0, "kept": 1},  # deleted, with their case
    }
    assert after["users"] == w.user and after["rate_limits"] == pytest.approx(10.0)
    # What went left nothing behind: its slug, key id and token hash are free again.
    with store.write() as s:
        s.tenants.add(make.tenant(slug=w.doomed.slug))
        s.refresh_tokens.add(make.refresh(w.sessions["kept"].id, token_hash=w.tokens["doomed"].token_hash))
