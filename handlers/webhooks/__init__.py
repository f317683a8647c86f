"""Handlers for specs/webhooks.yaml: webhook endpoints and the event catalog."""
