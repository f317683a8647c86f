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
    upgrade_page: str = ""  # CHARTER_LICENSING_UPGRADE_URL: where a capped tenant asks for more

    @property
    def upgrade_url(self) -> str:
        """Where a tier cap sends the tenant: the configured page, else the platform's catalog."""
        return self.upgrade_page or f"{self.public_url.rstrip('/')}/v1/catalog"

    def url(self, slug: str, path: str) -> str:
        return f"{self.public_url.rstrip('/')}/licensing/{slug}{path}"
