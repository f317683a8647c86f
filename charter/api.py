"""An API, as it registers itself with the spine.

An API is its spec (`specs/<name>.yaml`), its handler package (every operationId is a dotted
address inside it), its services and their components (what its handlers reach with
`runtime.services().get(SomeClass)`), its permissions (which roles grant which), its settings
(read by `build` from `Settings.env`), its background work while the app runs (`lifespan`), and
the jobs it runs (`jobs`, `periodic`: charter.jobs). Its store repositories and tables register
with the store. The composition root lists the APIs, one line
each; the spine mounts the ones CHARTER_SPECS names (every one when unset), plus those marked
`always`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.config import SPECS_DIR
from charter.jobs import JobType, Periodic

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]  # given the Services, while the app runs


@dataclass(frozen=True)
class Permissions:
    """The permissions an API's operations name as security scopes, by who may hold them."""

    read: frozenset[str] = frozenset()  # inside one tenant, every tenant role
    write: frozenset[str] = frozenset()  # inside one tenant, its admins
    platform: frozenset[str] = frozenset()  # only a caller bound to no tenant

    @property
    def all(self) -> frozenset[str]:
        return self.read | self.write | self.platform


@dataclass(frozen=True)
class Api:
    name: str  # its spec is specs/<name>.yaml unless `spec` says otherwise; CHARTER_SPECS names it
    handlers: str  # the handler package, e.g. "handlers.registry"
    permissions: Permissions = field(default_factory=Permissions)
    build: Callable[[Any], Iterable[object]] | None = None  # Services -> components, keyed by type
    lifespan: Lifespan | None = None
    always: bool = False  # mounted whatever CHARTER_SPECS names (the probes)
    spec: Path | None = None
    jobs: Sequence[JobType] = ()  # the job types it runs (charter.jobs)
    periodic: Sequence[Periodic] = ()  # jobs of those types to enqueue every so often

    @property
    def spec_path(self) -> Path:
        return self.spec or SPECS_DIR / f"{self.name}.yaml"


class UnknownApi(LookupError):
    pass


def mounted(apis: Sequence[Api], names: Iterable[str]) -> list[Api]:
    """The APIs `names` asks for (by name, or a spec file's stem), and every `always` one."""
    wanted = {Path(n).stem for n in names if n}
    known = {a.name for a in apis}
    unknown = sorted(wanted - known)
    if unknown:
        raise UnknownApi(f"no API named {', '.join(unknown)}; registered: {', '.join(sorted(known))}")
    return [a for a in apis if a.always or not wanted or a.name in wanted]
