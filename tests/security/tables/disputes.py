"""The disputes API's operations (specs/disputes.yaml): dispute cases and arbitration packages.

Every operation is tenant-scoped and takes no tenant id of its own: a caller bound to B works B's
cases, a platform caller narrows itself with x-tenant-id (the matrix sends B's with every call;
naming none answers 404 `tenant_not_found`, so no platform pass runs without it). Both A and B
hold the `compliance` entitlement (tests/security/test_bola.py's setup, the matrix's B). Service
tokens here hold registry scopes only, so they are refused.

The body's other ids (an assignee, a linked license or invoice) name users and licensing objects,
which the probe has no objects of A for: tests/disputes/test_cases.py checks that another
tenant's user answers 404 `user_not_found` and another tenant's license 404 `license_not_found`.
"""

from __future__ import annotations

from tests.security.rows import (
    PEOPLE_READERS,
    PEOPLE_WRITERS,
    Access,
    Call,
    Route,
    Row,
    Scoped,
)
from tests.security.tables import licensing

DISPUTE_READERS = PEOPLE_READERS
DISPUTE_WRITERS = PEOPLE_WRITERS
CASES = "/v1/disputes/cases"
CASE = CASES + "/{case_id}"
# B's case is resolved by its control, and the write controls after it find it closed: that they
# reach the case is what `case_closed` proves.
CLOSED = frozenset({"case_closed"})
CREATE = {"subject_type": "payment", "subject_id": "probe"}
EVIDENCE = {"kind": "receipt", "sha256": "0" * 64, "size": 1, "media_type": "application/pdf"}
ASSIGNEE = {"body:assignee_id": "a user id (null here): another tenant's user is 404 user_not_found, tested apart"}
# B's control reaches the case and then finds no such invoice: the case is looked up first
NO_INVOICE = {"kind": "invoice", "id": "00000000-0000-4000-8000-000000000000"}
LINKED = {"body:id": "a license or invoice id: another tenant's is 404 license_not_found, tested apart"}


def _case_call(method: str, suffix: str = "", json: dict | None = None):
    return lambda x: Call(method, f"{CASES}/{x.fresh_b_case()}{suffix}", json=json, headers=x.in_b)


def _write(suffix: str, json: dict, writes: str | None, waived: dict | None = None, status: int = 200) -> Row:
    return Row(
        Scoped(Route("POST", CASE + suffix, json=json, reached=CLOSED, platform_via=None), waived=waived),
        Access(DISPUTE_WRITERS, status, _case_call("POST", suffix, json), writes=writes),
    )


def _link(x) -> Call:
    """A link to a license of B."""
    body = {"kind": "license", "id": licensing.fresh_license(x.client, x.b)["id"]}
    return Call("POST", f"{CASES}/{x.fresh_b_case()}/link", json=body, headers=x.in_b)


ROWS: dict[str, Row] = {
    "handlers.disputes.cases.create": Row(
        Scoped(Route("POST", CASES, json=CREATE, platform_via=None)),
        Access(
            DISPUTE_WRITERS,
            201,
            lambda x: Call("POST", CASES, json=CREATE, headers=x.in_b),
            writes="dispute_case.created",
        ),
    ),
    "handlers.disputes.cases.list_cases": Row(
        Scoped(Route("GET", CASES, platform_via=None)),
        Access(DISPUTE_READERS, 200, lambda x: Call("GET", CASES, headers=x.in_b)),
    ),
    "handlers.disputes.cases.get": Row(
        Scoped(Route("GET", CASE, platform_via=None)),
        Access(DISPUTE_READERS, 200, _case_call("GET")),
    ),
    "handlers.disputes.arbitration.export": Row(
        Scoped(Route("GET", CASE + "/export/arbitration", platform_via=None)),
        Access(
            DISPUTE_READERS, 200, _case_call("GET", "/export/arbitration"), writes="dispute_case.arbitration_exported"
        ),
    ),
    "handlers.disputes.cases.transition": _write("/transition", {"stage": "chargeback"}, "dispute_case.status_changed"),
    "handlers.disputes.cases.assign": _write("/assign", {"assignee_id": None}, None, ASSIGNEE),
    "handlers.disputes.evidence.add_evidence": _write("/evidence", EVIDENCE, "dispute_case.evidence_added", status=201),
    "handlers.disputes.evidence.add_note": _write("/notes", {"body": "probe"}, "dispute_case.note_added", status=201),
    "handlers.disputes.cases.link": Row(
        Scoped(
            Route("POST", CASE + "/link", json=NO_INVOICE, reached=CLOSED | {"invoice_not_found"}, platform_via=None),
            waived=LINKED,
        ),
        Access(DISPUTE_WRITERS, 200, _link, writes="dispute_case.linked"),
    ),
    "handlers.disputes.cases.resolve": Row(
        Scoped(
            Route(
                "POST",
                CASE + "/resolve",
                json={"outcome": "withdrawn", "rationale": "probe"},
                reached=CLOSED,
                platform_via=None,
            )
        ),
        Access(
            DISPUTE_WRITERS,
            200,
            _case_call("POST", "/resolve", {"outcome": "withdrawn", "rationale": "matrix"}),
            writes="dispute_case.resolved",
            last=True,
        ),
    ),
}
