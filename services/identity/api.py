"""Identity, as it registers itself: specs/identity.yaml and handlers.identity. What it keeps per
process (tokens, keys, limits: auth.context.Auth) the composition root builds, as the security
layer needs it whichever APIs are mounted."""

from __future__ import annotations

from auth.context import Auth
from charter import runtime
from charter.api import Api, Permissions

API = Api(
    name="identity",
    handlers="handlers.identity",
    permissions=Permissions(platform=frozenset({"support:session"})),
)


def auth() -> Auth:
    """This app's auth.context.Auth (tokens, keys, limits), for the handlers of any API."""
    return runtime.services().get(Auth)
