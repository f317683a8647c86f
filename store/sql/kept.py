"""Answers kept for Idempotency-Key replays over SQL, by (scope, key hash).

put() is one upsert that replaces only an expired answer: the spine holds the key's exclusive
lock while it runs, so a live answer is never there to clash with. Every HOUSEKEEPING_EVERY-th
put of a process also deletes a batch of expired answers, as prune() does (the platform.sweep job).
"""

from __future__ import annotations

import itertools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from store.models import KeptAnswer
from store.sql.base import Repo
from store.sql.tables import kept_answers

HOUSEKEEPING_EVERY = 256
SWEEP_BATCH = 1024
FIELDS = tuple(c.name for c in kept_answers.columns)

_AT = sa.bindparam("at", type_=kept_answers.c.expires_at.type)
_GET = sa.select(kept_answers).where(
    kept_answers.c.scope == sa.bindparam("scope"),
    kept_answers.c.key_hash == sa.bindparam("key_hash"),
    kept_answers.c.expires_at > _AT,
)
_SWEEP = sa.delete(kept_answers).where(
    sa.tuple_(kept_answers.c.scope, kept_answers.c.key_hash).in_(
        sa.select(kept_answers.c.scope, kept_answers.c.key_hash)
        .where(kept_answers.c.expires_at <= _AT)
        .limit(SWEEP_BATCH)
    )
)
_puts = itertools.count(1)


def _upsert(dialect) -> sa.Insert:
    insert = dialect.insert(kept_answers)
    return insert.on_conflict_do_update(
        index_elements=[kept_answers.c.scope, kept_answers.c.key_hash],
        set_={name: insert.excluded[name] for name in FIELDS if name not in ("scope", "key_hash")},
        where=kept_answers.c.expires_at <= insert.excluded.created_at,
    )


_PUT = {True: _upsert(postgresql), False: _upsert(sqlite)}


class SqlKeptAnswers(Repo):
    def get(self, scope: str, key_hash: str, at: datetime) -> KeptAnswer | None:
        row = self._run(_GET, {"scope": scope, "key_hash": key_hash, "at": at}).first()
        return KeptAnswer(**{name: row._mapping[name] for name in FIELDS}) if row else None

    def put(self, answer: KeptAnswer) -> None:
        self._write()
        self._run(_PUT[self.pg], {name: getattr(answer, name) for name in FIELDS})
        if next(_puts) % HOUSEKEEPING_EVERY == 0:
            self._run(_SWEEP, {"at": answer.created_at})

    def prune(self, at: datetime) -> int:
        self._write()
        return self._run(_SWEEP, {"at": at}).rowcount
