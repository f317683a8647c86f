"""Find the OpenAPI documents in specs/ and merge them into the one document the app serves.

Connexion shows only the last API added under a shared base path, so Charter mounts a single
merged document: every operation stays visible to the router, /openapi.json, Swagger UI,
schemathesis and `charter check`. Merging refuses anything it cannot combine faithfully.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from charter.config import SPECS_DIR

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecConflict(ValueError):
    """Two documents claim the same thing in incompatible ways."""


def spec_files(names: Iterable[str] = (), specs_dir: Path = SPECS_DIR) -> list[Path]:
    """Every spec in specs_dir, or the named subset (by stem, file name or path)."""
    names = [n for n in names if n]
    if not names:
        return sorted(specs_dir.glob("*.yaml"))
    found = []
    for name in names:
        path = Path(name)
        if not path.suffix:
            path = specs_dir / f"{name}.yaml"
        elif not path.is_absolute() and not path.exists():
            path = specs_dir / path.name
        if not path.exists():
            raise FileNotFoundError(f"no spec named {name!r} (looked for {path})")
        found.append(path)
    return found


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if not isinstance(doc, dict):
        raise SpecConflict(f"{path.name}: not an OpenAPI document")
    return doc


def operations(doc: dict) -> Iterable[tuple[str, str, dict]]:
    """(method, path, operation) for every operation in a document."""
    for path, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in (item or {}):
                yield method, path, item[method]


def merge(docs: dict[str, dict]) -> dict:
    """Merge named documents into one. Raises SpecConflict on a clash."""
    merged: dict = {
        "openapi": "3.0.3",
        "info": {
            "title": "Charter",
            "version": "1",
            "description": "Every API this Charter serves: " + ", ".join(sorted(docs)) + ".",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {},
        "tags": [],
    }
    owner: dict[tuple[str, str], str] = {}
    component_owner: dict[tuple[str, str], str] = {}
    tag_names: set[str] = set()
    for name, doc in docs.items():
        version = str(doc.get("openapi", ""))
        if not version.startswith("3.0"):
            raise SpecConflict(f"{name}: declare openapi 3.0.x (got {version!r})")
        for server in doc.get("servers") or []:
            if server.get("url", "/").split("://", 1)[-1].partition("/")[2].strip("/"):
                raise SpecConflict(f"{name}: servers with a base path are not supported; put it in the paths")
        default_security = doc.get("security")
        for path, item in (doc.get("paths") or {}).items():
            target = merged["paths"].setdefault(path, {})
            for key, value in (item or {}).items():
                if key in HTTP_METHODS:
                    if (key, path) in owner:
                        raise SpecConflict(f"{key.upper()} {path} is claimed by both {owner[(key, path)]} and {name}")
                    owner[(key, path)] = name
                    op = dict(value)
                    if default_security is not None and "security" not in op:
                        op["security"] = default_security
                    target[key] = op
                elif key in target and target[key] != value:
                    raise SpecConflict(f"{path}: '{key}' differs between {name} and another spec")
                else:
                    target[key] = value
        for section, entries in (doc.get("components") or {}).items():
            merged_section = merged["components"].setdefault(section, {})
            for entry, value in (entries or {}).items():
                if entry in merged_section and merged_section[entry] != value:
                    raise SpecConflict(
                        f"components/{section}/{entry} differs between {component_owner[(section, entry)]} and {name}"
                    )
                merged_section[entry] = value
                component_owner.setdefault((section, entry), name)
        for tag in doc.get("tags") or []:
            if tag.get("name") not in tag_names:
                tag_names.add(tag.get("name"))
                merged["tags"].append(tag)
    if not merged["tags"]:
        del merged["tags"]
    return merged


def load_merged(names: Iterable[str] = (), specs_dir: Path = SPECS_DIR) -> dict:
    return merge({path.stem: load(path) for path in spec_files(names, specs_dir)})
