"""The licensing API's operations (specs/licensing.yaml): table not written yet.

Its public paths are tenant-scoped by the path's {tenant_slug} with no credential, and its admin
paths by the caller's tenant; the probe and the matrix need fresh licensing objects of B (license,
machine, invoice) to reach them. Until then: tests/licensing/test_cross_tenant.py probes every
admin route with another tenant's admin, B's real ids and well-formed bodies (404 each, nothing
changed; it fails when an admin route is missing from its table), tests/licensing/test_admin.py
checks that roles and scoped keys grant what they should,
tests/licensing/test_keysat_client.py that another tenant's keys fail `bad_signature`, and the
401 sweep covers every protected licensing operation.
"""

from __future__ import annotations

from tests.security.rows import Row

PENDING = "the BOLA probe and role matrix rows are not written yet (see this module's docstring)"
ROWS: dict[str, Row] = {}
