"""The licensing records: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from store.errors import Conflict, MissingReference
from store.models import utcnow


class Boom(Exception):
    pass


def _ids(records) -> list[UUID]:
    return [r.id for r in records]


def _ordered(*records) -> list[UUID]:
    """The ids of records that share a time, in the order the stores break the tie: by id text."""
    return sorted((r.id for r in records), key=str)


@pytest.fixture
def catalog(store, tenant_in, make):
    """A tenant with an issuer key, a product, a policy and a license of it (committed)."""

    def add():
        tenant = tenant_in()
        key, product = make.issuer_key(tenant.id), make.product(tenant.id)
        policy = make.policy(tenant.id, product.id)
        license = make.license(tenant.id, product.id, key.id, policy_id=policy.id)
        with store.write() as s:
            s.issuer_keys.add(key)
            s.license_products.add(product)
            s.license_policies.add(policy)
            s.licenses.add(license)
        return tenant, key, product, policy, license

    return add


# --- every field round-trips ------------------------------------------------------------------


def test_every_record_round_trips_with_every_field(store, tenant_in, make):
    tenant = tenant_in()
    now = utcnow()
    key = make.issuer_key(tenant.id, public_key=bytes(range(32)), retired_at=now)
    product = make.product(
        tenant.id,
        description="The pro edition",
        price_value=2_100_000_000_000_000,  # more than 32 bits: every sat there is
        price_currency="USD",
        active=False,
        entitlements_catalog=[{"slug": "export", "name": "Export", "description": "CSV and PDF"}],
        metadata={"color": "blue", "n": 3, "nested": {"a": [1, 2]}},
    )
    policy = make.policy(
        tenant.id,
        product.id,
        description="For teams",
        duration_seconds=365 * 86400,
        grace_seconds=3600,
        max_machines=0,
        heartbeat_window_seconds=600,
        is_trial=True,
        price_override=4200,
        entitlements=["export", "sso"],
        public=False,
        active=False,
        highlighted=True,
        is_recurring=True,
        renewal_period_days=30,
        trial_days=14,
        tier_rank=2,
        archived_at=now,
        metadata={"badge": "popular"},
    )
    invoice = make.invoice(
        tenant.id,
        product.id,
        policy_id=policy.id,
        base_amount=5000,
        discount_amount=800,
        code_id=uuid4(),
        buyer_email="ada@example.com",
        buyer_note="for the lab",
        license_id=uuid4(),
        settled_at=now,
        status="settled",
        kind="upgrade",
    )
    license = make.license(
        tenant.id,
        product.id,
        key.id,
        policy_id=policy.id,
        expires_at=now.replace(microsecond=0) + timedelta(days=365),
        grace_seconds=3600,
        max_machines=3,
        heartbeat_window_seconds=600,
        is_trial=True,
        entitlements=["export"],
        fingerprint_hash="ab" * 32,
        buyer_email="ada@example.com",
        note="comp",
        invoice_id=invoice.id,
        status="suspended",
        status_reason="chargeback",
        subscription="cancelled",
        cancelled_at=now,
    )
    machine = make.machine(
        tenant.id,
        license.id,
        hostname="lab-1",
        platform="linux-x86_64",
        seat_expires_at=now + timedelta(minutes=10),
        deactivated_at=now,
        deactivation_reason="replaced",
    )
    code = make.code(
        tenant.id,
        product_id=product.id,
        percent_off=100,
        amount_off=50,
        max_redemptions=10,
        redemptions=3,
        expires_at=now + timedelta(days=7),
        active=False,
    )
    with store.write() as s:
        s.issuer_keys.add(key)
        s.license_products.add(product)
        s.license_policies.add(policy)
        s.invoices.add(invoice)
        s.licenses.add(license)
        s.machines.add(machine)
        s.discount_codes.add(code)
    with store.read() as s:
        assert s.issuer_keys.get(key.id) == key
        assert isinstance(s.issuer_keys.get(key.id).public_key, bytes)
        assert isinstance(s.issuer_keys.get(key.id).private_sealed, bytes)
        assert s.license_products.get(product.id) == product
        assert s.license_policies.get(policy.id) == policy
        assert s.invoices.get(invoice.id) == invoice
        assert s.invoices.get(invoice.id, for_update=True) == invoice
        assert s.licenses.get(license.id) == license
        assert s.licenses.get(license.id, for_update=True) == license
        assert s.machines.get(machine.id) == machine
        assert s.discount_codes.get(code.id) == code
        assert s.discount_codes.get(code.id, for_update=True) == code


def test_defaults_round_trip(store, catalog, make):
    tenant, key, product, policy, license = catalog()
    machine, invoice, code = (
        make.machine(tenant.id, license.id),
        make.invoice(tenant.id, product.id),
        make.code(tenant.id),
    )
    with store.write() as s:
        s.machines.add(machine)
        s.invoices.add(invoice)
        s.discount_codes.add(code)
    with store.read() as s:
        assert s.issuer_keys.get(key.id) == key and key.retired_at is None
        assert s.license_products.get(product.id) == product and product.entitlements_catalog == []
        assert s.license_policies.get(policy.id) == policy and policy.tier_rank is None
        assert s.licenses.get(license.id) == license and license.expires_at is None
        assert s.machines.get(machine.id) == machine and machine.seat_expires_at is None
        assert s.invoices.get(invoice.id) == invoice and invoice.license_id is None
        assert s.discount_codes.get(code.id) == code and code.product_id is None


def test_unknown_ids_are_none(store, catalog):
    catalog()
    with store.read() as s:
        for repository in (s.issuer_keys, s.license_products, s.license_policies, s.licenses, s.machines):
            assert repository.get(uuid4()) is None
        assert s.invoices.get(uuid4()) is None and s.discount_codes.get(uuid4()) is None
        assert s.licenses.get(uuid4(), for_update=True) is None
        assert s.issuer_keys.signing(uuid4()) is None
        assert s.license_products.by_slug(uuid4(), "x") is None
        assert s.license_policies.by_slug(uuid4(), "x") is None
        assert s.machines.by_fingerprint(uuid4(), "x") is None
        assert s.machines.count_active(uuid4()) == 0
        assert s.discount_codes.by_hash(uuid4(), "x") is None


def test_returned_records_are_copies(store, catalog):
    tenant, _, product, _, _ = catalog()
    with store.read() as s:
        found = s.license_products.get(product.id)
    found.metadata["changed"] = True
    found.entitlements_catalog.append({"slug": "x"})
    with store.read() as s:
        assert s.license_products.get(product.id) == product


def test_reads_write_nothing(store, catalog, make):
    tenant, _, product, _, _ = catalog()
    with store.read() as s:
        with pytest.raises(RuntimeError):
            s.license_products.add(make.product(tenant.id))
        with pytest.raises(RuntimeError):
            s.license_products.save(product)


# --- references and uniqueness ------------------------------------------------------------------


def test_every_record_needs_its_tenant(store, catalog, make):
    _, _, product, _, license = catalog()
    nobody = uuid4()
    records = {
        "issuer_keys": make.issuer_key(nobody),
        "license_products": make.product(nobody),
        # their parent exists, but not their tenant
        "license_policies": make.policy(nobody, product.id),
        "licenses": make.license(nobody, product.id),
        "machines": make.machine(nobody, license.id),
        "invoices": make.invoice(nobody, product.id),
        "discount_codes": make.code(nobody),
    }
    for repository, record in records.items():
        with pytest.raises(MissingReference) as raised:
            with store.write() as s:
                getattr(s, repository).add(record)
        assert str(raised.value) == "tenant", repository


def test_policies_licenses_invoices_need_their_product_and_machines_their_license(store, tenant_in, make):
    tenant = tenant_in()
    missing = {
        "license_policies": (make.policy(tenant.id, uuid4()), "product"),
        "licenses": (make.license(tenant.id, uuid4()), "product"),
        "invoices": (make.invoice(tenant.id, uuid4()), "product"),
        "machines": (make.machine(tenant.id, uuid4()), "license"),
    }
    for repository, (record, what) in missing.items():
        with pytest.raises(MissingReference) as raised:
            with store.write() as s:
                getattr(s, repository).add(record)
        assert str(raised.value) == what, repository
    # Neither the tenant nor the parent: the tenant is named, as on every store.
    with pytest.raises(MissingReference) as raised:
        with store.write() as s:
            s.licenses.add(make.license(uuid4(), uuid4()))
    assert str(raised.value) == "tenant"
    with store.read() as s:
        assert s.license_policies.list(tenant.id) == [] and s.licenses.list(tenant.id) == []


def test_an_id_that_exists_is_a_conflict_not_an_overwrite(store, catalog, make):
    tenant, key, product, policy, license = catalog()
    machine, invoice, code = (
        make.machine(tenant.id, license.id),
        make.invoice(tenant.id, product.id),
        make.code(tenant.id),
    )
    with store.write() as s:
        s.machines.add(machine)
        s.invoices.add(invoice)
        s.discount_codes.add(code)
    again = {
        "issuer_keys": replace(make.issuer_key(tenant.id), id=key.id),
        "license_products": replace(make.product(tenant.id), id=product.id),
        "license_policies": replace(make.policy(tenant.id, product.id), id=policy.id),
        "licenses": replace(make.license(tenant.id, product.id), id=license.id),
        "machines": replace(make.machine(tenant.id, license.id), id=machine.id),
        "invoices": replace(make.invoice(tenant.id, product.id), id=invoice.id),
        "discount_codes": replace(make.code(tenant.id), id=code.id),
    }
    for repository, record in again.items():
        with pytest.raises(Conflict) as raised:
            with store.write() as s:
                getattr(s, repository).add(record)
        assert raised.value.what == "id", repository
    with store.read() as s:
        assert s.license_products.get(product.id) == product and s.licenses.get(license.id) == license


def test_product_slugs_are_unique_per_tenant(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    first = make.product(a.id, "pro")
    with store.write() as s:
        s.license_products.add(first)
        s.license_products.add(make.product(b.id, "pro"))  # another tenant's: fine
    with store.write() as s:
        with pytest.raises(Conflict) as raised:
            s.license_products.add(make.product(a.id, "pro"))
        assert raised.value.what == "slug"
        # The session stays usable after a caught conflict.
        s.license_products.add(make.product(a.id, "team"))
    with store.read() as s:
        assert s.license_products.by_slug(a.id, "pro") == first
        assert [p.slug for p in s.license_products.list(a.id)] == ["pro", "team"]


def test_policy_slugs_are_unique_per_product(store, tenant_in, make):
    tenant = tenant_in()
    one, two = make.product(tenant.id), make.product(tenant.id)
    policy = make.policy(tenant.id, one.id, "basic")
    with store.write() as s:
        s.license_products.add(one)
        s.license_products.add(two)
        s.license_policies.add(policy)
        s.license_policies.add(make.policy(tenant.id, two.id, "basic"))
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.license_policies.add(make.policy(tenant.id, one.id, "basic"))
    assert raised.value.what == "slug"
    with store.read() as s:
        assert s.license_policies.by_slug(one.id, "basic") == policy
        assert s.license_policies.by_slug(two.id, "basic").product_id == two.id


def test_a_license_has_one_machine_per_fingerprint_active_or_not(store, catalog, make):
    tenant, key, product, _, license = catalog()
    other = make.license(tenant.id, product.id, key.id)
    gone = make.machine(tenant.id, license.id, "f" * 64, deactivated_at=utcnow())
    with store.write() as s:
        s.licenses.add(other)
        s.machines.add(gone)
        s.machines.add(make.machine(tenant.id, other.id, "f" * 64))  # another license: fine
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.machines.add(make.machine(tenant.id, license.id, "f" * 64))
    assert raised.value.what == "fingerprint"
    with store.read() as s:
        assert s.machines.by_fingerprint(license.id, "f" * 64) == gone
        assert s.machines.by_fingerprint(other.id, "f" * 64).license_id == other.id
        assert s.machines.by_fingerprint(license.id, "e" * 64) is None


def test_code_hashes_are_unique_per_tenant(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    code = make.code(a.id, "c" * 64)
    with store.write() as s:
        s.discount_codes.add(code)
        s.discount_codes.add(make.code(b.id, "c" * 64))
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.discount_codes.add(make.code(a.id, "c" * 64))
    assert raised.value.what == "code"
    with store.read() as s:
        assert s.discount_codes.by_hash(a.id, "c" * 64) == code
        assert s.discount_codes.by_hash(a.id, "c" * 64, for_update=True) == code
        assert s.discount_codes.by_hash(b.id, "c" * 64).tenant_id == b.id
        assert s.discount_codes.by_hash(a.id, "d" * 64) is None


# --- issuer keys --------------------------------------------------------------------------------


def test_issuer_keys_list_oldest_first_and_the_newest_live_one_signs(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    now = utcnow()
    old = make.issuer_key(a.id, created_at=now - timedelta(days=2))
    mid = make.issuer_key(a.id, created_at=now - timedelta(days=1))
    new = make.issuer_key(a.id, created_at=now, retired_at=now)
    tie = [make.issuer_key(b.id, created_at=now) for _ in range(3)]
    with store.write() as s:
        for key in (new, old, mid, *tie):
            s.issuer_keys.add(key)
    with store.read() as s:
        assert _ids(s.issuer_keys.list(a.id)) == [old.id, mid.id, new.id]
        assert s.issuer_keys.signing(a.id) == mid  # the newest is retired
        assert _ids(s.issuer_keys.list(b.id)) == _ordered(*tie)
        assert s.issuer_keys.signing(b.id).id == _ordered(*tie)[-1]


def test_issuer_key_save_writes_retired_at_only(store, tenant_in, make):
    tenant = tenant_in()
    key = make.issuer_key(tenant.id)
    with store.write() as s:
        s.issuer_keys.add(key)
    at = utcnow()
    with store.write() as s:
        s.issuer_keys.save(replace(key, retired_at=at, public_key=b"other", created_at=at, tenant_id=uuid4()))
    with store.read() as s:
        assert s.issuer_keys.get(key.id) == replace(key, retired_at=at)
        assert s.issuer_keys.signing(tenant.id) is None
    with pytest.raises(KeyError):
        with store.write() as s:
            s.issuer_keys.save(make.issuer_key(tenant.id))


# --- products and policies ------------------------------------------------------------------------


def test_product_save_writes_all_but_its_identity_and_moves_its_slug(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    product, taken = make.product(a.id, "pro"), make.product(a.id, "team")
    with store.write() as s:
        s.license_products.add(product)
        s.license_products.add(taken)
    later = product.updated_at + timedelta(minutes=1)
    changed = replace(
        product,
        slug="pro-2",
        name="Pro 2",
        description="new",
        price_value=99,
        price_currency="EUR",
        active=False,
        entitlements_catalog=[{"slug": "x"}],
        metadata={"k": 1},
        updated_at=later,
    )
    with store.write() as s:
        s.license_products.save(replace(changed, tenant_id=b.id, created_at=later))
    with store.read() as s:
        assert s.license_products.get(product.id) == changed
        assert s.license_products.by_slug(a.id, "pro-2") == changed
        assert s.license_products.by_slug(a.id, "pro") is None
    with store.write() as s:
        s.license_products.add(make.product(a.id, "pro"))  # the old slug is free again
        s.license_products.save(changed)  # saving its own slug is no clash
    with pytest.raises(Conflict) as raised:
        with store.write() as s:
            s.license_products.save(replace(changed, slug="team"))
    assert raised.value.what == "slug"
    with pytest.raises(KeyError):
        with store.write() as s:
            s.license_products.save(make.product(a.id))
    with store.read() as s:
        assert s.license_products.by_slug(a.id, "team") == taken


def test_a_rolled_back_slug_change_leaves_the_old_slug(store, tenant_in, make):
    tenant = tenant_in()
    product = make.product(tenant.id, "pro")
    policy = make.policy(tenant.id, product.id, "basic")
    with store.write() as s:
        s.license_products.add(product)
        s.license_policies.add(policy)
    with pytest.raises(Boom):
        with store.write() as s:
            s.license_products.save(replace(product, slug="moved"))
            s.license_policies.save(replace(policy, slug="moved"))
            raise Boom()
    with store.read() as s:
        assert s.license_products.by_slug(tenant.id, "pro") == product
        assert s.license_products.by_slug(tenant.id, "moved") is None
        assert s.license_policies.by_slug(product.id, "basic") == policy
        assert s.license_policies.by_slug(product.id, "moved") is None
    with pytest.raises(Conflict):
        with store.write() as s:
            s.license_products.add(make.product(tenant.id, "pro"))


def test_policies_list_per_tenant_and_product_oldest_first(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    now = utcnow()
    one, two, elsewhere = make.product(a.id), make.product(a.id), make.product(b.id)
    first = make.policy(a.id, two.id, created_at=now - timedelta(seconds=2))
    second = make.policy(a.id, one.id, created_at=now - timedelta(seconds=1), archived_at=now)
    ties = [make.policy(a.id, one.id, created_at=now) for _ in range(3)]
    theirs = make.policy(b.id, elsewhere.id)
    with store.write() as s:
        for product in (one, two, elsewhere):
            s.license_products.add(product)
        for policy in (*ties, second, theirs, first):
            s.license_policies.add(policy)
    with store.read() as s:
        assert _ids(s.license_policies.list(a.id)) == [first.id, second.id, *_ordered(*ties)]
        assert _ids(s.license_policies.list(a.id, one.id)) == [second.id, *_ordered(*ties)]
        assert _ids(s.license_policies.list(a.id, elsewhere.id)) == []
        assert _ids(s.license_policies.list(b.id)) == [theirs.id]


def test_policy_save_writes_all_but_its_identity(store, catalog, make):
    tenant, _, product, policy, _ = catalog()
    other = make.policy(tenant.id, product.id, "gold")
    with store.write() as s:
        s.license_policies.add(other)
    changed = replace(
        policy,
        slug="silver",
        name="Silver",
        description="d",
        duration_seconds=60,
        grace_seconds=5,
        max_machines=7,
        heartbeat_window_seconds=30,
        is_trial=True,
        price_override=1,
        entitlements=["a"],
        public=False,
        active=False,
        highlighted=True,
        is_recurring=True,
        renewal_period_days=365,
        trial_days=3,
        tier_rank=9,
        archived_at=utcnow(),
        metadata={"m": [1]},
        updated_at=utcnow(),
    )
    with store.write() as s:
        s.license_policies.save(replace(changed, product_id=uuid4(), tenant_id=uuid4(), created_at=utcnow()))
    with store.read() as s:
        assert s.license_policies.get(policy.id) == changed
        assert s.license_policies.by_slug(product.id, "silver") == changed
    with pytest.raises(Conflict):
        with store.write() as s:
            s.license_policies.save(replace(changed, slug="gold"))
    with pytest.raises(KeyError):
        with store.write() as s:
            s.license_policies.save(make.policy(tenant.id, product.id))


def test_products_list_per_tenant_oldest_first(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    now = utcnow()
    old = make.product(a.id, created_at=now - timedelta(days=1))
    ties = [make.product(a.id, created_at=now) for _ in range(3)]
    with store.write() as s:
        for product in (*ties, old, make.product(b.id)):
            s.license_products.add(product)
    with store.read() as s:
        assert _ids(s.license_products.list(a.id)) == [old.id, *_ordered(*ties)]
        assert s.license_products.list(uuid4()) == []


# --- licenses -------------------------------------------------------------------------------------


def test_licenses_list_newest_first_with_filters_and_limit(store, catalog, tenant_in, make):
    tenant, key, product, _, _first = catalog()
    other_tenant = tenant_in()
    second_product = make.product(tenant.id)
    now = utcnow().replace(microsecond=0)
    invoice_id = uuid4()
    older = make.license(tenant.id, product.id, key.id, issued_at=now - timedelta(days=3), buyer_email="ada@x.org")
    ties = [
        make.license(tenant.id, second_product.id, key.id, issued_at=now + timedelta(days=1), buyer_email="ada@x.org")
        for _ in range(3)
    ]
    billed = make.license(tenant.id, product.id, key.id, issued_at=now + timedelta(days=2), invoice_id=invoice_id)
    theirs_product = make.product(other_tenant.id)
    with store.write() as s:
        s.license_products.add(second_product)
        s.license_products.add(theirs_product)
        for license in (*ties, billed, older):
            s.licenses.add(license)
        s.licenses.add(make.license(other_tenant.id, theirs_product.id, buyer_email="ada@x.org"))
    newest_ties = list(reversed(_ordered(*ties)))
    with store.read() as s:
        assert _ids(s.licenses.list(tenant.id)) == [billed.id, *newest_ties, _first.id, older.id]
        assert _ids(s.licenses.list(tenant.id, limit=2)) == [billed.id, newest_ties[0]]
        assert s.licenses.list(tenant.id, limit=0) == []
        assert _ids(s.licenses.list(tenant.id, product_id=second_product.id)) == newest_ties
        assert _ids(s.licenses.list(tenant.id, buyer_email="ada@x.org")) == [*newest_ties, older.id]
        assert s.licenses.list(tenant.id, buyer_email="ADA@x.org") == []  # exactly as kept
        assert _ids(s.licenses.list(tenant.id, product_id=product.id, buyer_email="ada@x.org")) == [older.id]
        assert _ids(s.licenses.list(tenant.id, invoice_id=invoice_id)) == [billed.id]
        assert s.licenses.list(tenant.id, invoice_id=uuid4()) == []


def test_license_save_writes_all_but_its_identity(store, catalog, make):
    tenant, key, product, policy, license = catalog()
    at = utcnow().replace(microsecond=0)
    changed = replace(
        license,
        issuer_key_id=uuid4(),
        status="revoked",
        updated_at=at,
        policy_id=None,
        expires_at=at + timedelta(days=1),
        grace_seconds=1,
        max_machines=0,
        heartbeat_window_seconds=2,
        is_trial=True,
        entitlements=["z"],
        fingerprint_hash="0" * 64,
        buyer_email="b@x.org",
        note="n",
        invoice_id=uuid4(),
        status_reason="fraud",
        subscription="past_due",
        cancelled_at=at,
    )
    with store.write() as s:
        s.licenses.save(replace(changed, tenant_id=uuid4(), product_id=uuid4(), issued_at=at - timedelta(days=9)))
    with store.read() as s:
        assert s.licenses.get(license.id) == changed
    with pytest.raises(KeyError):
        with store.write() as s:
            s.licenses.save(make.license(tenant.id, product.id))


# --- machines -------------------------------------------------------------------------------------


def test_machines_list_count_and_save(store, catalog, make):
    tenant, key, product, _, license = catalog()
    other = make.license(tenant.id, product.id, key.id)
    now = utcnow()
    first = make.machine(tenant.id, license.id, activated_at=now - timedelta(hours=2))
    off = make.machine(tenant.id, license.id, activated_at=now - timedelta(hours=1), deactivated_at=now)
    ties = [make.machine(tenant.id, other.id, activated_at=now) for _ in range(3)]
    with store.write() as s:
        s.licenses.add(other)
        for machine in (*ties, off, first):
            s.machines.add(machine)
    with store.read() as s:
        assert _ids(s.machines.list(tenant.id)) == [first.id, off.id, *_ordered(*ties)]
        assert _ids(s.machines.list(tenant.id, license_id=license.id)) == [first.id, off.id]
        assert _ids(s.machines.list(tenant.id, license_id=license.id, active_only=True)) == [first.id]
        assert _ids(s.machines.list(tenant.id, active_only=True)) == [first.id, *_ordered(*ties)]
        assert s.machines.list(uuid4(), license_id=license.id) == []  # another tenant's view
        assert s.machines.count_active(license.id) == 1 and s.machines.count_active(other.id) == 3
    back = replace(
        off,
        activated_at=now,
        last_seen_at=now,
        hostname="h",
        platform="p",
        seat_expires_at=now + timedelta(minutes=5),
        deactivated_at=None,
        deactivation_reason=None,
    )
    with store.write() as s:
        s.machines.save(replace(back, tenant_id=uuid4(), license_id=other.id, fingerprint_hash="9" * 64))
    with store.read() as s:
        assert s.machines.get(off.id) == back
        assert s.machines.by_fingerprint(license.id, off.fingerprint_hash) == back
        assert s.machines.count_active(license.id) == 2 and s.machines.count_active(other.id) == 3
    with pytest.raises(KeyError):
        with store.write() as s:
            s.machines.save(make.machine(tenant.id, license.id))


def test_silent_machines_of_every_tenant_seat_end_first(store, catalog, make):
    (a, _, _, _, la), (b, _, _, _, lb) = catalog(), catalog()
    now = utcnow()
    due_b = make.machine(b.id, lb.id, seat_expires_at=now - timedelta(minutes=5))
    due_a = make.machine(a.id, la.id, seat_expires_at=now - timedelta(minutes=1))
    ties = [make.machine(a.id, la.id, seat_expires_at=now - timedelta(minutes=3)) for _ in range(2)]
    at_now = make.machine(a.id, la.id, seat_expires_at=now)  # not before now: still seated
    later = make.machine(b.id, lb.id, seat_expires_at=now + timedelta(seconds=1))
    never = make.machine(a.id, la.id)  # no heartbeat window
    deactivated = make.machine(b.id, lb.id, seat_expires_at=now - timedelta(hours=1), deactivated_at=now)
    with store.write() as s:
        for machine in (at_now, due_a, later, *ties, never, deactivated, due_b):
            s.machines.add(machine)
    with store.read() as s:
        assert _ids(s.machines.silent(now, 10)) == [due_b.id, *_ordered(*ties), due_a.id]
        assert _ids(s.machines.silent(now, 2)) == [due_b.id, _ordered(*ties)[0]]
        assert s.machines.silent(now, 0) == []
        assert _ids(s.machines.silent(now + timedelta(microseconds=1), 10))[-1] == at_now.id


# --- invoices and codes ---------------------------------------------------------------------------


def test_invoice_save_writes_its_settlement_only(store, catalog, make):
    tenant, _, product, _, license = catalog()
    invoice = make.invoice(tenant.id, product.id)
    with store.write() as s:
        s.invoices.add(invoice)
    at = utcnow()
    settled = replace(
        invoice, status="settled", updated_at=at, license_id=license.id, settled_at=at, provider_invoice_id="ext-9"
    )
    with store.write() as s:
        s.invoices.save(
            replace(
                settled, amount=1, currency="EUR", buyer_email="x@y.z", expires_at=at, code_id=uuid4(), kind="renewal"
            )
        )
    with store.read() as s:
        assert s.invoices.get(invoice.id) == settled
    with pytest.raises(KeyError):
        with store.write() as s:
            s.invoices.save(make.invoice(tenant.id, product.id))


def test_invoices_list_newest_first_by_status_with_limit(store, catalog, make):
    tenant, _, product, _, _ = catalog()
    now = utcnow()
    old = make.invoice(tenant.id, product.id, created_at=now - timedelta(hours=1), status="settled")
    ties = [make.invoice(tenant.id, product.id, created_at=now) for _ in range(3)]
    with store.write() as s:
        for invoice in (old, *ties):
            s.invoices.add(invoice)
    newest_ties = list(reversed(_ordered(*ties)))
    with store.read() as s:
        assert _ids(s.invoices.list(tenant.id)) == [*newest_ties, old.id]
        assert _ids(s.invoices.list(tenant.id, status="settled")) == [old.id]
        assert _ids(s.invoices.list(tenant.id, status="pending", limit=2)) == newest_ties[:2]
        assert s.invoices.list(tenant.id, limit=0) == [] and s.invoices.list(uuid4()) == []


def test_overdue_invoices_of_every_tenant_expiry_first(store, catalog, make):
    (a, _, pa, _, _), (b, _, pb, _, _) = catalog(), catalog()
    now = utcnow()
    at_now = make.invoice(a.id, pa.id, expires_at=now)  # at or before now: overdue
    earlier = make.invoice(b.id, pb.id, expires_at=now - timedelta(minutes=5))
    ties = [make.invoice(a.id, pa.id, expires_at=now - timedelta(minutes=2)) for _ in range(2)]
    later = make.invoice(a.id, pa.id, expires_at=now + timedelta(microseconds=1))
    settled = make.invoice(b.id, pb.id, expires_at=now - timedelta(hours=1), status="settled")
    expired = make.invoice(b.id, pb.id, expires_at=now - timedelta(hours=1), status="expired")
    with store.write() as s:
        for invoice in (at_now, later, *ties, settled, expired, earlier):
            s.invoices.add(invoice)
    with store.read() as s:
        assert _ids(s.invoices.overdue(now, 10)) == [earlier.id, *_ordered(*ties), at_now.id]
        assert _ids(s.invoices.overdue(now, 1)) == [earlier.id]
        assert s.invoices.overdue(now, 0) == []
        assert _ids(s.invoices.overdue(now - timedelta(microseconds=1), 10)) == [earlier.id, *_ordered(*ties)]


def test_codes_list_oldest_first_and_save(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    now = utcnow()
    old = make.code(a.id, created_at=now - timedelta(days=1))
    ties = [make.code(a.id, created_at=now) for _ in range(3)]
    with store.write() as s:
        for code in (*ties, old, make.code(b.id)):
            s.discount_codes.add(code)
    with store.read() as s:
        assert _ids(s.discount_codes.list(a.id)) == [old.id, *_ordered(*ties)]
    changed = replace(
        old,
        label="NEW",
        updated_at=now,
        product_id=uuid4(),
        percent_off=10,
        amount_off=5,
        max_redemptions=2,
        redemptions=1,
        expires_at=now,
        active=False,
    )
    with store.write() as s:
        s.discount_codes.save(replace(changed, tenant_id=b.id, code_hash="z" * 64, created_at=now))
    with store.read() as s:
        assert s.discount_codes.get(old.id) == changed
        assert s.discount_codes.by_hash(a.id, old.code_hash) == changed
    with pytest.raises(KeyError):
        with store.write() as s:
            s.discount_codes.save(make.code(a.id))


def test_a_failed_write_leaves_no_licensing_row(store, catalog, make):
    tenant, key, product, _, license = catalog()
    machine, code = make.machine(tenant.id, license.id, "a" * 64), make.code(tenant.id, "b" * 64)
    with pytest.raises(Boom):
        with store.write() as s:
            s.machines.add(machine)
            s.discount_codes.add(code)
            s.licenses.save(replace(license, status="revoked"))
            raise Boom()
    with store.write() as s:
        assert s.machines.get(machine.id) is None and s.discount_codes.get(code.id) is None
        assert s.licenses.get(license.id) == license
        s.machines.add(make.machine(tenant.id, license.id, "a" * 64))  # the fingerprint is free
        s.discount_codes.add(make.code(tenant.id, "b" * 64))


# --- locking --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["get", "by_hash"])
def test_concurrent_redemptions_under_for_update_lose_no_update(store, tenant_in, make, how):
    """Two writers each read the code for update, wait a little, then save one more redemption:
    the second waits for the first (PostgreSQL: the row lock; SQLite: one writer at a time;
    memory: the store's lock), so both count."""
    tenant = tenant_in()
    code = make.code(tenant.id)
    with store.write() as s:
        s.discount_codes.add(code)
    start, errors = threading.Barrier(2), []

    def redeem() -> None:
        try:
            start.wait(5)
            with store.write() as s:
                if how == "get":
                    found = s.discount_codes.get(code.id, for_update=True)
                else:
                    found = s.discount_codes.by_hash(tenant.id, code.code_hash, for_update=True)
                time.sleep(0.2)
                s.discount_codes.save(replace(found, redemptions=found.redemptions + 1))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with store.read() as s:
        assert s.discount_codes.get(code.id).redemptions == 2


def test_concurrent_license_updates_under_for_update_lose_no_update(store, catalog):
    _, _, _, _, license = catalog()
    start, errors = threading.Barrier(2), []

    def bump() -> None:
        try:
            start.wait(5)
            with store.write() as s:
                found = s.licenses.get(license.id, for_update=True)
                time.sleep(0.2)
                s.licenses.save(replace(found, max_machines=found.max_machines + 1))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with store.read() as s:
        assert s.licenses.get(license.id).max_machines == license.max_machines + 2


def test_subscriptions_list_per_tenant_by_status_and_renewing_finds_the_due(store, catalog, tenant_in, make):
    tenant, key, product, _, plain = catalog()
    other = tenant_in()
    theirs_product = make.product(other.id)
    now = utcnow().replace(microsecond=0)

    def sub(status, expires_in, tenant_id=tenant.id, product_id=product.id, **fields):
        return make.license(tenant_id, product_id, key.id, subscription=status, expires_at=now + expires_in, **fields)

    due_active = sub("active", timedelta(seconds=-5), issued_at=now - timedelta(days=2))
    due_cancelled = sub("cancelled", timedelta(seconds=-10), issued_at=now - timedelta(days=1))
    not_due = sub("active", timedelta(days=1), issued_at=now)
    past_due = sub("past_due", timedelta(seconds=-20), issued_at=now - timedelta(days=3))
    ended = sub("ended", timedelta(seconds=-30), issued_at=now - timedelta(days=4))
    theirs = sub("active", timedelta(seconds=-1), other.id, theirs_product.id)
    with store.write() as s:
        s.license_products.add(theirs_product)
        for lic in (due_active, due_cancelled, not_due, past_due, ended, theirs):
            s.licenses.add(lic)
    with store.read() as s:
        mine = [not_due.id, due_cancelled.id, due_active.id, past_due.id, ended.id]
        assert _ids(s.licenses.subscriptions(tenant.id)) == mine  # newest first; `plain` does not recur
        assert plain.id not in _ids(s.licenses.subscriptions(tenant.id))
        assert _ids(s.licenses.subscriptions(tenant.id, status="active")) == [not_due.id, due_active.id]
        assert _ids(s.licenses.subscriptions(tenant.id, limit=1)) == [not_due.id]
        assert _ids(s.licenses.subscriptions(other.id)) == [theirs.id]
        # every tenant's, first due first; past_due waits on its invoice, ended is over
        assert _ids(s.licenses.renewing(now, 10)) == [due_cancelled.id, due_active.id, theirs.id]
        assert _ids(s.licenses.renewing(now, 1)) == [due_cancelled.id]
        assert s.licenses.renewing(now - timedelta(minutes=1), 10) == []


def test_at_prefix_reads_the_tenant_its_entitlement_and_only_its_own_license(store, catalog, make):
    a, _, _, _, mine = catalog()
    b, _, _, _, theirs = catalog()
    with store.write() as s:
        s.entitlements.add(make.entitlement(a.id, "licensing"))
    with store.read() as s:
        tenant, held, found = s.licenses.at_prefix(a.slug, "licensing", mine.id)
        assert (tenant, held, found) == (s.tenants.get(a.id), s.entitlements.get(a.id, "licensing"), mine)
        assert s.licenses.at_prefix(a.slug, "licensing", theirs.id) == (tenant, held, None)  # B's license
        assert s.licenses.at_prefix(a.slug, "licensing", None) == (tenant, held, None)
        assert s.licenses.at_prefix(b.slug, "licensing", theirs.id) == (s.tenants.get(b.id), None, theirs)
        assert s.licenses.at_prefix("no-such-shop", "licensing", mine.id) is None
