"""Compliance, as it registers itself: specs/compliance.yaml, handlers.compliance, the checkpoint
signer (named by CHARTER_JWT_ISSUER), and the periodic job that signs a checkpoint of every log
that grew since its last one, once a minute."""

from __future__ import annotations

from charter.api import Api, Permissions
from charter.jobs import Context, JobType, Periodic
from charter.runtime import Services
from charter.sealing import Sealer
from services.compliance import ledger
from services.compliance.signer import Signer

CHECKPOINTS = "compliance.checkpoints"
EVERY_S = 60


def build(services: Services) -> list[object]:
    issuer = services.settings.env.get("CHARTER_JWT_ISSUER") or "charter"
    return [Signer(services.get(Sealer), issuer)]


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


API = Api(
    name="compliance",
    handlers="handlers.compliance",
    permissions=Permissions(read=frozenset({"ledger:read"})),
    build=build,
    jobs=[JobType(CHECKPOINTS, sign_checkpoints)],
    periodic=[Periodic(CHECKPOINTS, every_s=EVERY_S)],
)
