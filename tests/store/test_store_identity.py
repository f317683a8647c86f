"""Users, memberships, sessions, refresh tokens, signing keys, key standing and rate limits: the
same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

import store.memory.ratelimits as memory_ratelimits
import store.sql.ratelimits as sql_ratelimits
from store.errors import Conflict, MissingReference
from store.memory import MemoryStore
from store.models import RateBucket, utcnow


class Boom(Exception):
    pass


def run_threads(count, target):
    """Run target(i) in `count` threads released together; (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def work(i):
        try:
            barrier.wait(timeout=30)
            outcome = (results, target(i))
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            outcome = (errors, repr(exc))
        with lock:
            outcome[0].append(outcome[1])

    workers = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers)
    return results, errors


# --- users -----------------------------------------------------------------------------------


def test_user_round_trip(store, make):
    disabled = utcnow()
    user = make.user("dana@example.com", platform_roles=["platform_admin", "support"], disabled_at=disabled)
    plain = make.user("lee@example.com")
    with store.write() as s:
        s.users.add(user)
        s.users.add(plain)
    with store.read() as s:
        found = s.users.get(user.id)
        assert s.users.by_email("dana@example.com") == user
        assert s.users.get(plain.id) == plain
    assert found == user
    assert isinstance(found.id, UUID)
    assert found.disabled_at == disabled and found.disabled_at.utcoffset() == timedelta(0)
    assert plain.platform_roles == [] and plain.disabled_at is None


def test_unknown_user_is_none(store, user_in):
    user_in(email="known@example.com")
    with store.read() as s:
        assert s.users.get(uuid4()) is None
        assert s.users.by_email("unknown@example.com") is None


def test_returned_user_is_a_copy(store, make):
    user = make.user(platform_roles=["support"])
    with store.write() as s:
        s.users.add(user)
    user.platform_roles.append("platform_admin")
    with store.read() as s:
        s.users.get(user.id).platform_roles.append("x")
        assert s.users.get(user.id).platform_roles == ["support"]


def test_duplicate_email_conflicts_and_leaves_nothing(store, user_in, make):
    first = user_in(email="taken@example.com")
    second = make.user("taken@example.com")
    with pytest.raises(Conflict) as caught:
        with store.write() as s:
            s.users.add(second)
    assert caught.value.what == "email"
    with store.read() as s:
        assert s.users.get(second.id) is None
        assert s.users.by_email("taken@example.com") == first


def test_duplicate_user_id_conflicts(store, user_in, make):
    first = user_in()
    with pytest.raises(Conflict) as caught:
        with store.write() as s:
            s.users.add(make.user(id=first.id))
    assert caught.value.what == "id"


def test_save_user_overwrites_password_roles_and_disabled(store, user_in):
    user = user_in(email="a@example.com", platform_roles=["support"])
    disabled = utcnow() + timedelta(minutes=1)
    changed = replace(
        user,
        password_hash="$argon2id$new",
        platform_roles=["platform_admin"],
        disabled_at=disabled,
        email="b@example.com",  # not one of the fields save() writes
        created_at=user.created_at + timedelta(days=1),
    )
    with store.write() as s:
        s.users.save(changed)
    with store.read() as s:
        found = s.users.get(user.id)
        assert s.users.by_email("b@example.com") is None
    assert found == replace(
        user, password_hash="$argon2id$new", platform_roles=["platform_admin"], disabled_at=disabled
    )
    with store.write() as s:
        s.users.save(replace(found, disabled_at=None))
    with store.read() as s:
        assert s.users.get(user.id).disabled_at is None


# --- memberships -----------------------------------------------------------------------------


def test_membership_put_get_and_upsert(store, tenant_in, user_in, make):
    tenant = tenant_in()
    user = user_in()
    created = utcnow() - timedelta(days=3)
    with store.write() as s:
        s.memberships.put(make.membership(user.id, tenant.id, ["tenant_member"], created_at=created))
    with store.read() as s:
        assert s.memberships.get(user.id, tenant.id) == make.membership(
            user.id, tenant.id, ["tenant_member"], created_at=created
        )
    # An upsert replaces the roles and keeps the first created_at.
    with store.write() as s:
        s.memberships.put(make.membership(user.id, tenant.id, ["tenant_admin", "tenant_member"]))
    with store.read() as s:
        found = s.memberships.get(user.id, tenant.id)
        assert s.memberships.for_user(user.id) == [found]
    assert found.roles == ["tenant_admin", "tenant_member"]
    assert found.created_at == created
    with store.read() as s:
        assert s.memberships.get(user.id, uuid4()) is None
        assert s.memberships.get(uuid4(), tenant.id) is None
        assert s.memberships.for_user(uuid4()) == []


def test_memberships_for_user_ordered_by_tenant_id_text(store, tenant_in, user_in, make):
    user = user_in()
    other = user_in()
    ids = [UUID(int=2**128 - 1), UUID(int=1), UUID("80000000-0000-4000-8000-000000000000"), uuid4(), uuid4()]
    tenants = [tenant_in(id=i) for i in ids]
    with store.write() as s:
        for t in reversed(tenants):
            s.memberships.put(make.membership(user.id, t.id))
        s.memberships.put(make.membership(other.id, tenants[0].id))
    with store.read() as s:
        found = s.memberships.for_user(user.id)
        assert [m.tenant_id for m in s.memberships.for_user(other.id)] == [tenants[0].id]
    assert [m.tenant_id for m in found] == sorted(ids, key=str)
    assert all(m.user_id == user.id for m in found)


@pytest.mark.parametrize("missing", ["user", "tenant"])
def test_membership_needs_user_and_tenant(store, tenant_in, user_in, make, missing):
    tenant = tenant_in()
    user = user_in()
    user_id = uuid4() if missing == "user" else user.id
    tenant_id = uuid4() if missing == "tenant" else tenant.id
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.memberships.put(make.membership(user_id, tenant_id))
    with store.read() as s:
        assert s.memberships.get(user_id, tenant_id) is None
        assert s.memberships.for_user(user.id) == []


# --- sessions --------------------------------------------------------------------------------


def test_session_round_trip(store, tenant_in, user_in, make):
    tenant = tenant_in()
    user = user_in()
    login = make.session(user.id, tenant.id, roles=["tenant_admin"])
    support = make.session(user.id, tenant.id, kind="support", roles=["support"], reason="ticket 42")
    platform = make.session(user.id, None, roles=["platform_admin"])
    with store.write() as s:
        for session in (login, support, platform):
            s.auth_sessions.add(session)
    with store.read() as s:
        assert s.auth_sessions.get(login.id) == login
        assert s.auth_sessions.get(support.id) == support
        assert s.auth_sessions.get(platform.id) == platform
        assert s.auth_sessions.get(uuid4()) is None
    assert platform.tenant_id is None and support.reason == "ticket 42"


@pytest.mark.parametrize("missing", ["user", "tenant"])
def test_session_needs_user_and_tenant(store, tenant_in, user_in, make, missing):
    tenant = tenant_in()
    user = user_in()
    user_id = uuid4() if missing == "user" else user.id
    session = make.session(user_id, uuid4() if missing == "tenant" else tenant.id)
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.auth_sessions.add(session)
    with store.read() as s:
        assert s.auth_sessions.get(session.id) is None


def test_duplicate_session_id_conflicts(store, user_in, make):
    user = user_in()
    session = make.session(user.id)
    with store.write() as s:
        s.auth_sessions.add(session)
    with pytest.raises(Conflict):
        with store.write() as s:
            s.auth_sessions.add(make.session(user.id, id=session.id, kind="support"))
    with store.read() as s:
        assert s.auth_sessions.get(session.id) == session


def test_session_revoke_once(store, user_in, make):
    user = user_in()
    session = make.session(user.id)
    first, second = utcnow(), utcnow() + timedelta(hours=1)
    with store.write() as s:
        s.auth_sessions.add(session)
    with store.write() as s:
        assert s.auth_sessions.revoke(session.id, first) is True
    with store.write() as s:
        assert s.auth_sessions.revoke(session.id, second) is False
        assert s.auth_sessions.revoke(uuid4(), second) is False
    with store.read() as s:
        assert s.auth_sessions.get(session.id).revoked_at == first


def test_session_live(store, tenant_in, user_in, make):
    tenant = tenant_in()
    user = user_in()
    expires = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    live = make.session(user.id, tenant.id, expires_at=expires)
    revoked = make.session(user.id, tenant.id, expires_at=expires)
    with store.write() as s:
        s.auth_sessions.add(live)
        s.auth_sessions.add(revoked)
        s.auth_sessions.revoke(revoked.id, utcnow())
    plus_two = timezone(timedelta(hours=2))
    with store.read() as s:
        assert s.auth_sessions.live(live.id, expires - timedelta(microseconds=1)) is True
        assert s.auth_sessions.live(live.id, expires) is False  # expires *after* at, strictly
        assert s.auth_sessions.live(live.id, expires + timedelta(seconds=1)) is False
        # The same instants in another zone compare as instants, not as text.
        assert s.auth_sessions.live(live.id, datetime(2030, 1, 1, 13, 30, tzinfo=plus_two)) is True
        assert s.auth_sessions.live(live.id, datetime(2030, 1, 1, 14, 30, tzinfo=plus_two)) is False
        assert s.auth_sessions.live(revoked.id, expires - timedelta(days=1)) is False
        assert s.auth_sessions.live(uuid4(), expires - timedelta(days=1)) is False


def test_a_login_session_of_a_switched_off_tenant_is_not_live(store, tenant_in, user_in, make):
    """Frozen or archived: its login sessions pause (live again once it is active); support
    sessions and platform sessions do not depend on it."""
    tenant = tenant_in(status="active")
    user = user_in()
    login = make.session(user.id, tenant.id)
    support = make.session(user.id, tenant.id, kind="support", roles=["support"], reason="ticket")
    platform = make.session(user.id, None)
    with store.write() as s:
        for session in (login, support, platform):
            s.auth_sessions.add(session)
    now = utcnow()
    for status, login_live in (("frozen", False), ("archived", False), ("active", True), ("trial", True)):
        with store.write() as s:
            s.tenants.save(replace(s.tenants.get(tenant.id), status=status))
        with store.read() as s:
            assert s.auth_sessions.live(login.id, now) is login_live, status
            assert s.auth_sessions.live(support.id, now) is True, status
            assert s.auth_sessions.live(platform.id, now) is True, status


# --- refresh tokens --------------------------------------------------------------------------


@pytest.fixture
def session_in(store, user_in, make):
    """Add a user and a platform session of theirs (committed); return the session."""

    def add(**fields):
        session = make.session(user_in().id, **fields)
        with store.write() as s:
            s.auth_sessions.add(session)
        return session

    return add


def test_refresh_token_round_trip(store, session_in, make):
    session = session_in()
    token = make.refresh(session.id)
    with store.write() as s:
        s.refresh_tokens.add(token)
    with store.read() as s:
        found = s.refresh_tokens.by_hash(token.token_hash)
        assert s.refresh_tokens.by_hash("0" * 64) is None
    assert found == token and found.rotated_at is None


def test_refresh_token_needs_its_session(store, make):
    token = make.refresh(uuid4())
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.refresh_tokens.add(token)
    with store.read() as s:
        assert s.refresh_tokens.by_hash(token.token_hash) is None


def test_duplicate_refresh_token_hash_conflicts(store, session_in, make):
    session = session_in()
    token = make.refresh(session.id)
    with store.write() as s:
        s.refresh_tokens.add(token)
    with pytest.raises(Conflict):
        with store.write() as s:
            s.refresh_tokens.add(make.refresh(session.id, token_hash=token.token_hash))
    with store.read() as s:
        assert s.refresh_tokens.by_hash(token.token_hash) == token


def test_rotate_once(store, session_in, make):
    token = make.refresh(session_in().id)
    first, second = utcnow(), utcnow() + timedelta(minutes=5)
    with store.write() as s:
        s.refresh_tokens.add(token)
    with store.write() as s:
        assert s.refresh_tokens.rotate(token.id, first) is True
    with store.write() as s:
        assert s.refresh_tokens.rotate(token.id, second) is False
        assert s.refresh_tokens.rotate(uuid4(), second) is False
    with store.read() as s:
        assert s.refresh_tokens.by_hash(token.token_hash).rotated_at == first


def test_concurrent_rotations_have_one_winner(store, session_in, make):
    token = make.refresh(session_in().id)
    with store.write() as s:
        s.refresh_tokens.add(token)

    def rotate(_):
        with store.write() as s:
            return s.refresh_tokens.rotate(token.id, utcnow())

    results, errors = run_threads(10, rotate)
    assert errors == []
    assert sorted(results) == [False] * 9 + [True]


# --- signing keys ----------------------------------------------------------------------------


def test_signing_key_round_trip_and_duplicate_kid(store, make):
    key = make.signing_key("kid-1")
    with store.write() as s:
        s.signing_keys.add(key)
    with store.read() as s:
        found = s.signing_keys.get("kid-1")
        assert s.signing_keys.get("kid-2") is None
    assert found == key and found.public_jwk["crv"] == "Ed25519"
    found.public_jwk["x"] = "changed"
    with pytest.raises(Conflict) as caught:
        with store.write() as s:
            s.signing_keys.add(make.signing_key("kid-1", public_jwk={"kty": "OKP"}))
    assert caught.value.what == "kid"
    with store.read() as s:
        assert s.signing_keys.get("kid-1") == key


def test_signing_keys_live_newest_first_and_prune(store, make):
    base = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    day, hour = timedelta(days=1), timedelta(hours=1)
    old = make.signing_key("a-old", created_at=base - 2 * day, expires_at=base)
    mid_b = make.signing_key("b-mid", created_at=base - day, expires_at=base + hour)
    mid_a = make.signing_key("a-mid", created_at=base - day, expires_at=base + 2 * hour)
    new = make.signing_key("z-new", created_at=base, expires_at=base + day)
    with store.write() as s:
        for key in (mid_b, old, new, mid_a):
            s.signing_keys.add(key)
    with store.read() as s:
        everything = s.signing_keys.live(base - timedelta(seconds=1))
        assert [k.kid for k in everything] == ["z-new", "a-mid", "b-mid", "a-old"]
        assert s.signing_keys.live(base) == [new, mid_a, mid_b]  # expires_at == at is not live
        plus_two = timezone(timedelta(hours=2))
        assert [k.kid for k in s.signing_keys.live(datetime(2030, 5, 1, 15, 30, tzinfo=plus_two))] == [
            "z-new",
            "a-mid",
        ]
    with store.write() as s:
        assert s.signing_keys.prune(base - timedelta(seconds=1)) == 0
        assert s.signing_keys.prune(base + timedelta(hours=1)) == 2  # a-old and b-mid
    with store.write() as s:
        assert s.signing_keys.prune(base + timedelta(hours=1)) == 0
    with store.read() as s:
        assert s.signing_keys.get("a-old") is None and s.signing_keys.get("b-mid") is None
        assert s.signing_keys.live(base - timedelta(days=5)) == [new, mid_a]


# --- api key standing ------------------------------------------------------------------------


def test_api_key_standing(store, tenant_in, make):
    active = tenant_in(status="active")
    frozen = tenant_in(status="trial")
    good, revoked, cold = make.key(active.id), make.key(active.id), make.key(frozen.id)
    at = utcnow()
    with store.write() as s:
        for key in (good, revoked, cold):
            s.api_keys.add(key)
        s.api_keys.revoke(revoked.id, at)
        s.tenants.save(replace(frozen, status="frozen"))
    with store.read() as s:
        assert s.api_keys.standing(good.id) == (None, "active")
        assert s.api_keys.standing(revoked.id) == (at, "active")
        assert s.api_keys.standing(cold.id) == (None, "frozen")
        assert s.api_keys.standing(uuid4()) is None
    with store.write() as s:
        s.tenants.delete(active.id)
    with store.read() as s:
        assert s.api_keys.standing(good.id) is None


# --- tenant delete, rollback, read sessions --------------------------------------------------


def _cascade_fixture(store, tenant_in, user_in, make):
    doomed, kept = tenant_in(), tenant_in()
    user = user_in()
    bound = make.session(user.id, doomed.id)
    other = make.session(user.id, kept.id)
    platform = make.session(user.id, None)
    tokens = {s.id: make.refresh(s.id) for s in (bound, other, platform)}
    with store.write() as s:
        s.memberships.put(make.membership(user.id, doomed.id))
        s.memberships.put(make.membership(user.id, kept.id))
        for session in (bound, other, platform):
            s.auth_sessions.add(session)
            s.refresh_tokens.add(tokens[session.id])
    return doomed, kept, user, (bound, other, platform), tokens


def test_tenant_delete_removes_memberships_and_sessions_but_not_users(store, tenant_in, user_in, make):
    doomed, kept, user, (bound, other, platform), tokens = _cascade_fixture(store, tenant_in, user_in, make)
    with store.write() as s:
        assert s.tenants.delete(doomed.id) is True
    with store.read() as s:
        assert s.users.get(user.id) == user
        assert [m.tenant_id for m in s.memberships.for_user(user.id)] == [kept.id]
        assert s.memberships.get(user.id, doomed.id) is None
        assert s.auth_sessions.get(bound.id) is None
        assert s.auth_sessions.live(bound.id, utcnow()) is False
        assert s.refresh_tokens.by_hash(tokens[bound.id].token_hash) is None
        assert s.auth_sessions.get(other.id) == other
        assert s.auth_sessions.get(platform.id) == platform
        assert s.refresh_tokens.by_hash(tokens[other.id].token_hash) == tokens[other.id]
        assert s.refresh_tokens.by_hash(tokens[platform.id].token_hash) == tokens[platform.id]
    # The refresh token's hash is free again: the deleted token left nothing behind.
    with store.write() as s:
        s.refresh_tokens.add(make.refresh(platform.id, token_hash=tokens[bound.id].token_hash))


def test_failed_tenant_delete_keeps_memberships_and_sessions(store, tenant_in, user_in, make):
    doomed, kept, user, (bound, other, platform), tokens = _cascade_fixture(store, tenant_in, user_in, make)
    with pytest.raises(Boom):
        with store.write() as s:
            s.tenants.delete(doomed.id)
            raise Boom()
    with store.read() as s:
        assert [m.tenant_id for m in s.memberships.for_user(user.id)] == sorted([doomed.id, kept.id], key=str)
        assert s.auth_sessions.get(bound.id) == bound
        assert s.refresh_tokens.by_hash(tokens[bound.id].token_hash) == tokens[bound.id]


def test_write_rolls_back_every_identity_change(store, tenant_in, user_in, make):
    tenant = tenant_in()
    user = user_in(platform_roles=["support"])
    session = make.session(user.id, tenant.id)
    token = make.refresh(session.id)
    key = make.signing_key("kept", expires_at=utcnow() - timedelta(hours=1))
    membership = make.membership(user.id, tenant.id, ["tenant_member"])
    bucket = RateBucket("ip:1", interval=10.0, burst=2)
    with store.write() as s:
        s.memberships.put(membership)
        s.auth_sessions.add(session)
        s.refresh_tokens.add(token)
        s.signing_keys.add(key)
        assert s.rate_limits.acquire([bucket], 1000.0) == 0.0
    new_user = make.user("new@example.com")
    new_session = make.session(new_user.id)
    new_token = make.refresh(new_session.id)
    with pytest.raises(Boom):
        with store.write() as s:
            s.users.add(new_user)
            s.auth_sessions.add(new_session)
            s.refresh_tokens.add(new_token)
            s.memberships.put(make.membership(new_user.id, tenant.id))
            s.memberships.put(make.membership(user.id, tenant.id, ["tenant_admin"]))
            s.users.save(replace(user, password_hash="changed", platform_roles=[], disabled_at=utcnow()))
            assert s.auth_sessions.revoke(session.id, utcnow()) is True
            assert s.refresh_tokens.rotate(token.id, utcnow()) is True
            s.signing_keys.add(make.signing_key("new"))
            assert s.signing_keys.prune(utcnow()) == 1
            assert s.rate_limits.acquire([bucket, RateBucket("fresh", 10.0, 1)], 1000.0) == 0.0
            assert s.rate_limits.peek([bucket], 1000.0) == pytest.approx(10.0)
            raise Boom()
    with store.read() as s:
        assert s.users.get(new_user.id) is None
        assert s.users.by_email("new@example.com") is None
        assert s.auth_sessions.get(new_session.id) is None
        assert s.refresh_tokens.by_hash(new_token.token_hash) is None
        assert s.memberships.for_user(new_user.id) == []
        assert s.memberships.for_user(user.id) == [membership]
        assert s.users.get(user.id) == user
        assert s.auth_sessions.get(session.id) == session
        assert s.refresh_tokens.by_hash(token.token_hash) == token
        assert s.signing_keys.get("new") is None
        assert s.signing_keys.get("kept") == key
        # One of two requests used: one more fits the bucket, and the fresh bucket is untouched.
        assert s.rate_limits.peek([bucket, RateBucket("fresh", 10.0, 1)], 1000.0) == 0.0
    with store.write() as s:
        assert s.rate_limits.acquire([bucket], 1000.0) == 0.0
        assert s.rate_limits.acquire([bucket], 1000.0) == pytest.approx(10.0)


def test_read_session_refuses_identity_writes(store, tenant_in, user_in, make):
    tenant = tenant_in()
    user = user_in()
    session = make.session(user.id)
    token = make.refresh(session.id)
    with store.write() as s:
        s.auth_sessions.add(session)
        s.refresh_tokens.add(token)
        s.signing_keys.add(make.signing_key("k1", expires_at=utcnow() - timedelta(days=1)))
    writes = [
        lambda s: s.users.add(make.user()),
        lambda s: s.users.save(replace(user, password_hash="x")),
        lambda s: s.memberships.put(make.membership(user.id, tenant.id)),
        lambda s: s.auth_sessions.add(make.session(user.id)),
        lambda s: s.auth_sessions.revoke(session.id, utcnow()),
        lambda s: s.refresh_tokens.add(make.refresh(session.id)),
        lambda s: s.refresh_tokens.rotate(token.id, utcnow()),
        lambda s: s.refresh_tokens.rotate(uuid4(), utcnow()),
        lambda s: s.auth_sessions.revoke(uuid4(), utcnow()),
        lambda s: s.signing_keys.add(make.signing_key("k1")),  # a duplicate: refused as a write first
        lambda s: s.signing_keys.add(make.signing_key()),
        lambda s: s.signing_keys.prune(utcnow()),
        lambda s: s.rate_limits.acquire([RateBucket("k", 1.0, 1)], 1000.0),
    ]
    with store.read() as s:
        for write in writes:
            with pytest.raises(RuntimeError):
                write(s)
    with store.read() as s:
        assert s.users.get(user.id) == user
        assert s.memberships.for_user(user.id) == []
        assert s.auth_sessions.get(session.id).revoked_at is None
        assert s.refresh_tokens.by_hash(token.token_hash).rotated_at is None
        assert s.signing_keys.get("k1") is not None
        assert s.rate_limits.peek([RateBucket("k", 1.0, 1)], 1000.0) == 0.0


def test_memory_reads_share_one_session_and_writes_do_not():
    store = MemoryStore()
    with store.read() as first, store.read() as second:
        assert first is second
    with store.write() as first, store.write() as second:
        assert first is not second


# --- rate limits -----------------------------------------------------------------------------


def test_burst_then_one_per_interval(store):
    bucket = RateBucket("login.ip:abc", interval=2.0, burst=5)
    now = 1_000_000.0
    for _ in range(5):
        with store.write() as s:
            assert s.rate_limits.acquire([bucket], now) == 0.0
    with store.write() as s:
        assert s.rate_limits.acquire([bucket], now) == pytest.approx(2.0)
        assert s.rate_limits.acquire([bucket], now + 1.5) == pytest.approx(0.5)
    with store.read() as s:
        assert s.rate_limits.peek([bucket], now) == pytest.approx(2.0)
        assert s.rate_limits.peek([bucket], now + 2.0) == 0.0
    # Time frees one slot per interval, and only one.
    with store.write() as s:
        assert s.rate_limits.acquire([bucket], now + 2.0) == 0.0
        assert s.rate_limits.acquire([bucket], now + 2.0) == pytest.approx(2.0)
    # A long pause refills the whole burst, no more.
    later = now + 1000.0
    with store.write() as s:
        assert [s.rate_limits.acquire([bucket], later) for _ in range(6)] == [0.0] * 5 + [pytest.approx(2.0)]


@pytest.mark.parametrize(("count", "seconds"), [(9, 60), (11, 60), (5, 1), (7, 300), (30, 60)])
def test_a_burst_of_n_admits_n_at_todays_epoch(store, count, seconds):
    """Intervals like 60/9 do not add exactly near 1.7e9 s: the boundary request must still fit."""
    bucket = RateBucket(f"login.ip:{count}-{seconds}", interval=seconds / count, burst=count)
    now = 1_795_500_000.123
    with store.write() as s:
        waits = [s.rate_limits.acquire([bucket], now) for _ in range(count + 1)]
    assert waits[:count] == [0.0] * count and waits[count] == pytest.approx(seconds / count, abs=1e-5)


def test_acquire_is_all_or_nothing_across_buckets(store):
    tight = RateBucket("login.ip:1", interval=10.0, burst=1)
    loose = RateBucket("login.account:1", interval=10.0, burst=3)
    now = 5_000.0
    with store.write() as s:
        assert s.rate_limits.acquire([tight, loose], now) == 0.0
        assert s.rate_limits.acquire([tight, loose], now) == pytest.approx(10.0)
        assert s.rate_limits.acquire([loose, tight], now) == pytest.approx(10.0)
    # The refused calls charged the loose bucket nothing: two of its three slots are still free.
    with store.write() as s:
        assert s.rate_limits.acquire([loose], now) == 0.0
        assert s.rate_limits.acquire([loose], now) == 0.0
        assert s.rate_limits.acquire([loose], now) == pytest.approx(10.0)
    # The wait reported is the longest of the buckets that do not fit.
    with store.read() as s:
        assert s.rate_limits.peek([tight, loose], now + 4.0) == pytest.approx(6.0)
        assert s.rate_limits.peek([tight, loose], now + 10.0) == 0.0


def test_peek_changes_nothing(store):
    bucket = RateBucket("verify.key:1", interval=1.0, burst=3)
    now = 42_000.0
    with store.read() as s:
        assert [s.rate_limits.peek([bucket], now) for _ in range(10)] == [0.0] * 10
    with store.write() as s:
        assert [s.rate_limits.peek([bucket], now) for _ in range(10)] == [0.0] * 10
        assert [s.rate_limits.acquire([bucket], now) for _ in range(3)] == [0.0] * 3
        assert s.rate_limits.peek([bucket], now) == pytest.approx(1.0)
        assert s.rate_limits.peek([bucket], now) == pytest.approx(1.0)
    with store.read() as s:
        assert s.rate_limits.peek([bucket], now + 0.25) == pytest.approx(0.75)
        assert s.rate_limits.peek([], now) == 0.0
    with store.write() as s:
        assert s.rate_limits.acquire([], now) == 0.0


def test_a_key_may_appear_once_per_call(store):
    bucket = RateBucket("dup", interval=1.0, burst=3)
    with store.read() as s:
        with pytest.raises(ValueError):
            s.rate_limits.peek([bucket, RateBucket("dup", 2.0, 1)], 1000.0)
    with store.write() as s:
        with pytest.raises(ValueError):
            s.rate_limits.acquire([bucket, bucket], 1000.0)
        assert s.rate_limits.peek([bucket], 1000.0) == 0.0


@pytest.mark.parametrize("existing", [False, True], ids=["new-bucket", "existing-bucket"])
def test_concurrent_acquires_admit_exactly_the_burst(store, existing):
    bucket = RateBucket("exchange.key:hot", interval=1000.0, burst=5)
    now = 1_000_000.0
    if existing:  # a row from long ago: present, but with a tat in the past
        with store.write() as s:
            assert s.rate_limits.acquire([bucket], now - 1e5) == 0.0

    def acquire(i):
        with store.write() as s:
            return s.rate_limits.acquire([bucket, RateBucket(f"exchange.ip:{i}", 1000.0, 5)], now)

    results, errors = run_threads(20, acquire)
    assert errors == []
    assert sorted(results)[:5] == [0.0] * 5
    assert all(wait > 0 for wait in sorted(results)[5:]) and len(results) == 20
    with store.read() as s:
        assert s.rate_limits.peek([bucket], now) == pytest.approx(1000.0)


def test_acquires_racing_housekeeping_stay_exact(store, monkeypatch):
    """Housekeeping on every other acquire, deleting rows other acquires are about to use: no
    deadlock, no error, and the shared bucket still admits exactly its burst. Times and intervals
    are powers of two, so the arithmetic is exact."""
    monkeypatch.setattr(memory_ratelimits, "RATE_HOUSEKEEPING_EVERY", 2)
    monkeypatch.setattr(sql_ratelimits, "HOUSEKEEPING_EVERY", 2)
    hot = RateBucket("hot", interval=2.0**20, burst=25)

    def work(i):
        admitted = 0
        for n in range(30):
            now = 1_000_000.0 + n * 2.0**-7
            # flap* go stale between uses (so housekeeping deletes them); own-* are stale at once.
            buckets = [hot, RateBucket(f"flap{n % 3}", 2.0**-8, 1), RateBucket(f"own-{i}-{n}", 2.0**-9, 1)]
            with store.write() as s:
                admitted += s.rate_limits.acquire(buckets, now) == 0.0
        return admitted

    results, errors = run_threads(12, work)
    assert errors == []
    assert sum(results) == 25


def _rate_rows(store) -> dict[str, float]:
    if isinstance(store, MemoryStore):
        return dict(store._tables.of(memory_ratelimits.RateRows).by_key)
    from store.sql.tables import rate_limits

    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(rate_limits.c.key, rate_limits.c.tat)).all())


def test_stale_buckets_are_swept_every_512_acquires(store):
    stale = RateBucket("old", interval=1.0, burst=1)
    hot = RateBucket("hot", interval=0.001, burst=10_000)
    now = 2_000_000.0
    with store.write() as s:
        assert s.rate_limits.acquire([stale], now - 100.0) == 0.0  # tat now - 99: stale by now
        assert s.rate_limits.acquire([RateBucket("future", 1000.0, 1)], now) == 0.0
        for _ in range(509):
            assert s.rate_limits.acquire([hot], now) == 0.0
    assert set(_rate_rows(store)) == {"old", "hot", "future"}  # 511 acquires: not yet
    with store.write() as s:
        assert s.rate_limits.acquire([hot], now) == 0.0
    rows = _rate_rows(store)
    assert set(rows) == {"hot", "future"}
    assert rows["future"] == pytest.approx(now + 1000.0)
    assert rows["hot"] == pytest.approx(now + 510 * 0.001)
    with store.read() as s:
        assert s.rate_limits.peek([stale], now) == 0.0
