"""Kept answers and exclusive request transactions, the same on every store (Store.exclusive)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.errors import Busy
from tests.store.helpers import holding


class Boom(Exception):
    pass


def test_a_kept_answer_reads_back_until_it_expires(store, make):
    answer = make.kept_answer("tenant-a")
    with store.write() as s:
        s.kept_answers.put(answer)
    with store.read() as s:
        assert s.kept_answers.get("tenant-a", answer.key_hash, answer.created_at) == answer
        assert s.kept_answers.get("tenant-b", answer.key_hash, answer.created_at) is None  # another scope
        assert s.kept_answers.get("tenant-a", answer.key_hash, answer.expires_at) is None  # expired


def test_an_expired_answer_is_replaced_and_a_live_one_is_not(store, make):
    old = make.kept_answer()
    later = old.expires_at + timedelta(seconds=1)
    new = make.kept_answer(key_hash=old.key_hash, created_at=later, expires_at=later + timedelta(hours=1))
    with store.write() as s:
        s.kept_answers.put(old)
    with store.write() as s:
        s.kept_answers.put(new)
    with store.read() as s:
        assert s.kept_answers.get(old.scope, old.key_hash, later) == new


def test_exclusive_commits_its_writes_and_the_writes_inside_it_together(store, make):
    answer = make.kept_answer()
    with store.exclusive(1) as s:
        with store.write() as inner:
            inner.tenants.add(make.tenant(slug="inside-exclusive"))
        with store.read() as reading:  # a read inside sees what the block wrote, before the commit
            assert reading.tenants.get_by_slug("inside-exclusive") is not None
        s.kept_answers.put(answer)
    with store.read() as s:
        assert s.tenants.get_by_slug("inside-exclusive") is not None
        assert s.kept_answers.get(answer.scope, answer.key_hash, answer.created_at) == answer


def test_an_exclusive_block_that_raises_keeps_nothing(store, make):
    answer = make.kept_answer()
    with pytest.raises(Boom):
        with store.exclusive(2) as s:
            with store.write() as inner:
                inner.tenants.add(make.tenant(slug="undone-exclusive"))
            s.kept_answers.put(answer)
            raise Boom()
    with store.read() as s:
        assert s.tenants.get_by_slug("undone-exclusive") is None
        assert s.kept_answers.get(answer.scope, answer.key_hash, answer.created_at) is None


def test_a_write_that_raises_inside_exclusive_undoes_only_itself(store, make):
    with store.exclusive(3):
        with store.write() as first:
            first.tenants.add(make.tenant(slug="first-stays"))
        with pytest.raises(Boom):
            with store.write() as second:
                second.tenants.add(make.tenant(slug="second-goes"))
                raise Boom()
    with store.read() as s:
        assert s.tenants.get_by_slug("first-stays") is not None
        assert s.tenants.get_by_slug("second-goes") is None


def test_a_held_lock_is_busy_for_another_request_and_free_after(store):
    seen = []
    with holding(store, 42):
        with pytest.raises(Busy):  # at once: it does not wait for the holder
            with store.exclusive(42):
                seen.append("entered")
        if getattr(store, "dialect", None) == "postgresql":  # elsewhere writers queue for one lock
            with store.exclusive(43):  # another key's lock is free
                seen.append("other")
    with store.exclusive(42):
        seen.append("free again")
    assert "entered" not in seen and seen[-1] == "free again"
