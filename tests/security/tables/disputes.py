"""The disputes API's operations (specs/disputes.yaml): dispute cases and arbitration packages.

Pending: every operation names a case (`{case_id}`), which the BOLA probe has no placeholder for
yet, and needs tenant B to hold the `compliance` entitlement and a rate-limit budget for
arbitration packages that the probe and the role matrix do not set up. Meanwhile the 401 sweep
covers every operation, and tests/disputes/test_cases.py probes tenant A's tenant_admin against
B's case ids on every route (404 `case_not_found`, like a never-issued id, nothing written in B),
the entitlement (403 `entitlement_required` on every route) and the member/admin split.
"""

from __future__ import annotations

from tests.security.rows import Row

PENDING = (
    "every operation names a {case_id}, for which the probe has no placeholder, and B needs the "
    "compliance entitlement; tests/disputes/test_cases.py probes cross-tenant ids and roles meanwhile"
)
ROWS: dict[str, Row] = {}
