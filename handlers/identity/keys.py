"""The JSON Web Key Set that verifies access tokens."""

from charter import runtime


def jwks():
    return {"keys": runtime.services().tokens.keyring.published()}
