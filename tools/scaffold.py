"""`charter scaffold specs/<api>.yaml`: a stub for every operationId that has no handler yet.

Never overwrites: a missing module is created, a missing function is appended to its module,
anything that exists is left alone. Each stub answers 501 with the error body until filled in.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from charter import specs
from charter.config import ROOT

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

STUB = '''

def {func}({params}):
    """{summary}"""
    raise ApiError(501, "{op_id} is not implemented yet", "not_implemented")
'''

HEADER = '''"""Handlers for {api}: {module}."""
from charter.errors import ApiError
'''


def _params(doc: dict, path_item: dict, op: dict) -> list[str]:
    """`doc` is self-contained (specs.load pulls in what it references in specs/shared/)."""
    seen, names = set(), []
    for p in [*(path_item.get("parameters") or []), *(op.get("parameters") or [])]:
        p = specs.resolve(doc, p)
        if p.get("in") in ("path", "query") and p["name"] not in seen:
            seen.add(p["name"])
            names.append((p["name"], p.get("required", False) or p.get("in") == "path"))
    out = [n for n, required in names if required]
    if "requestBody" in op:
        out.append("body" if op["requestBody"].get("required") else "body=None")
    out += [f"{n}=None" for n, required in names if not required]
    return out


def scaffold(spec_path: Path, root: Path = ROOT) -> list[str]:
    """Write the missing stubs; returns what was written, one line each."""
    doc = specs.load(spec_path)
    written = []
    for method, path, op in specs.operations(doc):
        op_id = op.get("operationId")
        if not op_id:
            raise SystemExit(f"{method.upper()} {path} has no operationId: add one first")
        *package, module, func = op_id.split(".")
        if not package or not all(_IDENT.match(p) and not keyword.iskeyword(p) for p in [*package, module, func]):
            raise SystemExit(f"operationId {op_id!r} is not a dotted handlers.<api>.<module>.<function> address")
        folder = root.joinpath(*package)
        for depth in range(1, len(package) + 1):
            init = root.joinpath(*package[:depth], "__init__.py")
            if not init.exists():
                init.parent.mkdir(parents=True, exist_ok=True)
                init.write_text(f'"""{".".join(package[:depth])}."""\n')
                written.append(f"created {init.relative_to(root)}")
        target = folder / f"{module}.py"
        source = target.read_text() if target.exists() else HEADER.format(api=spec_path.name, module=module)
        if re.search(rf"^def {re.escape(func)}\(", source, re.MULTILINE):
            continue
        if "from charter.errors import ApiError" not in source:
            source = source.rstrip("\n") + "\n\nfrom charter.errors import ApiError  # noqa: E402\n"
        summary = (op.get("summary") or f"{method.upper()} {path}").replace('"""', "'''").strip()
        source = (
            source.rstrip("\n")
            + "\n"
            + STUB.format(
                func=func,
                params=", ".join(_params(doc, doc["paths"][path], op)),
                summary=f"{summary} Scaffolded stub: answers 501 until implemented.",
                op_id=op_id,
            )
        )
        target.write_text(source)
        written.append(f"stub {op_id} in {target.relative_to(root)}")
    return written
