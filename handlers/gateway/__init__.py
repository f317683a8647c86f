"""Handlers for specs/gateway.yaml: what concerns the whole server."""
