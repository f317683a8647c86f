"""`charter fuzz`: schemathesis, every check and phase, over every operation of the served specs.

Without --url it serves the app in-process on a free loopback port, over the store DATABASE_URL
names, and fuzzes that with a bootstrap key (CHARTER_ADMIN_KEY, or a fresh one made for the run)
as its credential, so every operation is reached with valid auth and `ignored_auth` checks that
each non-public one refuses requests without it. With --url, give the credential with --header.
Generation is schemathesis's default, NUL in strings included: the served document says which
strings may not hold it (charter.text). Each request gets an Idempotency-Key of its own
(tools.fuzz_hooks), as the contract asks of every client.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

PHASES = "examples,coverage,fuzzing,stateful"
HOOKS = "tools.fuzz_hooks"  # a fresh Idempotency-Key per request (see the module)


@dataclass
class FuzzResult:
    returncode: int
    output: str
    cases: dict[str, dict[str, int]] = field(default_factory=dict)  # operation -> phase -> cases
    failed: dict[str, int] = field(default_factory=dict)  # operation -> failing scenarios
    operations_total: int = 0

    def total(self, label: str) -> int:
        return sum(self.cases.get(label, {}).values())

    def table(self) -> str:
        phases = ["coverage", "fuzzing", "stateful"]
        rows = [f"{'operation':45} " + " ".join(f"{p:>9}" for p in phases) + f" {'total':>7} {'failed':>6}"]
        for label in sorted(self.cases):
            per = self.cases[label]
            rows.append(
                f"{label:45} "
                + " ".join(f"{per.get(p, 0):>9}" for p in phases)
                + f" {self.total(label):>7} {self.failed.get(label, 0):>6}"
            )
        total = sum(self.total(label) for label in self.cases)
        rows.append(
            f"{len(self.cases)}/{self.operations_total} operations, {total} cases, "
            f"{sum(self.failed.values())} failing scenarios"
        )
        return "\n".join(rows)


def command(
    base_url: str, max_examples: int, seed: int | None, report_dir: str, extra: list[str], headers: list[str] = ()
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--continue-on-failure",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-dir",
        report_dir,
        "--no-color",
    ]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    for header in headers:
        cmd += ["--header", header]
    return cmd + list(extra)


def summarize(report: Path, result: FuzzResult) -> None:
    """Fill per-operation case counts and failures from schemathesis' NDJSON event stream."""
    cases: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with open(report, encoding="utf-8") as fh:
        for line in fh:
            event = json.loads(line)
            if "LoadingFinished" in event:
                stats = event["LoadingFinished"].get("statistic", {}).get("operations", {})
                result.operations_total = stats.get("selected", 0)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            phase = finished.get("phase") or "stateful"
            if phase == "stateful":
                # one stateful scenario spans many operations: count each case under its own
                for case in recorder.get("cases", {}).values():
                    value = case.get("value", {})
                    cases[f"{value.get('method', '?').upper()} {value.get('path', '?')}"]["stateful"] += 1
            else:
                cases[recorder["label"]][phase] += len(recorder.get("cases", {}))
            if finished.get("status") in ("failure", "error"):
                result.failed[recorder.get("label") or "stateful"] = (
                    result.failed.get(recorder.get("label") or "stateful", 0) + 1
                )
    result.cases = {label: dict(per) for label, per in cases.items()}


def _schemathesis(
    base: str, max_examples: int, seed: int | None, extra: list[str], echo: bool, headers: list[str]
) -> FuzzResult:
    with tempfile.TemporaryDirectory() as report_dir:
        proc = subprocess.run(
            command(base, max_examples, seed, report_dir, extra, headers),
            env={**os.environ, "SCHEMATHESIS_HOOKS": HOOKS},
            text=True,
            capture_output=True,
            check=False,
        )
        if echo:
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
        result = FuzzResult(proc.returncode, proc.stdout + proc.stderr)
        reports = sorted(Path(report_dir).glob("*.ndjson"))
        if reports:
            summarize(reports[-1], result)
    return result


def _thin_operations(spec: dict, result: FuzzResult, want: int) -> list[str]:
    """operationIds of operations that take input but got fewer than `want` distinct cases.

    When earlier responses fill schemathesis' resource pool, it draws ids from that small pool
    and sends few distinct requests to an operation such as DELETE /things/{id}.
    """
    from charter.specs import operations

    return [
        op["operationId"]
        for method, path, op in operations(spec)
        if (op.get("parameters") or op.get("requestBody")) and result.total(f"{method.upper()} {path}") < want
    ]


def run(
    url: str | None = None,
    names=(),
    max_examples: int = 50,
    seed: int | None = None,
    extra: list[str] | None = None,
    app=None,
    echo: bool = True,
    headers: list[str] = (),
) -> FuzzResult:
    """Fuzz `url`, or else `app`, or else a new app over DATABASE_URL, sending `headers` (say, the
    credential) with every request; a new app gets a bootstrap key and sends it.

    After the full run (every phase, every check), operations that take input but received
    fewer than `max_examples` distinct cases get a fuzzing pass of their own, so each one is
    exercised at least that often.
    """
    import httpx

    from auth.settings import AuthSettings
    from charter.config import Settings
    from server.app import create_app
    from tools.server import running

    headers = list(headers)
    if url:
        serving = nullcontext(url.rstrip("/"))
    else:
        if app is None:
            settings = Settings.from_env()
            admin_key = AuthSettings.from_env(settings.env).admin_key
            if admin_key is None:
                admin_key = secrets.token_urlsafe(32)
                settings = settings.with_env(CHARTER_ADMIN_KEY=admin_key)
            app = create_app(names, settings=settings)
            headers.append(f"Authorization: Bearer {admin_key}")
        serving = running(app)
    with serving as base:
        result = _schemathesis(base, max_examples, seed, list(extra or []), echo, headers)
        spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
        thin = _thin_operations(spec, result, max_examples)
        if thin:
            top_up = []
            for op_id in thin:
                top_up += ["--include-operation-id", op_id]
            more = _schemathesis(
                base, max_examples, seed, [*top_up, "--phases", "fuzzing", *(extra or [])], echo, headers
            )
            for label, per in more.cases.items():
                merged = result.cases.setdefault(label, {})
                merged["fuzzing"] = merged.get("fuzzing", 0) + per.get("fuzzing", 0)
            for label, count in more.failed.items():
                result.failed[label] = result.failed.get(label, 0) + count
            result.returncode = result.returncode or more.returncode
            result.output += more.output
    return result
