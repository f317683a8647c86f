"""Who is calling and what it may do: API keys, passwords, tokens and signing keys, roles, the security gate, rate limits."""
