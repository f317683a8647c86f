"""Disputes: each tenant's dispute cases (status and stage, assignment, evidence references,
append-only notes, resolution, links to licensing objects) and their signed arbitration packages."""
