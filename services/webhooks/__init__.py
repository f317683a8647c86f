"""Webhooks: a tenant's endpoints and their signing secrets, the egress guard, the event catalog."""
