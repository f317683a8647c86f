"""The SQL store's repositories, per API group (see store.groups). One line per
aggregate, naming its Protocol: mypy checks here that the class is it."""

from __future__ import annotations

from store import interface
from store.groups import Group, repository
from store.sql.audit import SqlAudit
from store.sql.deliveries import SqlWebhookDeliveries, SqlWebhookEvents
from store.sql.disputes import SqlDisputeCases, SqlDisputeEvidence, SqlDisputeNotes
from store.sql.exports import SqlAuditExports
from store.sql.invoices import SqlDiscountCodes, SqlInvoices
from store.sql.jobs import SqlJobs
from store.sql.kept import SqlKeptAnswers
from store.sql.keys import SqlApiKeys
from store.sql.ledger import SqlLedger
from store.sql.licenses import SqlLicenses, SqlMachines
from store.sql.licensing import SqlIssuerKeys, SqlLicensePolicies, SqlLicenseProducts
from store.sql.ratelimits import SqlRateLimits
from store.sql.sessions import SqlAuthSessions, SqlRefreshTokens
from store.sql.signing import SqlSigningKeys
from store.sql.tenants import SqlEntitlements, SqlTenants
from store.sql.users import SqlMemberships, SqlUsers
from store.sql.webhooks import SqlWebhookEndpoints


class Registry(Group, api="registry"):
    tenants = repository[interface.Tenants](SqlTenants)
    entitlements = repository[interface.Entitlements](SqlEntitlements)
    api_keys = repository[interface.ApiKeys](SqlApiKeys)
    audit = repository[interface.Audit](SqlAudit)


class Identity(Group, api="identity"):
    users = repository[interface.Users](SqlUsers)
    memberships = repository[interface.Memberships](SqlMemberships)
    auth_sessions = repository[interface.AuthSessions](SqlAuthSessions)
    refresh_tokens = repository[interface.RefreshTokens](SqlRefreshTokens)
    signing_keys = repository[interface.SigningKeys](SqlSigningKeys)
    rate_limits = repository[interface.RateLimits](SqlRateLimits)


class Platform(Group, api="platform"):
    kept_answers = repository[interface.KeptAnswers](SqlKeptAnswers)
    jobs = repository[interface.Jobs](SqlJobs)


class Webhooks(Group, api="webhooks"):
    webhook_endpoints = repository[interface.WebhookEndpoints](SqlWebhookEndpoints)
    webhook_events = repository[interface.WebhookEvents](SqlWebhookEvents)
    webhook_deliveries = repository[interface.WebhookDeliveries](SqlWebhookDeliveries)


class Licensing(Group, api="licensing"):
    issuer_keys = repository[interface.IssuerKeys](SqlIssuerKeys)
    license_products = repository[interface.LicenseProducts](SqlLicenseProducts)
    license_policies = repository[interface.LicensePolicies](SqlLicensePolicies)
    licenses = repository[interface.Licenses](SqlLicenses)
    machines = repository[interface.Machines](SqlMachines)
    invoices = repository[interface.Invoices](SqlInvoices)
    discount_codes = repository[interface.DiscountCodes](SqlDiscountCodes)


class Compliance(Group, api="compliance"):
    ledger = repository[interface.Ledger](SqlLedger)
    audit_exports = repository[interface.AuditExports](SqlAuditExports)


class Disputes(Group, api="disputes"):
    dispute_cases = repository[interface.DisputeCases](SqlDisputeCases)
    dispute_evidence = repository[interface.DisputeEvidenceRefs](SqlDisputeEvidence)
    dispute_notes = repository[interface.DisputeNotes](SqlDisputeNotes)
