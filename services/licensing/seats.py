"""Seats: machines on licenses, each known by its fingerprint's SHA-256 only.

A license's row is locked before its seats are counted, so activations racing for the last seat
have one winner. A single-seat license is bound to the first fingerprint that takes its seat
(trust on first use); freeing that seat unbinds it. A policy's heartbeat window makes a seat
lapse when its machine is silent that long: the `licensing.expire_seats` job frees it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from auth.ratelimit import Limits
from charter.domain import Actor, Event, NotFound
from charter.jobs import Context, JobType, Periodic
from services.licensing import shapes, tenancy
from services.licensing.issuer import Issuer, KeyRefused, fingerprint_hash
from store.interface import Session, Store
from store.models import License, Machine, utcnow

TOUCH_EVERY = timedelta(seconds=30)  # a validate refreshes last_seen_at at most this often
EXPIRE_KIND = "licensing.expire_seats"
EXPIRE_EVERY_S = 60
BATCH = 200


def _lapse(lic: License, now: datetime) -> datetime | None:
    return now + timedelta(seconds=lic.heartbeat_window_seconds) if lic.heartbeat_window_seconds else None


def _record(s: Session, actor: Actor, action: str, machine: Machine, **metadata: object) -> None:
    s.record(
        Event(
            action,
            actor,
            "machine",
            str(machine.id),
            tenant_id=machine.tenant_id,
            metadata={"license_id": str(machine.license_id), **metadata},
            data=shapes.machine(machine),
        )
    )


def touch(s: Session, lic: License, machine: Machine, now: datetime, *, always: bool = False) -> Machine:
    if always or now - machine.last_seen_at >= TOUCH_EVERY:
        machine = replace(machine, last_seen_at=now, seat_expires_at=_lapse(lic, now))
        s.machines.save(machine)
    return machine


def take(
    s: Session, actor: Actor, lic: License, fp_hash: str, hostname: str | None, platform: str | None, now: datetime
) -> tuple[Machine | None, str | None, int]:
    """(the machine, None, seats taken) when the fingerprint holds or takes a seat, else (None,
    the reason, seats taken). The caller holds the license row locked."""
    existing = s.machines.by_fingerprint(lic.id, fp_hash)
    if existing is not None and existing.deactivated_at is None:
        return touch(s, lic, existing, now), None, s.machines.count_active(lic.id)
    if lic.max_machines == 1 and lic.fingerprint_hash not in (None, fp_hash):
        return None, "fingerprint_mismatch", s.machines.count_active(lic.id)
    taken = s.machines.count_active(lic.id)
    if lic.max_machines and taken >= lic.max_machines:
        return None, ("fingerprint_mismatch" if lic.max_machines == 1 else "too_many_machines"), taken
    fields: dict[str, Any] = dict(
        activated_at=now,
        last_seen_at=now,
        seat_expires_at=_lapse(lic, now),
        hostname=hostname,
        platform=platform,
        deactivated_at=None,
        deactivation_reason=None,
    )
    if existing is not None:
        machine = replace(existing, **fields)
        s.machines.save(machine)
    else:
        machine = Machine(id=uuid4(), tenant_id=lic.tenant_id, license_id=lic.id, fingerprint_hash=fp_hash, **fields)
        s.machines.add(machine)
    if lic.max_machines == 1 and lic.fingerprint_hash is None:
        s.licenses.save(replace(lic, fingerprint_hash=fp_hash, updated_at=now))
    _record(s, actor, "machine.activated", machine)
    return machine, None, taken + 1


def free(s: Session, actor: Actor, machine: Machine, reason: str, now: datetime) -> Machine:
    """Deactivate an active machine (and unbind a single-seat license bound to it)."""
    machine = replace(machine, deactivated_at=now, deactivation_reason=reason)
    s.machines.save(machine)
    lic = s.licenses.get(machine.license_id)
    if lic is not None and lic.fingerprint_hash == machine.fingerprint_hash:
        s.licenses.save(replace(lic, fingerprint_hash=None, updated_at=now))
    _record(s, actor, "machine.deactivated", machine, reason=reason)
    return machine


def _answer(
    ok: bool, lic: License | None, count: int, reason: str | None = None, machine: Machine | None = None
) -> dict:
    out: dict = {"ok": ok, "active_count": count, "max_machines": lic.max_machines if lic else 0}
    if reason:
        out["reason"] = reason
    if machine is not None:
        out["machine_id"] = str(machine.id)
    return out


def _licensed(s: Session, issuer: Issuer, slug: str, key: str) -> License:
    tenant = tenancy.served(s, slug)
    return issuer.honoured(s, tenant.id, key)[0]


def machine_call(
    uow: Store,
    actor: Actor,
    issuer: Issuer,
    slug: str,
    verb: str,
    *,
    key: str,
    fingerprint: str,
    hostname: str | None = None,
    platform: str | None = None,
    reason: str | None = None,
    limits: Limits | None = None,
) -> dict:
    """activate, heartbeat or deactivate: always an answer with `ok` (and a `reason` when not).
    A license's heartbeats past `heartbeat.license` (auth.ratelimit) answer `rate_limited`."""
    fp_hash, now = fingerprint_hash(fingerprint), utcnow()
    with uow.write() as s:
        try:
            lic = _licensed(s, issuer, slug, key)
        except KeyRefused as refused:
            return _answer(False, refused.license, 0, refused.reason)
        lic = s.licenses.get(lic.id, for_update=True) or lic
        machine = s.machines.by_fingerprint(lic.id, fp_hash)
        held = machine is not None and machine.deactivated_at is None
        if verb == "activate":
            if lic.status != "active":
                return _answer(False, lic, 0, lic.status)
            if lic.expires_at is not None and now >= lic.expires_at + timedelta(seconds=lic.grace_seconds):
                return _answer(False, lic, 0, "expired")
            taken, why, count = take(s, actor, lic, fp_hash, hostname, platform, now)
            return _answer(taken is not None, lic, count, why, taken)
        count = s.machines.count_active(lic.id)
        if not held or machine is None:
            return _answer(False, lic, count, "not_activated" if verb == "heartbeat" else "not_found")
        if verb == "heartbeat":
            if limits is not None and not limits.fits_here("heartbeat", license=str(lic.id)):
                return _answer(False, lic, count, "rate_limited")
            return _answer(True, lic, count, machine=touch(s, lic, machine, now, always=True))
        machine = free(s, actor, machine, reason or "client_requested", now)
        return _answer(True, lic, count - 1, machine=machine)


def list_machines(uow: Store, actor: Actor, slug: str, license_id: UUID | None, active: bool | None) -> list[Machine]:
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        found = s.machines.list(tenant.id, license_id=license_id, active_only=bool(active))
    if active is False:
        found = [m for m in found if m.deactivated_at is not None]
    return found


def force_deactivate(uow: Store, actor: Actor, slug: str, machine_id: UUID) -> Machine:
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        machine = s.machines.get(machine_id)
        if machine is None or machine.tenant_id != tenant.id:
            raise NotFound(f"no machine {machine_id}", "machine_not_found")
        s.licenses.get(machine.license_id, for_update=True)
        machine = s.machines.get(machine_id) or machine
        if machine.deactivated_at is not None:
            return machine
        return free(s, actor, machine, "admin", utcnow())


def expire_seats(context: Context) -> None:
    """Free every seat whose machine stayed silent past its license's heartbeat window."""
    store, done = context.services.store, 0
    while True:
        with store.write() as s:
            now = utcnow()
            silent = s.machines.silent(now, BATCH)
            for machine in silent:
                s.licenses.get(machine.license_id, for_update=True)
                current = s.machines.get(machine.id)
                if current is not None and current.deactivated_at is None and current.seat_expires_at is not None:
                    if current.seat_expires_at < now:
                        free(s, context.actor, current, "heartbeat_expired", now)
        done += len(silent)
        context.progress(done)
        if len(silent) < BATCH:
            return


JOBS = (JobType(EXPIRE_KIND, expire_seats, max_attempts=3),)
PERIODIC = (Periodic(EXPIRE_KIND, EXPIRE_EVERY_S),)
