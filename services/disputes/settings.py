"""What the dispute services need besides a store and an actor."""

from __future__ import annotations

from dataclasses import dataclass

from auth.ratelimit import Limits
from services.compliance.signer import Signer


@dataclass(frozen=True)
class Disputes:
    limits: Limits  # the server's rate limits (arbitration.tenant)
    signer: Signer  # the platform key that signs checkpoints, and so arbitration packages
