"""Every API this server knows: one line each, naming the module whose `API` registers it.

Adding an API adds its line here. Whether it is mounted is CHARTER_SPECS' to say (every one when
unset); the permissions of every API are known whichever are mounted.
"""

from __future__ import annotations

import importlib

from auth import roles
from charter.api import Api

REGISTERED = (
    "services.compliance.api",
    "services.disputes.api",
    "services.gateway.api",
    "services.identity.api",
    "services.licensing.api",
    "services.registry.api",
    "services.webhooks.api",
)

APIS: tuple[Api, ...] = tuple(importlib.import_module(module).API for module in REGISTERED)

roles.define(api.permissions for api in APIS)
