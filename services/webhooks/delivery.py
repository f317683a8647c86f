"""Deliveries: the `webhooks.deliver` job makes one attempt of one delivery, then records it and,
when it failed, schedules the next (a new job, due when the retry schedule says).

The schedule (CHARTER_WEBHOOK_RETRY_SCHEDULE, comma-separated seconds; n entries, n attempts, the
first the delay before the first attempt) is stretched by a jitter of ±10 %, and a Retry-After
longer than the next delay wins. Only a 2xx succeeds. A 410 disables the endpoint, and so does
failing for FAILING_DISABLES without a success; both are audit events
(`webhook_endpoint.disabled`). A delivery whose schedule is spent is dead. The job's args say
which attempt it is (`seq`: attempts recorded when it was enqueued), so a job run again after its
worker was lost mid-attempt sends again only when that attempt was never recorded: at least once,
always with the same `webhook-id` (the event's id).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Event
from charter.formats import format_date_time
from charter.jobs import Context, JobType
from services.webhooks import sender, signing
from services.webhooks.endpoints import DEFAULT_SCHEDULE, Webhooks
from store.interface import Session, Store
from store.models import DELIVER, WebhookDelivery, WebhookEndpoint, new_job, utcnow

JITTER = 0.1
FAILING_DISABLES = timedelta(days=5)
RETRY_AFTER_CAP_S = 86400.0


def schedule_from_env(env: Mapping[str, str]) -> tuple[float, ...]:
    text = env.get("CHARTER_WEBHOOK_RETRY_SCHEDULE", "").strip()
    if not text:
        return DEFAULT_SCHEDULE
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"CHARTER_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, not {text!r}") from None
    if not values or any(v < 0 or v != v or v == float("inf") for v in values):
        raise ValueError(f"CHARTER_WEBHOOK_RETRY_SCHEDULE must be seconds of zero or more, not {text!r}")
    return values


def jittered(delay: float) -> float:
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


def _job(delivery: WebhookDelivery, seq: int, run_at: datetime, key: str | None = None):
    args = {"delivery_id": str(delivery.id), "seq": seq}
    return new_job(DELIVER, args, key=key or f"{delivery.id}:{seq}", run_at=run_at, tenant_id=delivery.tenant_id)


def _standing_changes(endpoint: WebhookEndpoint, at: datetime) -> bool:
    """Whether a success at `at` changes what the endpoint's health shows (kept to the second)."""
    last = endpoint.last_success_at
    return endpoint.failing_since is not None or last is None or at - last >= timedelta(seconds=1)


def _disable(s: Session, actor: Actor, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    s.webhook_endpoints.save(replace(endpoint, disabled=True, updated_at=now))
    s.record(
        Event(
            "webhook_endpoint.disabled",
            actor,
            "webhook_endpoint",
            str(endpoint.id),
            tenant_id=endpoint.tenant_id,
            target_name=endpoint.url,
            metadata={"reason": reason},
        )
    )


Finish = Callable[[Session], object]  # run last in the write that records an attempt (the job's end)


def _finish_nothing(s: Session) -> None:
    pass


def attempt(
    uow: Store, hooks: Webhooks, actor: Actor, delivery_id: UUID, seq: int, finish: Finish | None = None
) -> str:
    """Make attempt `seq` of a delivery; what came of it (for logs and tests). `finish` is called
    in the write that records the attempt (or schedules it), last: the job completes there."""
    finish = finish or _finish_nothing
    with uow.read() as s:
        found = s.webhook_deliveries.with_parts(delivery_id)
    if found is None:
        return "gone"
    delivery, endpoint, event = found
    if len(delivery.attempts) > seq or delivery.status in ("delivered", "dead"):
        return "done already"  # this attempt was made (its worker was lost before the job ended)
    now = utcnow()
    if delivery.tries == 0 and not delivery.attempts and hooks.schedule[0] > 0:
        first = delivery.created_at + timedelta(seconds=hooks.schedule[0])
        if first > now:  # the schedule's first delay: a job for then
            with uow.write() as s:
                s.jobs.enqueue(_job(delivery, seq, first, key=f"{delivery.id}:{seq}:first"))
                finish(s)
            return "later"
    if endpoint.disabled:
        return "endpoint disabled"
    secrets = [hooks.secret_of(endpoint)]
    previous = hooks.previous_secret_of(endpoint, now)
    if previous:
        secrets.append(previous)
    body = event.body.encode()
    headers = signing.headers(secrets, str(event.id), int(time.time()), body)
    outcome = sender.send(endpoint.url, body, headers, allow_private=hooks.allow_private, resolver=hooks.resolver)
    return _record(uow, hooks, actor, delivery, endpoint, seq, outcome, now, finish)


def _entry(outcome: sender.Outcome, at: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": format_date_time(at), "duration_ms": outcome.duration_ms}
    if outcome.status_code is not None:
        entry["status_code"] = outcome.status_code
    if outcome.error:
        entry["error"] = outcome.error
    return entry


def _record(
    uow: Store,
    hooks: Webhooks,
    actor: Actor,
    read: WebhookDelivery,
    endpoint: WebhookEndpoint,
    seq: int,
    outcome: sender.Outcome,
    at: datetime,
    finish: Finish,
) -> str:
    """Record the attempt in one write. A success whose endpoint's standing does not change (the
    common case) is a single conditional UPDATE of the delivery, good only while the delivery is
    as it was read before sending (its updated_at unchanged); otherwise (a failure, a replay or
    another worker in between) the delivery is read again under its lock and judged afresh."""
    entry = _entry(outcome, at)
    now = utcnow()
    with uow.write() as s:
        if outcome.ok and not _standing_changes(endpoint, at):
            fast = replace(
                read,
                attempts=[*read.attempts, entry],
                tries=read.tries + 1,
                updated_at=now,
                status="delivered",
                next_attempt_at=None,
            )
            if s.webhook_deliveries.save(fast, unchanged_since=read.updated_at):
                finish(s)
                return "delivered"
        what = _record_locked(s, hooks, actor, read.id, seq, outcome, entry, at, now)
        finish(s)
    return what


def _record_locked(
    s: Session,
    hooks: Webhooks,
    actor: Actor,
    delivery_id: UUID,
    seq: int,
    outcome: sender.Outcome,
    entry: dict[str, Any],
    at: datetime,
    now: datetime,
) -> str:
    delivery = s.webhook_deliveries.get(delivery_id, for_update=True)
    if delivery is None:
        return "gone"
    if len(delivery.attempts) > seq:
        return "done already"
    endpoint = s.webhook_endpoints.get(delivery.endpoint_id)
    tries = delivery.tries + 1
    delivery = replace(delivery, attempts=[*delivery.attempts, entry], tries=tries, updated_at=now)
    if outcome.ok:
        delivery = replace(delivery, status="delivered", next_attempt_at=None)
        if endpoint is not None and _standing_changes(endpoint, at):
            # the endpoint's row is written (and locked) only when its standing changes, so
            # deliveries to one endpoint do not queue up behind each other
            endpoint = s.webhook_endpoints.get(endpoint.id, for_update=True) or endpoint
            s.webhook_endpoints.save(replace(endpoint, failing_since=None, last_success_at=at))
        what = "delivered"
    else:
        gone = outcome.status_code == 410
        spent = tries >= len(hooks.schedule) or gone
        if spent:
            delivery = replace(delivery, status="dead", next_attempt_at=None)
            what = "dead"
        else:
            delay = jittered(hooks.schedule[tries])
            if outcome.retry_after_s is not None:
                delay = max(delay, min(outcome.retry_after_s, RETRY_AFTER_CAP_S))
            due = now + timedelta(seconds=delay)
            delivery = replace(delivery, status="failed", next_attempt_at=due)
            s.jobs.enqueue(_job(delivery, seq + 1, due))
            what = "failed"
        if endpoint is not None:
            endpoint = s.webhook_endpoints.get(endpoint.id, for_update=True)
        if endpoint is not None and not endpoint.disabled:
            failing = endpoint.failing_since or at
            if endpoint.failing_since is None:
                endpoint = replace(endpoint, failing_since=failing)
                s.webhook_endpoints.save(endpoint)
            if gone:
                _disable(s, actor, endpoint, "gone", now)
            elif now - failing >= FAILING_DISABLES:
                _disable(s, actor, endpoint, "failing", now)
    s.webhook_deliveries.save(delivery)
    return what


def run(context: Context) -> None:
    hooks = context.services.get(Webhooks)
    attempt(
        context.services.store,
        hooks,
        context.actor,
        UUID(context.args["delivery_id"]),
        int(context.args.get("seq", 0)),
        context.complete_in,
    )


JOBS = (JobType(DELIVER, run, max_attempts=5),)


def replay(s: Session, delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """Send a delivery again, now, as a new attempt of the same message (the same webhook-id); a
    replay starts the retry schedule over."""
    seq = len(delivery.attempts)
    replayed = replace(delivery, status="pending", tries=0, next_attempt_at=now, updated_at=now)
    s.webhook_deliveries.save(replayed)
    s.jobs.enqueue(_job(replayed, seq, now, key=f"{delivery.id}:{seq}:replay:{uuid4()}"))
    return replayed
