"""The JSON Web Key Set that verifies access tokens."""

from __future__ import annotations

from services.identity.api import auth


def jwks() -> dict:
    return {"keys": auth().tokens.keyring.published()}
