"""What the licensing services need besides a store and an actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from auth.ratelimit import Limits
from services.licensing.issuer import Issuer


@dataclass(frozen=True)
class Licensing:
    issuer: Issuer
    limits: Limits  # the server's rate limits (recover.ip)
    public_url: str = "http://127.0.0.1:8080"  # CHARTER_PUBLIC_URL: what absolute URLs start with
    invoice_ttl: timedelta = timedelta(hours=1)  # CHARTER_LICENSING_INVOICE_TTL_S

    def url(self, slug: str, path: str) -> str:
        return f"{self.public_url.rstrip('/')}/licensing/{slug}{path}"
