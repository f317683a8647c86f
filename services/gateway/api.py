"""The gateway, as it registers itself: mounted whatever CHARTER_SPECS names, for its probes, and
for the platform's housekeeping job."""

from __future__ import annotations

from charter.api import Api
from services.gateway import housekeeping

API = Api(
    name="gateway",
    handlers="handlers.gateway",
    always=True,
    jobs=housekeeping.JOBS,
    periodic=housekeeping.PERIODIC,
)
