"""Disputes, as it registers itself: specs/disputes.yaml, handlers.disputes, and its settings
(the server's rate limits, and the compliance signer: the one compliance built, or one of the
same issuer when compliance is not mounted, which signs with the same stored key)."""

from __future__ import annotations

from auth.context import Auth
from charter.api import Api, Permissions
from charter.runtime import Services
from charter.sealing import Sealer
from services.compliance.signer import Signer
from services.disputes.settings import Disputes


def build(services: Services) -> list[object]:
    signer = services.components.get(Signer)
    if signer is None:
        signer = Signer(services.get(Sealer), services.settings.env.get("CHARTER_JWT_ISSUER") or "charter")
    return [Disputes(services.get(Auth).limits, signer)]


API = Api(
    name="disputes",
    handlers="handlers.disputes",
    permissions=Permissions(read=frozenset({"disputes:read"}), write=frozenset({"disputes:write"})),
    build=build,
)
