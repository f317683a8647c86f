"""`charter verify-pack FILE [--key VKEY]`: check a ledger verifier pack offline, with no server
(services.compliance.pack). Prints the verdict as JSON; exit status 0 when it verifies, 1 when
it does not, 2 when FILE is no pack."""

from __future__ import annotations

import json
import sys

from charter.domain import Invalid
from services.compliance import pack


def verify_file(path: str, key: str | None) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        result = pack.verify(document, key)
    except (OSError, ValueError) as exc:
        print(f"charter verify-pack: {path}: {exc}", file=sys.stderr)
        return 2
    except Invalid as exc:
        print(f"charter verify-pack: {path}: {exc.message}", file=sys.stderr)
        return 2
    if key is None:
        result["guidance"] += (
            " (Checked with the pack's own key: pass --key with the published one to know who signed.)"
        )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1
