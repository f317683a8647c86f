"""python -m bench: Charter against its peer (FastAPI + pydantic), same load, same run.

Prints the environment, one table (req/s, p50/p99, peak RSS of the gunicorn worker, ratio, goal)
and the goals met or missed. Progress goes to stderr. Exits 1 when any row saw a non-2xx answer
or a socket error: such numbers are not a benchmark of the operation.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from pathlib import Path

from bench import databases, load, report, servers, worktree
from bench.harness import OPEN_LOOP_CONNECTIONS, VERIFY_RATE, Options, Run
from bench.scenarios import ALL


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=8, help="seconds per measured round (default 8)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per server, medians reported (default 3)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument(
        "--scenario",
        type=int,
        action="append",
        choices=sorted(ALL),
        help="run only this scenario (repeatable; default all)",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke test: 2 s rounds, 1 round, 100k instead of 1M audit events"
    )
    p.add_argument(
        "--peer-async",
        action="store_true",
        help="peer endpoints `async def`, handlers run on the event loop (default `def`, threadpool)",
    )
    p.add_argument(
        "--peer-no-response-model",
        action="store_true",
        help="peer endpoints declare no response_model (it then neither validates nor re-serialises answers)",
    )
    p.add_argument("--no-wrk", action="store_true", help="use the Python load generator even if wrk is installed")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (access logs, SQLite files)")
    p.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve Charter at git revision REV (a worktree in the temp dir) in scenario 1's "
        "rounds (memory) and scenario 2's (PostgreSQL), and judge Charter's req/s against it (--baseline-goal)",
    )
    p.add_argument(
        "--baseline-goal",
        type=float,
        default=0.90,
        metavar="X",
        help="with --baseline: Charter must reach X times its req/s (default 0.90)",
    )
    args = p.parse_args(argv)
    if args.baseline and args.scenario and not {1, 2} & set(args.scenario):
        p.error("--baseline is measured in scenarios 1 and 2: add --scenario 1 or --scenario 2")
    if args.quick:
        args.duration, args.rounds = min(args.duration, 2), 1
    if args.duration < 1 or args.rounds < 1 or args.connections < 1:
        p.error("--duration, --rounds and --connections must be at least 1")
    return args


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=servers.CHARTER_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=servers.CHARTER_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "unknown"


def header(
    options: Options, pg_problem: str | None, baseline: worktree.Checkout | None = None, token_ttl: int | None = None
) -> str:
    wrk = load.wrk_version() if options.use_wrk else None
    driver = (
        f"wrk {wrk} (-t{min(2, options.connections)} -c{options.connections})"
        if wrk
        else f"Python asyncio client, {options.connections} connections (wrk not used)"
    )
    pg = pg_problem or f"PostgreSQL {databases.postgres_version()}"
    return "\n".join(
        [
            f"Charter benchmark, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
            f"  host      {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}",
            f"  servers   charter {_git()}{'' if servers.CHARTER_ROOT == servers.ROOT else f' at {servers.CHARTER_ROOT}'}; "
            f"peer bench/peer.py (FastAPI, `{'async def' if options.peer_endpoints == 'async' else 'def'}` endpoints, "
            f"{'with' if options.peer_response_models else 'no'} response_model); one gunicorn worker (uvicorn) each",
            *(
                [
                    f"  baseline  charter {baseline.commit} ({baseline.subject[:70]}), from a git worktree "
                    f"at {baseline.path}, scenarios 1 and 2"
                ]
                if baseline
                else []
            ),
            "  auth      CHARTER_ADMIN_KEY set; GET tenant with a tenant-bound service token (API key with "
            "tenants:read, exchanged at /v1/auth/token), POST tenant and GET audit with the admin key, "
            "verify and licensing validate public"
            + (f"; CHARTER_SERVICE_TOKEN_TTL={token_ttl} (the rounds outlast the default)" if token_ttl else ""),
            f"  load      {driver}; scenario 3: asyncio open loop, {VERIFY_RATE} req/s over "
            f"{OPEN_LOOP_CONNECTIONS} connections",
            f"  rounds    {options.rounds} x {options.duration} s per server, alternating, medians"
            + (" (--quick)" if options.quick else "")
            + "; spread = (max - min) / median of the rounds' req/s",
            f"  postgres  {pg}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every server is stopped and every schema dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    options = Options(
        duration=args.duration,
        rounds=args.rounds,
        connections=args.connections,
        quick=args.quick,
        use_wrk=not args.no_wrk and shutil.which("wrk") is not None,
        peer_endpoints="async" if args.peer_async else "def",
        peer_response_models=not args.peer_no_response_model,
        baseline_goal=args.baseline_goal,
    )
    chosen = sorted(set(args.scenario or ALL))
    root = Path(tempfile.mkdtemp(prefix="charter-bench-"))
    rows: list[report.Row] = []
    failed = False
    cleanup = ExitStack()  # the baseline's worktree, removed before the temp dir (also with --keep)
    try:
        baseline = cleanup.enter_context(worktree.checkout(args.baseline, root)) if args.baseline else None
    except RuntimeError as exc:
        cleanup.close()
        shutil.rmtree(root, ignore_errors=True)
        print(f"--baseline {args.baseline}: {exc}", file=sys.stderr)
        return 2
    run = Run(options, root, baseline)
    try:
        run.pg_problem = databases.postgres_problem()
        print(header(options, run.pg_problem, baseline, options.token_ttl), flush=True)
        for number in chosen:
            run.say(f"scenario {number}")
            try:
                rows += ALL[number](run)
            except Exception as exc:  # one broken scenario must not hide the others' numbers
                failed = True
                run.notes.append(f"FAIL scenario {number}: {type(exc).__name__}: {exc}")
                rows.append(report.Row(number, "(scenario aborted)", "-", "-", result=f"{report.FAIL}: see notes"))
    finally:
        cleanup.close()
        keep = args.keep or failed or any(n.startswith("FAIL") for n in run.notes)
        if keep:
            run.notes.append(f"logs and files kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(report.table(rows))
    print()
    print(report.goal_lines(rows, chosen))
    if run.notes:
        print()
        print("notes")
        for note in run.notes:
            print(f"  - {note}")
    failed = (
        failed or any(r.result.startswith(report.FAIL) for r in rows) or any(n.startswith("FAIL") for n in run.notes)
    )
    if failed:
        print("\nFAIL: some requests were not answered 2xx, or a scenario broke; see the rows marked FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
