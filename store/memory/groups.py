"""The memory store's repositories, per API group (see store.groups). One line per
aggregate, naming its Protocol: mypy checks here that the class is it."""

from __future__ import annotations

from store import interface
from store.groups import Group, repository
from store.memory.audit import MemoryAudit
from store.memory.deliveries import MemoryWebhookDeliveries, MemoryWebhookEvents
from store.memory.disputes import MemoryDisputeCases, MemoryDisputeEvidence, MemoryDisputeNotes
from store.memory.exports import MemoryAuditExports
from store.memory.invoices import MemoryDiscountCodes, MemoryInvoices
from store.memory.jobs import MemoryJobs
from store.memory.kept import MemoryKeptAnswers
from store.memory.keys import MemoryApiKeys
from store.memory.ledger import MemoryLedger
from store.memory.licenses import MemoryLicenses, MemoryMachines
from store.memory.licensing import MemoryIssuerKeys, MemoryLicensePolicies, MemoryLicenseProducts
from store.memory.ratelimits import MemoryRateLimits
from store.memory.sessions import MemoryAuthSessions, MemoryRefreshTokens
from store.memory.signing import MemorySigningKeys
from store.memory.tenants import MemoryEntitlements, MemoryTenants
from store.memory.users import MemoryMemberships, MemoryUsers
from store.memory.webhooks import MemoryWebhookEndpoints


class Registry(Group, api="registry"):
    tenants = repository[interface.Tenants](MemoryTenants)
    entitlements = repository[interface.Entitlements](MemoryEntitlements)
    api_keys = repository[interface.ApiKeys](MemoryApiKeys)
    audit = repository[interface.Audit](MemoryAudit)


class Identity(Group, api="identity"):
    users = repository[interface.Users](MemoryUsers)
    memberships = repository[interface.Memberships](MemoryMemberships)
    auth_sessions = repository[interface.AuthSessions](MemoryAuthSessions)
    refresh_tokens = repository[interface.RefreshTokens](MemoryRefreshTokens)
    signing_keys = repository[interface.SigningKeys](MemorySigningKeys)
    rate_limits = repository[interface.RateLimits](MemoryRateLimits)


class Platform(Group, api="platform"):
    kept_answers = repository[interface.KeptAnswers](MemoryKeptAnswers)
    jobs = repository[interface.Jobs](MemoryJobs)


class Webhooks(Group, api="webhooks"):
    webhook_endpoints = repository[interface.WebhookEndpoints](MemoryWebhookEndpoints)
    webhook_events = repository[interface.WebhookEvents](MemoryWebhookEvents)
    webhook_deliveries = repository[interface.WebhookDeliveries](MemoryWebhookDeliveries)


class Licensing(Group, api="licensing"):
    issuer_keys = repository[interface.IssuerKeys](MemoryIssuerKeys)
    license_products = repository[interface.LicenseProducts](MemoryLicenseProducts)
    license_policies = repository[interface.LicensePolicies](MemoryLicensePolicies)
    licenses = repository[interface.Licenses](MemoryLicenses)
    machines = repository[interface.Machines](MemoryMachines)
    invoices = repository[interface.Invoices](MemoryInvoices)
    discount_codes = repository[interface.DiscountCodes](MemoryDiscountCodes)


class Compliance(Group, api="compliance"):
    ledger = repository[interface.Ledger](MemoryLedger)
    audit_exports = repository[interface.AuditExports](MemoryAuditExports)


class Disputes(Group, api="disputes"):
    dispute_cases = repository[interface.DisputeCases](MemoryDisputeCases)
    dispute_evidence = repository[interface.DisputeEvidenceRefs](MemoryDisputeEvidence)
    dispute_notes = repository[interface.DisputeNotes](MemoryDisputeNotes)
