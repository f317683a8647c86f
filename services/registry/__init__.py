"""The tenant registry's rules: tenants and their lifecycle, the catalog and trials, API keys, the audit log."""
