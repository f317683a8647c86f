"""Handlers for specs/disputes.yaml."""
