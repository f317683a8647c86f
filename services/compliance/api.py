"""Compliance, as it registers itself: specs/compliance.yaml, handlers.compliance, the checkpoint
signer (named by CHARTER_JWT_ISSUER), the checkpoints taken at least once every N events or T
seconds (the store enqueues the job that signs a log's checkpoint at each multiple of N,
CHARTER_CHECKPOINT_EVERY_EVENTS; a periodic job signs one of every log that grew since its last,
every CHARTER_CHECKPOINT_EVERY_S), and audit exports (their settings, the job that builds their
bundles, and the one that removes the bundles of deleted tenants)."""

from __future__ import annotations

from pathlib import Path

from auth.context import Auth
from charter.api import Api, Permissions
from charter.config import positive
from charter.jobs import Context, JobType, Periodic
from charter.runtime import Services
from charter.sealing import Sealer
from services.compliance import export_job, ledger, orphans
from services.compliance.exports import Exports
from services.compliance.signer import Signer
from store.ledger import CHECKPOINT

CHECKPOINTS = "compliance.checkpoints"
EVERY_S = 60
EVERY_EVENTS = 1000


def data_dir(database_url: str, configured: str | None) -> Path:
    """CHARTER_DATA_DIR, else `charter-data` beside the embedded database (else the working directory)."""
    if configured:
        return Path(configured)
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///").split("?", 1)[0]).parent / "charter-data"
    return Path.cwd() / "charter-data"


def build(services: Services) -> list[object]:
    """CHARTER_CHECKPOINT_EVERY_EVENTS (appends to a log between the checkpoints the store makes
    due, 1000), CHARTER_DATA_DIR (where bundles are written), CHARTER_EXPORT_TOKEN_TTL_S (a download
    token's life, at most 900 s), CHARTER_EXPORT_CONCURRENT (a tenant's exports queued or running
    at once, 2) and CHARTER_EXPORT_MAX_EVENTS (audit events in one bundle, 2,000,000)."""
    env = services.settings.env
    services.store.checkpoint_every = positive(env, "CHARTER_CHECKPOINT_EVERY_EVENTS", EVERY_EVENTS)
    signer = Signer(services.get(Sealer), env.get("CHARTER_JWT_ISSUER") or "charter")
    exports = Exports(
        services.get(Auth).tokens,
        signer,
        data_dir(services.settings.database_url, env.get("CHARTER_DATA_DIR")),
        token_ttl=min(positive(env, "CHARTER_EXPORT_TOKEN_TTL_S", 900), 900),
        concurrent=positive(env, "CHARTER_EXPORT_CONCURRENT", 2),
        max_events=positive(env, "CHARTER_EXPORT_MAX_EVENTS", 2_000_000),
    )
    return [signer, exports]


def sign_checkpoints(context: Context) -> None:
    """A checkpoint of every log whose size has none yet."""
    uow, signer = context.services.store, context.services.get(Signer)
    with uow.read() as s:
        grown = []
        for head in s.ledger.heads():
            latest = s.ledger.checkpoint(head.log_id)
            if latest is None or latest.size < head.size:
                grown.append(head.log_id)
    for log in grown:
        ledger.checkpoint(uow, signer, log)


def sign_due(context: Context) -> None:
    """The checkpoint the store made due: of log `log` at size `size` (store.ledger.checkpoint_due)."""
    ledger.checkpoint(context.services.store, context.services.get(Signer), context.args["log"], context.args["size"])


API = Api(
    name="compliance",
    handlers="handlers.compliance",
    permissions=Permissions(
        read=frozenset({"ledger:read", "audit_exports:read"}), write=frozenset({"audit_exports:write"})
    ),
    build=build,
    jobs=[JobType(CHECKPOINTS, sign_checkpoints), JobType(CHECKPOINT, sign_due), *export_job.JOBS, *orphans.JOBS],
    periodic=[Periodic(CHECKPOINTS, every_s=EVERY_S, setting="CHARTER_CHECKPOINT_EVERY_S"), *orphans.PERIODIC],
)
