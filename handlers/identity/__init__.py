"""Handlers for specs/identity.yaml: sessions, service-account tokens, the principal, the JWKS."""
