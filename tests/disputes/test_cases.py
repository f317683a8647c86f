"""Dispute cases through the real app, on every store (every answer checked against the served
document): the lifecycle end to end, its rules and codes, tenancy, the entitlement, and the audit
and webhook events every change leaves."""

from __future__ import annotations

import json
import uuid
from uuid import UUID

from openapi_schema_validator import OAS30Validator

from services.webhooks.catalog import EventCatalog
from tests.disputes.helpers import (
    CASES,
    admin_of,
    compliant_tenant,
    digest,
    evidence_body,
    grant,
    headers,
    in_,
    open_case,
)
from tests.helpers import assert_error, audit, bearer, create_tenant
from tests.identity.helpers import add_user, session
from tests.licensing.helpers import issue, licensed_tenant, product

EVENTS = (
    "dispute_case.created",
    "dispute_case.status_changed",
    "dispute_case.assigned",
    "dispute_case.evidence_added",
    "dispute_case.note_added",
    "dispute_case.resolved",
    "dispute_case.linked",
)


def _post(client, case: dict, what: str, body: dict, who: dict):
    return client.post(f"{CASES}/{case['id']}/{what}", json=body, headers=headers(who))


def test_the_lifecycle_end_to_end(client, store):
    tenant = grant(client, licensed_tenant(client))
    product(client, tenant)
    lic = issue(client, tenant)
    hook = client.post("/v1/webhooks/endpoints", json={"url": "https://hooks.example.com/in"}, headers=in_(tenant))
    assert hook.status_code == 201, hook.text
    admin = admin_of(client, store, tenant)
    member = session(client, store, ["tenant_member"], tenant["id"])

    r = client.post(
        CASES,
        json={"subject_type": "payment", "subject_id": "pay_1", "amount": 4200, "currency": "EUR", "reason": "fraud"},
        headers=headers(admin),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["status"], case["stage"], case["tenant_id"]) == ("open", "inquiry", tenant["id"])
    assert case["links"] == [] and case["assignee_id"] is None and case["outcome"] is None

    # needs_response needs a due_by
    assert_error(_post(client, case, "transition", {"status": "needs_response"}, admin), 400, "due_by_required")
    due = "2030-01-31T12:00:00Z"
    r = _post(client, case, "transition", {"status": "needs_response", "stage": "chargeback", "due_by": due}, admin)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["stage"], r.json()["due_by"]) == ("needs_response", "chargeback", due)

    r = _post(client, case, "assign", {"assignee_id": member["user_id"]}, admin)
    assert r.status_code == 200 and r.json()["assignee_id"] == member["user_id"], r.text
    r = _post(client, case, "evidence", evidence_body(label="receipt.pdf"), admin)
    assert r.status_code == 201, r.text
    evidence = r.json()
    assert evidence["sha256"] == digest(b"the signed receipt") and evidence["case_id"] == case["id"]
    r = _post(client, case, "notes", {"body": "Customer says the card was stolen."}, admin)
    assert r.status_code == 201 and r.json()["author_kind"] == "user", r.text
    r = _post(client, case, "link", {"kind": "license", "id": lic["id"]}, admin)
    assert r.status_code == 200, r.text
    assert [(x["kind"], x["id"]) for x in r.json()["links"]] == [("license", lic["id"])]
    r = _post(client, case, "transition", {"status": "under_review", "stage": "pre_arbitration"}, admin)
    assert (r.json()["status"], r.json()["stage"]) == ("under_review", "pre_arbitration"), r.text
    r = _post(client, case, "resolve", {"outcome": "won", "rationale": "3-D Secure authenticated."}, admin)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["outcome"], done["rationale"]) == ("won", "won", "3-D Secure authenticated.")
    assert done["resolved_at"]

    # a member reads the detail, with the evidence references and the notes, and cannot change it
    r = client.get(f"{CASES}/{case['id']}", headers=bearer(member["access_token"]))
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["status"] == "won" and [e["id"] for e in detail["evidence"]] == [evidence["id"]]
    assert [n["body"] for n in detail["notes"]] == ["Customer says the card was stolen."]
    assert_error(
        client.post(CASES, json={"subject_type": "payment", "subject_id": "x"}, headers=bearer(member["access_token"])),
        403,
        "forbidden",
    )

    # every change: one audit event in the tenant, by the admin, and one webhook event with the case as data
    mine = [e for e in audit(client, tenant_id=tenant["id"]) if e["action"].startswith("dispute_case.")]
    assert sorted(e["action"] for e in mine) == sorted(
        [*EVENTS, "dispute_case.status_changed"]  # two moves
    )
    assert {e["actor_id"] for e in mine} == {admin["user_id"]}
    deliveries = client.get(f"/v1/webhooks/endpoints/{hook.json()['id']}/deliveries", headers=in_(tenant)).json()
    kinds = [d["event_type"] for d in deliveries["items"] if d["event_type"].startswith("dispute_case.")]
    assert sorted(kinds) == sorted([*EVENTS, "dispute_case.status_changed"])
    catalog = {t.type: t.payload for t in EventCatalog.load().types}
    with store.read() as s:
        bodies = [json.loads(s.webhook_events.get(UUID(d["event_id"])).body) for d in deliveries["items"]]
    for body in bodies:
        if body["type"].startswith("dispute_case."):
            OAS30Validator(catalog[body["type"]]).validate(body["data"])
            assert body["data"]["id"] == case["id"]
    resolved = next(b for b in bodies if b["type"] == "dispute_case.resolved")
    assert resolved["data"] == done


def test_the_event_types_are_in_the_catalog(client):
    tenant = compliant_tenant(client)
    listed = client.get("/v1/webhooks/event-types", headers=in_(tenant)).json()["items"]
    assert set(EVENTS) <= {t["type"] for t in listed}


def test_a_closed_case_refuses_every_change_with_409(client, store):
    tenant = compliant_tenant(client)
    case = open_case(client, tenant)
    admin = admin_of(client, store, tenant)
    # decided outcomes need a review first; expired is terminal and reached by a move
    assert_error(_post(client, case, "resolve", {"outcome": "won", "rationale": "x"}, admin), 409, "invalid_transition")
    review = _post(client, case, "transition", {"status": "under_review"}, admin)
    assert review.status_code == 200, review.text
    assert_error(_post(client, case, "transition", {"status": "expired"}, admin), 409, "invalid_transition")
    r = _post(client, case, "resolve", {"outcome": "accepted", "rationale": "Refunded instead."}, admin)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    for what, body in (
        ("transition", {"stage": "arbitration"}),
        ("transition", {"status": "needs_response", "due_by": "2030-01-01T00:00:00Z"}),
        ("assign", {"assignee_id": admin["user_id"]}),
        ("assign", {"assignee_id": None}),
        ("evidence", evidence_body()),
        ("notes", {"body": "too late"}),
        ("resolve", {"outcome": "withdrawn", "rationale": "again"}),
        ("link", {"kind": "invoice", "id": str(uuid.uuid4())}),
    ):
        assert_error(_post(client, case, what, body, admin), 409, "case_closed")
    expired = open_case(client, tenant)
    r = _post(client, expired, "transition", {"status": "expired"}, admin)
    assert r.status_code == 200 and r.json()["status"] == "expired" and r.json()["resolved_at"], r.text
    assert_error(_post(client, expired, "notes", {"body": "x"}, admin), 409, "case_closed")
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.resolved")) == 1


def test_assign_only_to_a_user_of_the_same_tenant(client, store):
    tenant, other = compliant_tenant(client), compliant_tenant(client)
    case = open_case(client, tenant)
    admin = admin_of(client, store, tenant)
    stranger = add_user(store, ["tenant_admin"], other["id"])
    platform = add_user(store, ["support"])
    for user_id in (str(stranger.id), str(platform.id), str(uuid.uuid4())):
        assert_error(_post(client, case, "assign", {"assignee_id": user_id}, admin), 404, "user_not_found")
    colleague = add_user(store, ["tenant_member"], tenant["id"])
    r = _post(client, case, "assign", {"assignee_id": str(colleague.id)}, admin)
    assert r.status_code == 200 and r.json()["assignee_id"] == str(colleague.id), r.text
    again = _post(client, case, "assign", {"assignee_id": str(colleague.id)}, admin)
    assert again.json() == r.json()  # no change, no event
    r = _post(client, case, "assign", {"assignee_id": None}, admin)
    assert r.status_code == 200 and r.json()["assignee_id"] is None, r.text
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.assigned")) == 2


def test_another_tenants_admin_gets_404_on_every_route(client, store):
    mine, theirs = compliant_tenant(client), compliant_tenant(client)
    case = open_case(client, theirs, subject_id="theirs-secret-payment")
    stranger = headers(admin_of(client, store, mine))
    path = f"{CASES}/{case['id']}"
    for method, url, body in (
        ("GET", path, None),
        ("GET", f"{path}/export/arbitration", None),
        ("POST", f"{path}/transition", {"stage": "chargeback"}),
        ("POST", f"{path}/assign", {"assignee_id": None}),
        ("POST", f"{path}/evidence", evidence_body()),
        ("POST", f"{path}/notes", {"body": "probe"}),
        ("POST", f"{path}/resolve", {"outcome": "withdrawn", "rationale": "probe"}),
        ("POST", f"{path}/link", {"kind": "invoice", "id": str(uuid.uuid4())}),
    ):
        r = client.request(method, url, json=body, headers=stranger)
        found = assert_error(r, 404, "case_not_found")
        ghost = client.request(method, url.replace(case["id"], str(uuid.uuid4())), json=body, headers=stranger)
        assert_error(ghost, 404, "case_not_found")
        assert "theirs-secret-payment" not in r.text and found["error"] == ghost.json()["error"]
    listed = client.get(CASES, params={"subject_id": "theirs-secret-payment"}, headers=stranger)
    assert listed.status_code == 200 and listed.json()["items"] == []
    # B's header with A's credential is refused before anything runs
    assert_error(client.get(path, headers={**stranger, **in_(theirs)}), 401, "tenant_mismatch")
    # and nothing changed in B's case, nothing was written in B's tenant
    assert client.get(path, headers=in_(theirs)).json() == {**case, "evidence": [], "notes": []}
    assert [e["action"] for e in audit(client, tenant_id=theirs["id"]) if e["action"].startswith("dispute")] == [
        "dispute_case.created"
    ]


def test_without_the_compliance_entitlement_every_route_is_403(client, store):
    bare = create_tenant(client)
    admin = headers(admin_of(client, store, bare))
    ghost = f"{CASES}/{uuid.uuid4()}"
    for method, url, body in (
        ("POST", CASES, {"subject_type": "payment", "subject_id": "p"}),
        ("GET", CASES, None),
        ("GET", ghost, None),
        ("GET", f"{ghost}/export/arbitration", None),
        ("POST", f"{ghost}/transition", {"stage": "chargeback"}),
        ("POST", f"{ghost}/assign", {"assignee_id": None}),
        ("POST", f"{ghost}/evidence", evidence_body()),
        ("POST", f"{ghost}/notes", {"body": "x"}),
        ("POST", f"{ghost}/resolve", {"outcome": "withdrawn", "rationale": "x"}),
        ("POST", f"{ghost}/link", {"kind": "license", "id": str(uuid.uuid4())}),
    ):
        assert_error(client.request(method, url, json=body, headers=admin), 403, "entitlement_required")
        assert_error(client.request(method, url, json=body, headers=in_(bare)), 403, "entitlement_required")
    # a platform caller names a tenant, or finds none
    assert_error(client.get(CASES), 404, "tenant_not_found")
    # once granted, the same calls work
    grant(client, bare)
    assert client.get(CASES, headers=admin).json() == {"items": []}


def test_evidence_digests_enter_the_tenants_verifiable_log(client, store):
    tenant = compliant_tenant(client)
    case = open_case(client, tenant)
    data = b"%PDF-1.7 shipping label"
    r = client.post(f"{CASES}/{case['id']}/evidence", json=evidence_body(data, kind="shipping"), headers=in_(tenant))
    assert r.status_code == 201, r.text
    [event] = audit(client, tenant_id=tenant["id"], action="dispute_case.evidence_added")
    recorded = event["metadata"]["evidence"]
    assert recorded == {
        "id": r.json()["id"],
        "kind": "shipping",
        "sha256": digest(data),
        "size": len(data),
        "media_type": "application/pdf",
    }
    # the log commits to it: an event of the verifier pack carries the digest, and the pack verifies
    pack = client.get("/v1/compliance/ledger/verifier-pack", headers=in_(tenant)).json()
    leaves = [e for e in pack["events"] if e["event"]["action"] == "dispute_case.evidence_added"]
    assert [leaf["event"]["metadata"]["evidence"]["sha256"] for leaf in leaves] == [digest(data)]
    checked = client.post("/v1/compliance/ledger/verifier-pack/verify", json=pack, headers=in_(tenant))
    assert checked.status_code == 200 and checked.json()["ok"] is True, checked.text
    # a note's event carries its body's digest
    client.post(f"{CASES}/{case['id']}/notes", json={"body": "Label photographed."}, headers=in_(tenant))
    [noted] = audit(client, tenant_id=tenant["id"], action="dispute_case.note_added")
    assert noted["metadata"]["note"]["sha256"] == digest(b"Label photographed.")


def test_list_filters_by_status_and_subject_and_pages(client):
    tenant, other = compliant_tenant(client), compliant_tenant(client)
    made = [open_case(client, tenant, subject_type="payment", subject_id=f"pay_{i}") for i in range(5)]
    invoice_case = open_case(client, tenant, subject_type="invoice", subject_id="inv_9")
    open_case(client, other, subject_id="pay_0")
    r = client.post(f"{CASES}/{made[0]['id']}/transition", json={"status": "under_review"}, headers=in_(tenant))
    assert r.status_code == 200, r.text

    def ids(**params) -> list[str]:
        r = client.get(CASES, params=params, headers=in_(tenant))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    newest_first = [invoice_case["id"], *[c["id"] for c in reversed(made)]]
    assert ids() == newest_first
    assert ids(status="under_review") == [made[0]["id"]]
    assert ids(status="open", subject_type="payment") == [c["id"] for c in reversed(made[1:])]
    assert ids(subject_type="payment", subject_id="pay_0") == [made[0]["id"]]
    assert ids(subject_type="invoice") == [invoice_case["id"]]
    assert ids(status="won") == []
    first = client.get(CASES, params={"limit": 4}, headers=in_(tenant)).json()
    assert [c["id"] for c in first["items"]] == newest_first[:4] and first["next_offset"] == 4
    rest = client.get(CASES, params={"limit": 4, "offset": 4}, headers=in_(tenant)).json()
    assert [c["id"] for c in rest["items"]] == newest_first[4:] and "next_offset" not in rest
    assert_error(client.get(CASES, params={"status": "lost-ish"}, headers=in_(tenant)), 400)
    assert_error(client.get(CASES, params={"limit": 0}, headers=in_(tenant)), 400)


def test_links_name_the_tenants_own_licenses_and_invoices(client):
    tenant = grant(client, licensed_tenant(client))
    other = grant(client, licensed_tenant(client))
    product(client, tenant)
    product(client, other)
    mine, theirs = issue(client, tenant), issue(client, other)
    case = open_case(client, tenant)
    link = f"{CASES}/{case['id']}/link"
    assert_error(
        client.post(link, json={"kind": "license", "id": theirs["id"]}, headers=in_(tenant)), 404, "license_not_found"
    )
    assert_error(
        client.post(link, json={"kind": "invoice", "id": str(uuid.uuid4())}, headers=in_(tenant)),
        404,
        "invoice_not_found",
    )
    assert_error(client.post(link, json={"kind": "harbor", "id": mine["id"]}, headers=in_(tenant)), 400)
    for _ in range(2):
        r = client.post(link, json={"kind": "license", "id": mine["id"]}, headers=in_(tenant))
        assert r.status_code == 200 and [x["id"] for x in r.json()["links"]] == [mine["id"]], r.text
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.linked")) == 1


def test_create_honours_the_idempotency_key_and_checks_its_input(client):
    tenant = compliant_tenant(client)
    body = {"subject_type": "charge", "subject_id": "ch_1", "stage": "chargeback"}
    key = {"Idempotency-Key": "dispute-open-ch_1", **in_(tenant)}
    first = client.post(CASES, json=body, headers=key)
    again = client.post(CASES, json=body, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.created")) == 1
    assert_error(client.post(CASES, json={**body, "subject_id": "ch_2"}, headers=key), 422, "idempotency_key_reused")
    for bad in (
        {"subject_type": "Payment!", "subject_id": "x"},
        {"subject_type": "payment"},
        {"subject_type": "payment", "subject_id": "x", "stage": "appeal"},
        {"subject_type": "payment", "subject_id": "x", "amount": -1, "currency": "EUR"},
    ):
        assert_error(client.post(CASES, json=bad, headers=in_(tenant)), 400)
    case = open_case(client, tenant)
    for bad in (
        {**evidence_body(), "sha256": "ABC"},
        {**evidence_body(), "sha256": digest(b"x").upper()},
        {**evidence_body(), "size": -1},
        {**evidence_body(), "media_type": "pdf"},
        {**evidence_body(), "kind": "rumour"},
    ):
        assert_error(client.post(f"{CASES}/{case['id']}/evidence", json=bad, headers=in_(tenant)), 400)
    assert_error(client.post(f"{CASES}/{case['id']}/transition", json={}, headers=in_(tenant)), 400)
    assert_error(client.post(f"{CASES}/{case['id']}/notes", json={"body": ""}, headers=in_(tenant)), 400)
    assert_error(client.post(f"{CASES}/{case['id']}/transition", json={"status": "won"}, headers=in_(tenant)), 400)
    assert_error(client.get(f"{CASES}/not-a-uuid", headers=in_(tenant)), 400)
