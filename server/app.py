"""Compose the app: the store DATABASE_URL names (or the one given), auth over it, every
registered API, and the security layer, handed to the spine's app factory; and the job worker
over the same services (server.jobs)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from auth import context as auth_context
from auth.middleware import AuthMiddleware
from charter import app as spine
from charter.api import Api, Lifespan, mounted
from charter.config import Settings
from charter.dispatch import Runner
from charter.idempotency import Keeper
from charter.jobworker import JobWorker
from charter.runtime import Services
from server import jobs, secret_key
from server.apis import APIS
from store import open_store
from store.interface import Store
from store.models import KeptAnswer


def build_services(settings: Settings, store: Store | None = None) -> Services:
    """What every request reaches through charter.runtime: the store, where blocking calls run,
    auth (auth.context.Auth), the Sealer of secrets at rest (server.secret_key) and the Keeper of
    Idempotency-Key answers; each mounted API adds its own components."""
    if store is None:
        store = open_store(settings.database_url)
    services = Services(store=store, settings=settings, runner=Runner(settings.handler_threads(store)))
    services.components[auth_context.Auth] = auth_context.build(store, settings.env)
    sealer = secret_key.sealer(settings, store)
    services.components[type(sealer)] = sealer
    services.components[Keeper] = Keeper(store, sealer, settings.idempotency_window_s, KeptAnswer)
    return services


def create_app(
    names: Iterable[str] = (),
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    validate_responses: bool = False,
    apis: Sequence[Api] = APIS,
    lifespans: Sequence[Lifespan] = (),
    inprocess_worker: bool = False,
) -> spine.CharterApp:
    """Mount every registered API (or those `names` or CHARTER_SPECS name, and the gateway) over
    `store` (default: DATABASE_URL's). With `inprocess_worker` (`charter serve`), the app also
    runs a job worker while it runs, when CHARTER_INPROCESS_WORKER wants one (server.jobs)."""
    settings = settings or Settings.from_env()
    names = tuple(names)
    if names:
        settings = replace(settings, specs=names)
    if inprocess_worker and jobs.inprocess_wanted(settings):
        lifespans = (*lifespans, jobs.inprocess(apis))
    return spine.create_app(
        apis,
        build_services(settings, store),
        security=AuthMiddleware,
        lifespans=lifespans,
        validate_responses=validate_responses,
    )


def create_worker(
    settings: Settings,
    *,
    concurrency: int,
    apis: Sequence[Api] = APIS,
    extra: Sequence[Api] = (),
    store: Store | None = None,
) -> JobWorker:
    """The job worker `charter worker` runs: the app's services, without HTTP, running the jobs of
    the APIs CHARTER_SPECS mounts and of `extra` ones."""
    services = build_services(settings, store)
    chosen = [*mounted(apis, settings.specs), *extra]
    spine.build_components(chosen, services)
    return jobs.job_worker(services, chosen, concurrency)
