"""Handlers for specs/registry.yaml, the tenant registry."""
