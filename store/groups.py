"""Repositories grouped per API, built on first use in a session.

An implementation declares each API's repositories once, as a Group, each with its Protocol:

    class Registry(Group, api="registry"):
        tenants = repository[interface.Tenants](SqlTenants)
        audit = repository[interface.Audit](SqlAudit)

and its session class derives from every group (`class SqlSession(Registry, Identity,
UnitOfWork)`), so `s.tenants` keeps its flat name and adding an aggregate is one line in its
group. A repository is built from the session (`SqlTenants(session)`) the first time the session
is asked for it, and then kept on that session: a session builds only what it uses, and a later
`s.tenants` is an instance attribute. mypy sees `s.tenants` as an interface.Tenants and checks at
the declaration that SqlTenants is one. Two groups of one session declaring one name is a
TypeError when the session class is made, as is a repository declared outside a group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, overload

R = TypeVar("R")  # the repository's Protocol in store.interface


class repository(Generic[R]):  # noqa: N801 - reads as a declaration: `tenants = repository[Tenants](SqlTenants)`
    """A repository of a session: `build(session)` on first access, kept on the session after."""

    __slots__ = ("build", "name")

    def __init__(self, build: Callable[[Any], R]) -> None:
        self.build = build
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, session: None, owner: type | None = None) -> repository[R]: ...

    @overload
    def __get__(self, session: object, owner: type | None = None) -> R: ...

    def __get__(self, session: object | None, owner: type | None = None) -> R | repository[R]:
        if session is None:
            return self
        built = self.build(session)
        # Not a data descriptor: from now on the session's own attribute answers, and this does not run.
        setattr(session, self.name, built)
        return built


class Group:
    """The repositories one API uses (a subclass given `api=`), or a session combining groups (a
    subclass without it, which may declare no repository of its own). `declared` maps every
    repository name the class has to the group that declares it."""

    api: ClassVar[str] = ""
    declared: ClassVar[dict[str, type[Group]]] = {}

    def __init_subclass__(cls, api: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, type[Group]] = {}
        for base in cls.__bases__:
            if not issubclass(base, Group):
                continue
            for name, group in base.declared.items():
                if declared.setdefault(name, group) is not group:
                    raise TypeError(
                        f"{cls.__name__}: repository {name!r} is declared by both "
                        f"{declared[name].api!r} and {group.api!r}"
                    )
        own = [name for name, value in vars(cls).items() if isinstance(value, repository)]
        if api is None:
            if own:
                raise TypeError(f"{cls.__name__} declares repositories {own} outside a group (give it api=…)")
        else:
            cls.api = api
            for name in own:
                if name in declared:
                    raise TypeError(
                        f"{cls.__name__}: repository {name!r} of {api!r} is declared by {declared[name].api!r} already"
                    )
                declared[name] = cls
        cls.declared = declared

    @classmethod
    def build_all(cls, session: object) -> None:
        """Build every repository on `session` now (for a session that lives as long as its store)."""
        for name, group in cls.declared.items():
            declaration = vars(group)[name]
            setattr(session, name, declaration.build(session))
