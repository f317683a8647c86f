"""Find the OpenAPI documents in specs/ and merge them into the one document the app serves.

Connexion shows only the last API added under a shared base path, so Charter mounts a single
merged document: every operation stays visible to the router, /openapi.json, Swagger UI,
schemathesis and `charter check`. Merging refuses anything it cannot combine faithfully.

The API documents share their common parts (the error shape and responses, the security schemes,
the tenant header, pagination) by `$ref` to specs/shared/components.yaml. `load` makes a document
self-contained: every component it reaches in another file is pulled into its own `components`
under the same name and the `$ref` rewritten to `#/components/<section>/<name>`. `merge` combines
such documents, keeping every `$ref` (so clients and tools see component names), and drops every
component no operation reaches.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

import yaml

from charter import answers, text
from charter.config import SPECS_DIR

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMPONENT_REF = re.compile(r"^#/components/([^/]+)/([^/]+)$")


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


# libyaml's loader when PyYAML has it (its wheels do): parsing the specs is most of an app's start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_READ: dict[tuple[str, int, int], dict] = {}  # (path, mtime_ns, size) -> the parsed document


def read(path: Path) -> dict:
    """A document exactly as written, its `$ref`s to other files included. Each file is parsed
    once per process while it is unchanged; every caller gets its own copy."""
    key = _stamp(path)
    doc = _READ.get(key)
    if doc is None:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_LOADER)  # noqa: S506 - a safe loader, the C one when there is one
        if not isinstance(doc, dict):
            raise SpecConflict(f"{Path(path).name}: not an OpenAPI document")
        if len(_READ) > 256:
            _READ.clear()
        _READ[key] = doc
    return copy.deepcopy(doc)


def load(path: Path) -> dict:
    """A document made self-contained: what it references in other files pulled in (see bundle)."""
    path = Path(path).resolve()
    return bundle(read(path), path)


def operations(doc: dict) -> Iterable[tuple[str, str, dict]]:
    """(method, path, operation) for every operation in a document."""
    for path, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in (item or {}):
                yield method, path, item[method]


def resolve(doc: dict, node: Any) -> Any:
    """`node`, or what its internal `$ref` (chain) points to in `doc`."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#") or ref in seen:
            raise SpecConflict(f"cannot resolve {ref!r} inside the document")
        seen.add(ref)
        node = _pointer(doc, ref[1:], ref)
    return node


# --------------------------------------------------------------------------------- bundling


def _pointer(doc: Any, pointer: str, ref: str) -> Any:
    node = doc
    for part in unquote(pointer).split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise SpecConflict(f"$ref {ref!r} points at nothing")
    return node


class _Bundler:
    """Pulls the components a document reaches in other files into the document itself."""

    def __init__(self, root: dict, origin: Path):
        self.origin = origin
        self.root = root
        self.files: dict[Path, dict] = {origin: root}
        self.pulled: dict[tuple[str, str], tuple[Path, str]] = {}  # (section, name) -> where from
        self.content: dict[tuple[str, str], Any] = {}
        self.inlining: list[tuple[Path, str]] = []

    def document(self, path: Path) -> dict:
        if path not in self.files:
            if not path.is_file():
                raise SpecConflict(f"{self.origin.name}: $ref to {path}, which does not exist")
            self.files[path] = read(path)
        return self.files[path]

    def walk(self, node: Any, here: Path) -> Any:
        """A copy of `node` (found in the file `here`) with every ref the root cannot resolve
        rewritten to a component of the root, or inlined when it names no component."""
        if isinstance(node, list):
            return [self.walk(item, here) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self.reference(node, ref, here)
        return {key: self.walk(value, here) for key, value in node.items()}

    def reference(self, node: dict, ref: str, here: Path) -> Any:
        if ref.startswith(("http://", "https://")):
            raise SpecConflict(f"{self.origin.name}: remote $ref {ref!r} is not supported")
        location, fragment = urldefrag(ref)
        target = (here.parent / unquote(location)).resolve() if location else here
        if target == self.origin:
            return {**node, "$ref": f"#{fragment}"}  # the root's own
        pointer = fragment or ""
        named = COMPONENT_REF.match(f"#{unquote(pointer)}")
        if named:
            key = (named[1], named[2])
            where = (target, pointer)
            if key not in self.pulled:
                self.pulled[key] = where
                self.content[key] = self.walk(_pointer(self.document(target), pointer, ref), target)
            elif self.pulled[key] != where:
                first = self.pulled[key]
                again = self.walk(_pointer(self.document(target), pointer, ref), target)
                if again != self.content[key]:
                    raise SpecConflict(
                        f"{self.origin.name}: components/{key[0]}/{key[1]} comes from both "
                        f"{first[0].name}#{first[1]} and {target.name}#{pointer}, which differ"
                    )
            return {**node, "$ref": f"#/components/{key[0]}/{key[1]}"}
        if (target, pointer) in self.inlining:
            raise SpecConflict(f"{self.origin.name}: $ref {ref!r} is circular and names no component")
        self.inlining.append((target, pointer))
        try:
            return self.walk(_pointer(self.document(target), pointer, ref), target)
        finally:
            self.inlining.pop()

    def result(self) -> dict:
        doc = self.walk(self.root, self.origin)
        if self.content:
            doc["components"] = doc.get("components") or {}
        for (section, name), value in self.content.items():
            entries = doc["components"].setdefault(section, {})
            mine = entries.get(name)
            if mine is None or mine == {"$ref": f"#/components/{section}/{name}"} or mine == value:
                # absent, or the document's own entry is a reference to exactly this one
                entries[name] = value
            else:
                where = self.pulled[(section, name)]
                raise SpecConflict(
                    f"{self.origin.name}: components/{section}/{name} differs from the one in "
                    f"{where[0].name}#{where[1]} that it references"
                )
        return doc


def bundle(doc: dict, origin: Path) -> dict:
    """`doc` (read from `origin`) with every `$ref` into another file rewritten: a ref to
    `<file>#/components/<section>/<name>` becomes `#/components/<section>/<name>` and that component
    (with what it references in turn) is copied into the document's components under its name; a
    ref to anything else is inlined. A name that would hold two different things is a SpecConflict.
    A document without refs to other files comes back as it was (a copy)."""
    return _Bundler(doc, Path(origin).resolve()).result()


# --------------------------------------------------------------------------------- pruning


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    """(section, name) of every internal component reference in `node`."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found = COMPONENT_REF.match(unquote(ref))
                if found:
                    yield found[1], found[2].replace("~1", "/").replace("~0", "~")
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
                for value in discriminator["mapping"].values():  # a schema by ref or by bare name
                    found = COMPONENT_REF.match(unquote(str(value)))
                    yield (found[1], found[2]) if found else ("schemas", str(value))
            stack.extend(value for key, value in node.items() if key != "$ref")


def used_components(doc: dict) -> set[tuple[str, str]]:
    """Every (section, name) of components the paths reach, transitively, and the security
    schemes any security requirement (the document's or an operation's) names."""
    components = doc.get("components") or {}
    requirements = [
        *(doc.get("security") or []),
        *(r for _, _, op in operations(doc) for r in (op.get("security") or [])),
    ]
    todo = [("securitySchemes", name) for requirement in requirements for name in requirement]
    todo += _refs(doc.get("paths") or {})
    todo += _refs(doc.get(EVENTS) or {})
    used: set[tuple[str, str]] = set()
    while todo:
        key = todo.pop()
        if key in used:
            continue
        used.add(key)
        todo += _refs((components.get(key[0]) or {}).get(key[1]))
    return used


def prune(doc: dict) -> dict:
    """`doc` without the components nothing uses (see used_components); empty sections go too."""
    used = used_components(doc)
    kept = {}
    for section, entries in (doc.get("components") or {}).items():
        entries = {name: value for name, value in (entries or {}).items() if (section, name) in used}
        if entries:
            kept[section] = entries
    return {**doc, "components": kept}


# --------------------------------------------------------------------------------- merging


EVENTS = "x-events"  # a document's events: type -> {description, payload: the schema of its data}


def merge(docs: dict[str, dict], specs_dir: Path = SPECS_DIR) -> dict:
    """Merge named documents into one whose components are exactly the used ones (the paths' and
    the `x-events`' payload schemas, which are merged too: one event type, one document). A document
    that still references other files is bundled first, relative to specs_dir/<name>.yaml.
    Raises SpecConflict on a clash."""
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
    event_owner: dict[str, str] = {}
    for name, doc in docs.items():
        version = str(doc.get("openapi", ""))
        if not version.startswith("3.0"):
            raise SpecConflict(f"{name}: declare openapi 3.0.x (got {version!r})")
        doc = bundle(doc, specs_dir / f"{name}.yaml")
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
        for event, declared in (doc.get(EVENTS) or {}).items():
            if event in merged.setdefault(EVENTS, {}):
                raise SpecConflict(f"event {event} is declared by both {event_owner[event]} and {name}")
            merged[EVENTS][event] = declared
            event_owner[event] = name
        for tag in doc.get("tags") or []:
            if tag.get("name") not in tag_names:
                tag_names.add(tag.get("name"))
                merged["tags"].append(tag)
    if not merged["tags"]:
        del merged["tags"]
    return prune(merged)


def load_merged(names: Iterable[str] = (), specs_dir: Path = SPECS_DIR) -> dict:
    """The document the server serves and validates with: the specs merged, every operation given
    the spine's own answers (charter.answers), every free string schema the NUL-free pattern
    (charter.text)."""
    files = spec_files(names, specs_dir)
    key = (tuple(_stamp(p) for p in files), tuple(_stamp(p) for p in sorted(Path(specs_dir).rglob("*.yaml"))))
    doc = _MERGED.get(key)
    if doc is None:
        doc = served(merge({path.stem: load(path) for path in files}, specs_dir))
        if len(_MERGED) > 64:
            _MERGED.clear()
        _MERGED[key] = doc
    return copy.deepcopy(doc)


_MERGED: dict[tuple, dict] = {}  # the files' stamps -> the merged document, while they are unchanged


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = os.stat(path)
    return (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


def served(doc: dict) -> dict:
    """A merged document made the served one, in place: the spine's answers on every operation,
    the NUL-free pattern on every free string."""
    answers.complete(doc, ((doc["paths"][path], op) for _, path, op in operations(doc)))
    return text.forbid_nul(doc)
