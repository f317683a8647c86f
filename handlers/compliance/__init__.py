"""Handlers for specs/compliance.yaml."""
