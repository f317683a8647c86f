"""The gateway, as it registers itself: mounted whatever CHARTER_SPECS names, for its probes."""

from __future__ import annotations

from charter.api import Api

API = Api(name="gateway", handlers="handlers.gateway", always=True)
