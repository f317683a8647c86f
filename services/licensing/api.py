"""Licensing, as it registers itself: specs/licensing.yaml, handlers.licensing, its settings and jobs."""

from __future__ import annotations

from datetime import timedelta

from auth.context import Auth
from charter.api import Api, Permissions
from charter.config import seconds
from charter.runtime import Services
from charter.sealing import Sealer
from services.licensing import purchases, seats, subscriptions
from services.licensing.issuer import Issuer
from services.licensing.settings import Licensing

AREAS = ("products", "policies", "licenses", "machines", "codes", "invoices", "subscriptions")


def build(services: Services) -> list[object]:
    """CHARTER_PUBLIC_URL (the start of absolute URLs the answers give, such as a purchase's
    poll_url; http://127.0.0.1:8080 by default) and CHARTER_LICENSING_INVOICE_TTL_S (how long an
    invoice may stay unpaid; 3600 by default) and CHARTER_LICENSING_UPGRADE_URL (where a tier cap's
    402 sends the tenant; the platform's /v1/catalog by default)."""
    env = services.settings.env
    config = Licensing(
        Issuer(services.get(Sealer)),
        services.get(Auth).limits,
        public_url=env.get("CHARTER_PUBLIC_URL", "").strip() or Licensing.public_url,
        invoice_ttl=timedelta(seconds=seconds(env, "CHARTER_LICENSING_INVOICE_TTL_S", 3600)),
        upgrade_page=env.get("CHARTER_LICENSING_UPGRADE_URL", "").strip(),
    )
    return [config]


API = Api(
    name="licensing",
    handlers="handlers.licensing",
    permissions=Permissions(
        read=frozenset(f"{area}:read" for area in AREAS), write=frozenset(f"{area}:write" for area in AREAS)
    ),
    build=build,
    jobs=(*seats.JOBS, *purchases.JOBS, *subscriptions.JOBS),
    periodic=(*seats.PERIODIC, *purchases.PERIODIC, *subscriptions.PERIODIC),
)
