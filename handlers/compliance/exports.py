"""Audit export bundles: create, list, read (a fresh download token on asking), download, verify, revoke."""

from __future__ import annotations

from uuid import UUID

from charter import runtime
from charter.formats import parse_date_time
from charter.runtime import actor, store
from charter.streaming import Stream
from services.compliance import exports
from services.compliance.exports import Exports

CHUNK = 1 << 16


def _exports() -> Exports:
    return runtime.services().get(Exports)


def create(body: dict) -> tuple[dict, int]:
    export, token = exports.create(
        store(),
        actor(),
        _exports(),
        since=parse_date_time(body["since"]),
        until=parse_date_time(body["until"]),
        includes=body["includes"],
    )
    return {**exports.shape(export), **token}, 202


def list_exports(cursor: str | None = None, limit: int = 50) -> dict:
    return exports.list_exports(store(), actor(), cursor=cursor, limit=limit)


def get(export_id: str, issue_download: int = 0) -> dict:
    return exports.get(store(), actor(), _exports(), UUID(export_id), issue_download=bool(issue_download))


def revoke(export_id: str) -> dict:
    return exports.revoke(store(), actor(), _exports(), UUID(export_id))


def verify(export_id: str) -> dict:
    return exports.verify(store(), actor(), _exports(), UUID(export_id))


def bundle(export_id: str, token: str) -> Stream:
    export, path = exports.download(store(), _exports(), UUID(export_id), token)

    def chunks():
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    return Stream(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="audit-export-{export.id}.zip"',
            "Content-Length": str(path.stat().st_size),
        },
    )
