"""Compliance: every tenant's verifiable audit log (RFC 6962), its signed checkpoints, proofs,
verification and offline verifier packs."""
