r"""`charter check`: the contract gate between specs/, the registered APIs and handlers/.

Fails when a spec does not validate (openapi-spec-validator: as written, its `$ref`s into
specs/shared/ resolved against the file's own URI, and bundled with the shared components it
pulls in, so that those are validated too), two specs claim the same method and path (or clash in
any other way the merge refuses), an operation has no operationId, two operations share one, an
operationId names no function, or a public handler function is bound to no operation. Modules
whose names start with "_" hold helpers and are not checked for binding.

Security (function-level authorization): every operation declares its own `security`, either
`[]` (public, on purpose) or the scheme and the permissions it needs; a scheme or a permission
the security layer does not know fails too (auth.gate.requirement_of, auth.roles).

Idempotency: every POST declares the shared Idempotency-Key header parameter, or is marked
`x-idempotency-exempt: <why>`; one that declares it documents 409 and 422 (charter.idempotency).

Events: each event a spec declares (its top-level `x-events`, type -> {description, payload})
has a payload schema, and a `$ref` there names a component the document has (the webhook event
catalog, services.webhooks.catalog, is built from them).

Patterns: no `pattern` uses `\d`, `\w`, `\s`, `\b` or their negations. JSON Schema reads
patterns as ECMA-262, but validators and generated clients in other languages read them in their
own dialect (Python's `\s` takes \x1c-\x1f and \x85, its `\d` every Unicode digit), so such a
class means different things to the server and to its consumers; spell the characters out.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from auth.gate import requirement_of
from charter import idempotency, specs
from charter.config import SPECS_DIR
from server.apis import APIS  # registering them defines every API's permissions, for requirement_of


def _resolve(operation_id: str):
    module_name, _, func_name = operation_id.rpartition(".")
    if not module_name:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    func = getattr(module, func_name, None)
    return func if callable(func) else None


def handler_functions(package: str = "handlers") -> set[str]:
    """Dotted names of every public function defined in a non-helper handler module."""
    root = importlib.import_module(package)
    found = set()
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and func.__module__ == module.__name__:
                found.add(f"{info.name}.{name}")
    return found


def problems(specs_dir: Path = SPECS_DIR, package: str = "handlers") -> list[str]:
    out: list[str] = []
    docs = {}
    paths = specs.spec_files((), specs_dir)
    if not paths:
        return [f"no specs in {specs_dir}"]
    for path in paths:
        try:
            validate(specs.read(path), base_uri=path.resolve().as_uri())
            doc = specs.load(path)
            validate(doc)
        except (OpenAPIValidationError, Unresolvable, specs.SpecConflict, ValueError, OSError) as exc:
            out.append(f"{path.name}: does not validate: {str(exc).splitlines()[0]}")
            continue
        docs[path.stem] = doc
        out += [f"{path.name}: {problem}" for problem in _event_problems(doc)]
        out += [f"{path.name}: {problem}" for problem in _pattern_problems(doc)]
    try:
        specs.merge(docs, specs_dir)
    except specs.SpecConflict as exc:
        out.append(str(exc))
    bound: dict[str, str] = {}
    for name, doc in docs.items():
        for method, path, op in specs.operations(doc):
            where = f"{name}: {method.upper()} {path}"
            op_id = op.get("operationId")
            if not op_id:
                out.append(f"{where} has no operationId")
                continue
            if op_id in bound:
                out.append(f"{where} reuses operationId {op_id} of {bound[op_id]}")
                continue
            bound[op_id] = where
            out += [f"{where}: {problem}" for problem in _security_problems(doc, op)]
            out += [f"{where}: {problem}" for problem in _idempotency_problems(doc, method, op)]
            if _resolve(op_id) is None:
                out.append(
                    f"{where}: operationId {op_id} names no handler function (run `charter scaffold specs/{name}.yaml`)"
                )
    for func in sorted(handler_functions(package) - set(bound)):
        out.append(f"handler {func} is bound to no operation")
    if specs_dir == SPECS_DIR:
        out += _registration_problems(docs)
    return out


def _registration_problems(docs: dict[str, dict]) -> list[str]:
    """Every spec is an API registered in server/apis.py, and its operationIds lie in that API's
    handler package; a registered API has its spec."""
    out = []
    registered = {api.name: api for api in APIS}
    for name, doc in docs.items():
        api = registered.get(name)
        if api is None:
            out.append(
                f"specs/{name}.yaml is registered as no API: give services/{name}/ an `API = "
                f'charter.api.Api(name="{name}", handlers="handlers.{name}")` and add it to '
                "REGISTERED in server/apis.py"
            )
            continue
        for method, path, op in specs.operations(doc):
            if not str(op.get("operationId", "")).startswith(api.handlers + "."):
                out.append(
                    f"{name}: {method.upper()} {path}: operationId {op.get('operationId')} lies outside "
                    f"the API's handler package {api.handlers}"
                )
    for name in sorted(set(registered) - set(docs)):
        out.append(f"API {name} is registered but {registered[name].spec_path} does not exist")
    return out


_DIALECT_CLASS = re.compile(r"(?<!\\)(?:\\\\)*\\([dDwWsSbB])")


def _pattern_problems(node, where: str = "") -> list[str]:
    """Patterns whose character classes differ between regex dialects (see the module's doc)."""
    out: list[str] = []
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and (found := _DIALECT_CLASS.search(pattern)):
            out.append(
                f"{where or '/'}: pattern {pattern!r} uses \\{found.group(1)}, which regex dialects read differently;"
                " spell the characters out"
            )
        for key, value in node.items():
            out += _pattern_problems(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _pattern_problems(value, f"{where}/{i}")
    return out


def _event_problems(doc: dict) -> list[str]:
    """Every declared event has a payload schema, and the component a `$ref` there names exists."""
    declared = doc.get(specs.EVENTS)
    if declared is None:
        return []
    if not isinstance(declared, dict):
        return [f"{specs.EVENTS} must map each event type to its description and payload"]
    out = []
    components = doc.get("components") or {}
    for event, entry in declared.items():
        payload = entry.get("payload") if isinstance(entry, dict) else None
        if not isinstance(payload, dict) or not payload:
            out.append(f"event {event} declares no payload schema")
            continue
        ref = payload.get("$ref")
        if isinstance(ref, str):
            section, _, name = ref.removeprefix("#/components/").partition("/")
            if not ref.startswith("#/components/") or name not in (components.get(section) or {}):
                out.append(f"event {event}: payload $ref {ref!r} names no component of the document")
    return out


KEY_REF = "shared/components.yaml#/components/parameters/IdempotencyKey"


def _idempotency_problems(doc: dict, method: str, op: dict) -> list[str]:
    """A POST takes the shared Idempotency-Key header or says why not; one that takes it
    documents the answers the key adds (409 in progress, 422 reused)."""
    parameters = [specs.resolve(doc, p) for p in op.get("parameters") or ()]
    takes = idempotency.takes_key({"parameters": parameters})
    exempt = op.get(idempotency.EXEMPT)
    if exempt is not None and not (isinstance(exempt, str) and exempt.strip()):
        return [f"{idempotency.EXEMPT} must say, in a sentence, why the operation takes no key"]
    if takes and exempt is not None:
        return [f"takes an Idempotency-Key and is marked {idempotency.EXEMPT}: one or the other"]
    if method == "post" and not takes and exempt is None:
        return [
            f'changes state but takes no Idempotency-Key: add `- $ref: "{KEY_REF}"` to its parameters, '
            f"or mark it `{idempotency.EXEMPT}: <why>` (it answers fresh credentials, or changes nothing)"
        ]
    if takes:
        documented = {str(code) for code in op.get("responses") or {}}
        return [
            f"takes an Idempotency-Key but documents no {code} ({why})"
            for code, why in (("409", "a request with the key still running"), ("422", "the key reused"))
            if code not in documented
        ]
    return []


def _security_problems(doc: dict, op: dict) -> list[str]:
    if "security" not in op:
        return [
            "declares no security: add `security: []` if it is public, or the scheme and the "
            'permissions it needs, e.g. `security: [{ bearerAuth: ["tenants:read"] }]`'
        ]
    try:
        requirement_of(op)
    except ValueError as exc:
        return [f"security: {exc}"]
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    return [
        f"security names the scheme {name!r}, which components/securitySchemes does not define"
        for alternative in op["security"]
        for name in alternative
        if name not in schemes
    ]
