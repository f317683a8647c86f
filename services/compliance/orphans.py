"""Bundles whose tenant is gone: a tenant's deletion takes its exports' rows with it (store:
on_tenant_delete, ON DELETE CASCADE) but not their files under CHARTER_DATA_DIR. The job
`compliance.orphans` removes the folder of every tenant that no longer exists, every ten minutes
(on any worker: exactly one run per period), whichever way the tenant was deleted."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from uuid import UUID

from charter.jobs import Context, JobType, Periodic
from services.compliance.exports import Exports
from store.interface import Store

log = logging.getLogger("charter.compliance.exports")
KIND = "compliance.orphans"
EVERY_S = 600


def orphaned(uow: Store, root: Path) -> list[Path]:
    """The tenant folders under `root` whose tenant does not exist."""
    folders = {}
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            folders[folder] = UUID(folder.name)
        except ValueError:  # not one of ours
            continue
    with uow.read() as s:
        return [folder for folder, tenant_id in folders.items() if s.tenants.get(tenant_id) is None]


def sweep(context: Context) -> None:
    for folder in orphaned(context.services.store, context.services.get(Exports).root):
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed the bundles of deleted tenant %s", folder.name)


JOBS = (JobType(KIND, sweep, max_attempts=3),)
PERIODIC = (Periodic(KIND, EVERY_S),)
