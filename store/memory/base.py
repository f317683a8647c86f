"""What every memory repository shares: each aggregate's rows, the undo log, the read guard.

Each aggregate's module owns a Rows class (its records by key, and the indexes it keeps in step);
a store holds one of each in its Tables, made on first use. Every change goes through Rows or
assign() and appends its inverse to the write session's undo log, which a failed write runs
backwards.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from store.memory.cascade import OnTenantDelete

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
RowsT = TypeVar("RowsT", bound="Rows[Any, Any]")
Undo = list[Callable[[], object]]


class Rows(Generic[K, V]):
    """One aggregate's records by key. A subclass keeps its indexes in step by overriding _index
    and _unindex, and must say what a tenant's deletion does to its rows (`on_tenant_delete`,
    see store.memory.cascade)."""

    on_tenant_delete: ClassVar[OnTenantDelete]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "on_tenant_delete"):
            raise TypeError(f"{cls.__name__} must declare on_tenant_delete (store.memory.cascade)")

    def __init__(self) -> None:
        self.by_key: dict[K, V] = {}

    def _index(self, key: K, row: V) -> None:
        pass

    def _unindex(self, key: K, row: V) -> None:
        pass

    def insert(self, key: K, row: V, undo: Undo) -> None:
        undo.append(lambda: self._take(key))
        self._put(key, row)

    def replace(self, key: K, row: V, undo: Undo) -> None:
        """Put `row` in place of the one at `key`, which must exist; indexed fields must not change."""
        old = self.by_key[key]
        undo.append(lambda: self.by_key.__setitem__(key, old))
        self.by_key[key] = row

    def remove(self, key: K, undo: Undo) -> None:
        row = self._take(key)
        undo.append(lambda: self._put(key, row))

    def _put(self, key: K, row: V) -> None:
        self.by_key[key] = row
        self._index(key, row)

    def _take(self, key: K) -> V:
        row = self.by_key.pop(key)
        self._unindex(key, row)
        return row


def assign(undo: Undo, record: object, field: str, value: object) -> None:
    """Set record.<field> in place (undone on rollback)."""
    previous = getattr(record, field)
    undo.append(lambda: setattr(record, field, previous))
    setattr(record, field, value)


class Tables:
    """Every aggregate's Rows in one store, each made the first time a repository asks for it."""

    def __init__(self) -> None:
        self._rows: dict[type[Rows[Any, Any]], Rows[Any, Any]] = {}

    def of(self, kind: type[RowsT]) -> RowsT:
        found = self._rows.get(kind)
        if found is None:
            found = self._rows[kind] = kind()
        return cast(RowsT, found)

    def __iter__(self) -> Iterator[Rows[Any, Any]]:
        return iter(list(self._rows.values()))


class MemoryContext(Protocol):
    """What a memory repository is built from: its session."""

    tables: Tables
    undo: Undo | None  # None: a read session
    checkpoint_every: int | None  # the store's (store.ledger.checkpoint_due)


class Repo:
    def __init__(self, session: MemoryContext) -> None:
        self._tables = session.tables
        self._undo_log = session.undo

    def _undo(self) -> Undo:
        """The write session's undo log; RuntimeError in a read session."""
        if self._undo_log is None:
            raise RuntimeError("write attempted in a read session")
        return self._undo_log

    def _stamp_once(self, record: object | None, field: str, at: object) -> bool:
        """Set record.<field> to `at` unless it is set already (undone on rollback); True when
        this call set it. Under the store's lock, so of concurrent callers exactly one does."""
        undo = self._undo()
        if record is None or getattr(record, field) is not None:
            return False
        assign(undo, record, field, at)
        return True
