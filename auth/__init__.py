"""Credentials: API keys and passwords (argon2id), and later tokens, roles and scopes."""
