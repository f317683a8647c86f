"""The seven scenarios. Each starts what it needs, measures, stops it, and returns table rows.

Every request goes through Charter's security layer as a client's would: GET /v1/tenants/{id}
with a tenant-bound service token of that tenant (signature verified once, then cached; the API
key behind it checked live on every request; the tenant scope), POST /v1/tenants and GET
/v1/audit with the bootstrap admin key (platform callers only), verify and licensing's validate
without credentials (they are public)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import timeit
import uuid
from contextlib import ExitStack

from auth.apikeys import check_hash, hash_key_argon2, mint
from bench import exports, seed, servers
from bench.harness import POST_TENANT, VERIFY_RATE, Run, new_key, new_tenant, serves_auth, service_token
from bench.load import Op
from bench.report import SKIPPED, Row, Summary
from bench.servers import bearer

GET_TENANT = "GET /v1/tenants/{id}"
CREATE_TENANT = "POST /v1/tenants"
TENANT_OPS = (GET_TENANT, CREATE_TENANT)


def _tenant_rounds(run: Run, fleet: list[servers.Server]) -> dict[tuple[str, str], tuple[Summary, float | None]]:
    """Both tenant operations on every server of `fleet`, alternating; (summary, RSS) by (label, op).

    GET carries a service token bound to the tenant it reads, POST the admin key. A revision
    without auth (the baseline, or BENCH_CHARTER_ROOT at one) ignores both; it is sent another
    server's token (the peer always has auth), so that its requests are byte for byte as long as
    the others'."""
    ops, token = {}, None
    for server in fleet:  # BENCH_CHARTER_ROOT may name a revision before auth
        server.authenticates = server.authenticates and serves_auth(server)
    for server in sorted(fleet, key=lambda s: not s.authenticates):  # the baseline borrows a token
        tenant = new_tenant(server, run.tag())
        if server.authenticates:
            token = service_token(server, tenant)
        if token is None:
            raise RuntimeError("a fleet without a server that authenticates has no token to send")
        ops[server.label] = {
            GET_TENANT: Op("GET", f"/v1/tenants/{tenant}").with_headers(bearer(token)),
            CREATE_TENANT: POST_TENANT.with_headers(server.admin),
        }
    out = {}
    for name in TENANT_OPS:
        entries = [(server, ops[server.label][name]) for server in fleet]
        run.say(f"{name}: warm-up, then {run.options.rounds} rounds on {', '.join(s.label for s in fleet)}")
        run.warm(entries)
        for server, summary in zip(fleet, run.alternate(entries), strict=False):
            out[(server.label, name)] = (summary, server.peak_rss_mb())
    return out


# --------------------------------------------------------------------------------- scenario 1


def scenario_1(run: Run) -> list[Row]:
    with ExitStack() as stack:
        charter = run.start(stack, "charter", "memory", "memory://")
        peer = run.start(stack, "peer", "memory", "memory://")
        fleet = [charter, peer]
        if run.baseline is not None:
            fleet.append(run.start(stack, "baseline", "memory", "memory://"))
        servers.wait_ready(fleet)
        measured = _tenant_rounds(run, fleet)
    rows = []
    for name in TENANT_OPS:
        (mine, my_rss), (theirs, their_rss) = measured[(charter.label, name)], measured[(peer.label, name)]
        run.memory[name], run.peer_memory[name] = mine, theirs
        ratio = mine.rps / theirs.rps
        row = Row.measured(
            1, name, "charter", "memory", mine, my_rss, ratio=f"{ratio:.2f}x peer req/s", goal=">= 1.00x peer"
        )
        row.judge(ratio >= 1.0)
        rows += [row, Row.measured(1, name, "peer", "memory", theirs, their_rss)]
        if run.baseline is not None:
            rows.append(_baseline_row(run, 1, name, mine, *measured[(fleet[-1].label, name)]))
    run.notes.append(
        "scenario 1: on the memory store every created tenant stays in the worker, so the "
        "POST rows' RSS grows with the number of requests served, which differs by server"
    )
    if run.baseline is not None:
        _baseline_note(run, 1, fleet[-1])
    return rows


def _baseline_row(run: Run, scenario: int, name: str, mine: Summary, before: Summary, rss: float | None) -> Row:
    """The --baseline revision's row: Charter's req/s over its own, judged by --baseline-goal."""
    kept = mine.rps / before.rps
    store = "memory" if scenario == 1 else "postgres"
    row = Row.measured(
        scenario,
        name,
        "baseline",
        store,
        before,
        rss,
        ratio=f"charter {kept:.2f}x baseline",
        goal=f">= {run.options.baseline_goal:.2f}x baseline",
        goal_id="baseline",
    )
    row.judge(kept >= run.options.baseline_goal)
    return row


def _baseline_note(run: Run, scenario: int, baseline: servers.Server) -> None:
    assert run.baseline is not None
    run.notes.append(
        f"scenario {scenario}: baseline is Charter at {run.baseline.commit} ({run.baseline.subject[:60]}), "
        f"served from a git worktree with the same command"
        + (" on a schema its own `charter migrate` made" if baseline.store == "postgres" else "")
        + "; "
        + (
            "it has the security layer too and mints its own service token for the GET"
            if baseline.authenticates
            else "it has no security layer and ignores the Authorization header it is sent (the same "
            "bytes as Charter's requests)"
        )
        + "; its row's ratio is Charter's req/s over the baseline's"
    )


# --------------------------------------------------------------------------------- scenario 2


def scenario_2(run: Run) -> list[Row]:
    if run.pg_problem:
        return [Row(2, name, "charter", "postgres", result=f"{SKIPPED}: {run.pg_problem}") for name in TENANT_OPS]
    with ExitStack() as stack:
        charter_url = run.postgres(stack)
        fleet = [
            run.start(stack, "charter", "postgres", charter_url),
            run.start(stack, "peer", "postgres", run.postgres(stack)),
        ]
        if not run.memory:
            fleet.append(run.start(stack, "charter", "memory", "memory://"))
        else:
            run.notes.append("scenario 2: Charter on memory is scenario 1's measurement of this run")
        baseline = None
        if run.baseline is not None:
            baseline = run.start(stack, "baseline", "postgres", run.postgres(stack, run.baseline.path))
            fleet.append(baseline)
        servers.wait_ready(fleet)
        measured = _tenant_rounds(run, fleet)
        round_trip_ms = _round_trip_ms(charter_url)
    memory_get = run.memory.get(GET_TENANT) or measured[("charter/memory", GET_TENANT)][0]
    served_ms = 1000 / memory_get.rps
    run.notes.append(
        f"scenario 2: the floor under the goal: one bare psycopg round trip fetching a tenant by id "
        f"(autocommit, prepared) takes {round_trip_ms * 1000:.0f} us here, and a memory-store GET takes "
        f"{served_ms * 1000:.0f} us of the worker; a store that spent nothing on that request but this "
        f"one round trip would reach {served_ms / (served_ms + round_trip_ms):.2f}x memory; with auth on, "
        f"a GET with a service token reads the store twice (the gate's liveness check of the API key "
        f"behind the token, then the handler's tenant), both in one turn of the handler thread pool"
    )
    rows = []
    for name in TENANT_OPS:
        pg, pg_rss = measured[("charter/postgres", name)]
        peer, peer_rss = measured[("peer/postgres", name)]
        memory = run.memory.get(name) or measured[("charter/memory", name)][0]
        if ("charter/memory", name) in measured:
            rows.append(Row.measured(2, name, "charter", "memory", *measured[("charter/memory", name)]))
        ratio = pg.rps / memory.rps
        row = Row.measured(
            2, name, "charter", "postgres", pg, pg_rss, ratio=f"{ratio:.2f}x memory req/s", goal=">= 0.80x memory"
        )
        row.judge(ratio >= 0.8)
        peer_ratio = f"charter/peer {pg.rps / peer.rps:.2f}x"
        rows += [row, Row.measured(2, name, "peer", "postgres", peer, peer_rss, ratio=peer_ratio)]
        if baseline is not None:
            rows.append(_baseline_row(run, 2, name, pg, *measured[(baseline.label, name)]))
    if baseline is not None:
        _baseline_note(run, 2, baseline)
    return rows


def _round_trip_ms(url: str, samples: int = 2000) -> float:
    """Median of batches of one psycopg SELECT of a tenant by id, the least a store call can cost."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants LIMIT 1").fetchone()[0]
        batches = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(samples // 5):
                conn.execute("SELECT * FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
            batches.append((time.perf_counter() - started) * 1000 / (samples // 5))
    return statistics.median(batches)


# --------------------------------------------------------------------------------- scenario 3

VERIFY = "/v1/internal/api-keys/verify"


def _argon2_ms(samples: int) -> float:
    plaintext, _ = mint()
    stored = hash_key_argon2(plaintext)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        check_hash(plaintext, stored)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _cold_verify_ms(server: servers.Server, tenant_id: str) -> float:
    key = new_key(server, tenant_id)
    elapsed, status, answer = server.timed_call("POST", VERIFY, {"key": key})
    if status != 200 or not (answer or {}).get("valid"):
        raise RuntimeError(f"{server.label}: a fresh key did not verify: {status} {answer}")
    return elapsed


def scenario_3(run: Run) -> list[Row]:
    argon2 = _argon2_ms(5 if run.options.quick else 11)
    label = f"verify, {VERIFY_RATE}/s open loop"
    rows, cold_rows = [], []
    stores = ["sqlite"] + ([] if run.pg_problem else ["postgres"])
    for store in stores:
        with ExitStack() as stack:
            make = run.sqlite if store == "sqlite" else run.postgres
            fleet = [run.start(stack, name, store, make(stack)) for name in ("charter", "peer")]
            servers.wait_ready(fleet)
            tenants = {s.label: new_tenant(s, run.tag()) for s in fleet}
            entries = []
            for server in fleet:
                key = new_key(server, tenants[server.label])
                server.expect(200, "POST", VERIFY, {"key": key})  # pays argon2 once, outside the rounds
                entries.append((server, Op("POST", VERIFY, f'{{"key":"{key}"}}')))
            cold = {s.label: [] for s in fleet}

            def drive(server, op, duration=None, cold=cold, tenants=tenants):
                if duration is None:  # a measured round: first one cold verify of a fresh key
                    cold[server.label].append(_cold_verify_ms(server, tenants[server.label]))
                return run.open(server, op, duration)

            run.say(f"verify on {store}: warm-up, then {run.options.rounds} open-loop rounds at {VERIFY_RATE}/s")
            run.warm(entries, drive)
            charter, peer = run.alternate(entries, drive)
            rss = [s.peak_rss_mb() for s in fleet]
        row = Row.measured(
            3,
            label,
            "charter",
            store,
            charter,
            rss[0],
            ratio=f"p99 {charter.p99_ms / peer.p99_ms:.2f}x peer",
            goal="p99 <= 10 ms",
        )
        row.judge(charter.p99_ms <= 10.0)
        rows += [row, Row.measured(3, label, "peer", store, peer, rss[1])]
        for server in fleet:
            ms = statistics.median(cold[server.label])
            cold_rows.append(
                Row(
                    3,
                    "verify, first call of a fresh key",
                    server.name,
                    store,
                    p50_ms=ms,
                    ratio=f"{ms / argon2:.2f}x argon2id",
                )
            )
    if run.pg_problem:
        rows.append(Row(3, label, "charter", "postgres", result=f"{SKIPPED}: {run.pg_problem}"))
    bare = Row(3, "bare argon2id hash, in-process", "argon2id", "-", p50_ms=argon2)
    run.notes.append(
        "scenario 3: the first-call rows show the median of one call per round; p50 is that single call's time"
    )
    return rows + cold_rows + [bare]


# --------------------------------------------------------------------------------- scenario 4


def _count(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def scenario_4(run: Run) -> list[Row]:
    small, big = 1_000, (100_000 if run.options.quick else 1_000_000)
    stores = ["sqlite"] + ([] if run.pg_problem else ["postgres"])  # PostgreSQL's bulk writes last
    rows = (
        []
        if not run.pg_problem
        else [
            Row(
                4,
                f"GET /v1/audit?limit=100 ({_count(big)})",
                "charter",
                "postgres",
                result=f"{SKIPPED}: {run.pg_problem}",
            )
        ]
    )
    for store in stores:
        with ExitStack() as stack:
            fleet, entries = [], []
            for events in (small, big):
                if store == "postgres":
                    url = run.postgres(stack)
                    seeded = seed.seed_postgres(url, events)
                else:
                    url = run.sqlite(stack)
                    seeded = seed.seed_sqlite(url.removeprefix("sqlite:///"), events)
                took, low, high = seeded.seconds, seeded.low, seeded.high
                run.say(f"seeded {events:,} audit events (the platform log) on {store} in {took:.1f} s")
                run.notes.append(
                    f"scenario 4: seeding {events:,} events and their ledger rows on {store} took {took:.1f} s"
                )
                fleet.append(run.start(stack, "charter", store, url))
                entries.append(
                    (
                        fleet[-1],
                        Op("GET", f"/v1/audit?limit=100&cursor={(low + high) // 2}").with_headers(fleet[-1].admin),
                    )
                )
            servers.wait_ready(fleet)
            for server, op in entries:
                page = server.expect(200, op.method, op.path, headers=dict(op.headers))
                if len(page["items"]) != 100 or "next_cursor" not in page:
                    raise RuntimeError(f"{server.label}: {op.path} gave {len(page['items'])} events")
            run.say(
                f"audit pages on {store}: warm-up, then {run.options.rounds} rounds, {_count(small)} vs {_count(big)}"
            )
            run.warm(entries)
            few, many = run.alternate(entries)
            rss = [s.peak_rss_mb() for s in fleet]
        time_ratio, p50_ratio = few.rps / many.rps, many.p50_ms / few.p50_ms
        rows.append(Row.measured(4, f"GET /v1/audit?limit=100 ({_count(small)})", "charter", store, few, rss[0]))
        row = Row.measured(
            4,
            f"GET /v1/audit?limit=100 ({_count(big)})",
            "charter",
            store,
            many,
            rss[1],
            ratio=f"p50 {p50_ratio:.2f}x, 1/rps {time_ratio:.2f}x",
            goal=f"<= 1.50x {_count(small)}",
        )
        row.judge(max(time_ratio, p50_ratio) <= 1.5)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------- scenario 5

VALIDATE = "POST /licensing/{slug}/v1/validate"
VALIDATE_RPS_GOAL = 1000.0  # per worker, on memory
VALIDATE_PG_GOAL = 0.5  # PostgreSQL's req/s over memory's


def licensed_key(server: servers.Server, slug: str) -> tuple[str, str]:
    """A tenant `slug` with licensing, one product, one policy and a license issued under it, all
    made by the platform admin as tests/licensing/helpers.py makes them; (the license's key, the
    tenant's issuer public key in PEM). The key is checked to validate ok before it is returned."""
    tenant_id = new_tenant(server, slug)
    server.expect(201, "POST", "/v1/entitlements", {"tenant_id": tenant_id, "product": "licensing"}, server.admin)
    prefix = f"/licensing/{slug}"
    product = {"slug": "app", "name": "Bench app", "price_value": 5000, "entitlements_catalog": [{"slug": "pro"}]}
    server.expect(201, "POST", f"{prefix}/v1/admin/products", product, server.admin)
    policy = {"product_slug": "app", "slug": "standard", "name": "Standard", "entitlements": ["pro"]}
    server.expect(201, "POST", f"{prefix}/v1/admin/policies", policy, server.admin)
    issued = {"product_slug": "app", "policy_slug": "standard"}
    key = server.expect(201, "POST", f"{prefix}/v1/admin/licenses", issued, server.admin)["license_key"]
    answer = server.expect(200, "POST", f"{prefix}/v1/validate", {"key": key})
    if not answer.get("ok"):
        raise RuntimeError(f"{server.label}: a freshly issued key did not validate: {answer}")
    return key, server.expect(200, "GET", f"{prefix}/v1/pubkey")["public_key_pem"]


def verify_us(key: str, pem: str, loops: int) -> float:
    """Microseconds of one Ed25519PublicKey.verify of the key's signature over its payload, in
    this process: the median of five timeit runs of `loops` calls each."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from services.licensing.keys import split

    data, signature = split(key)
    public = load_pem_public_key(pem.encode())
    public.verify(signature, data)  # raises if the server's key did not sign it
    runs = timeit.repeat(
        "verify(signature, data)", globals={**locals(), "verify": public.verify}, number=loops, repeat=5
    )
    return statistics.median(runs) / loops * 1e6


def scenario_5(run: Run) -> list[Row]:
    """POST /licensing/{slug}/v1/validate with a valid key (no fingerprint: a read), Charter on
    memory and on PostgreSQL in alternating rounds, against 1,000 req/s per worker on memory and
    0.5x memory on PostgreSQL; and each request's worker time (1 / req/s, one worker) over one
    Ed25519 verify of that key timed in this process."""
    stores = ["memory"] + ([] if run.pg_problem else ["postgres"])
    with ExitStack() as stack:
        fleet = [
            run.start(stack, "charter", store, "memory://" if store == "memory" else run.postgres(stack))
            for store in stores
        ]
        servers.wait_ready(fleet)
        entries, pems = [], []
        for server in fleet:
            slug = run.tag()
            key, pem = licensed_key(server, slug)
            pems.append((key, pem))
            entries.append((server, Op("POST", f"/licensing/{slug}/v1/validate", json.dumps({"key": key}))))
        run.say(f"validate on {', '.join(stores)}: warm-up, then {run.options.rounds} rounds")
        run.warm(entries)
        measured = run.alternate(entries)
        rss = [s.peak_rss_mb() for s in fleet]
    verify = verify_us(*pems[0], loops=2000 if run.options.quick else 10000)
    memory = measured[0]
    rows = []
    row = Row.measured(
        5,
        VALIDATE,
        "charter",
        "memory",
        memory,
        rss[0],
        ratio=f"{memory.rps / VALIDATE_RPS_GOAL:.2f}x goal",
        goal=f">= {VALIDATE_RPS_GOAL:.0f} req/s",
    )
    row.judge(memory.rps >= VALIDATE_RPS_GOAL)
    rows.append(row)
    if run.pg_problem:
        rows.append(Row(5, VALIDATE, "charter", "postgres", result=f"{SKIPPED}: {run.pg_problem}"))
    else:
        pg = measured[1]
        ratio = pg.rps / memory.rps
        row = Row.measured(
            5,
            VALIDATE,
            "charter",
            "postgres",
            pg,
            rss[1],
            ratio=f"{ratio:.2f}x memory req/s",
            goal=f">= {VALIDATE_PG_GOAL:.2f}x memory",
        )
        row.judge(ratio >= VALIDATE_PG_GOAL)
        rows.append(row)
    overheads = []
    for store, summary in zip(stores, measured, strict=True):
        per_request = 1e6 / summary.rps
        overheads.append(f"{per_request:,.0f} us on {store} ({per_request / verify:.1f}x)")
        rows.append(
            Row(5, "validate worker time / one verify", "charter", store, ratio=f"{per_request / verify:.1f}x verify")
        )
    rows.append(Row(5, "one Ed25519 verify, in-process", "ed25519", "-", p50_ms=verify / 1000))
    run.notes.append(
        f"scenario 5: one Ed25519PublicKey.verify of the validated key's payload takes {verify:.1f} us in this "
        f"process (timeit, median of 5 x {2000 if run.options.quick else 10000} calls); a validate costs the "
        f"worker 1 / req/s = {'; '.join(overheads)}: Charter's overhead over one verify"
    )
    return rows


# --------------------------------------------------------------------------------- scenario 6

WEBHOOK_RATE_GOAL = 200.0  # deliveries/s per worker process
WEBHOOK_P50_GOAL_MS = 100.0  # commit to first attempt, idle worker


def scenario_6(run: Run) -> list[Row]:
    """Webhook deliveries on PostgreSQL (bench.webhooks, in a process of its own): one job
    worker's deliveries/s to a loopback receiver, and commit-to-first-attempt latency with the
    worker idle, woken in-process, by LISTEN/NOTIFY, and by polling alone (the peer)."""
    operation = "webhook deliveries/s, one worker"
    if run.pg_problem:
        return [Row(6, operation, "charter", "postgres", goal=">= 200/s", result=f"{SKIPPED}: {run.pg_problem}")]
    deliveries, samples = (300, 5) if run.options.quick else (2000, 10)
    command = [sys.executable, "-m", "bench.webhooks", "--json", f"--deliveries={deliveries}", f"--samples={samples}"]
    run.say(f"webhooks: {deliveries} deliveries, then {samples} idle commits per latency row")
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"bench.webhooks exited {done.returncode}: {tail[0]}")
    figures = json.loads(lines[-1])
    run.notes.append(
        f"scenario 6: {figures['cpu_ms']:.2f} ms of worker CPU, {figures['statements']:.1f} SQL statements per"
        f" delivery; {figures['connections']} receiver connections for {figures['deliveries']} deliveries"
    )
    rate = figures["rate"]
    row = Row(6, operation, "charter", "postgres", rps=rate, ratio=f"{rate / WEBHOOK_RATE_GOAL:.2f}x goal")
    row.goal = f">= {WEBHOOK_RATE_GOAL:.0f}/s"
    row.judge(rate >= WEBHOOK_RATE_GOAL)
    rows = [row]
    for latency in figures["latency"]:
        p50 = latency["p50_ms"]
        peer = "peer" in latency["label"]
        row = Row(
            6,
            f"first attempt, {latency['label'].removesuffix(' (peer)')}",
            "peer" if peer else "charter",
            "postgres",
            p50_ms=p50,
            p99_ms=latency["max_ms"],  # of a few samples: their worst
            ratio=f"{WEBHOOK_P50_GOAL_MS / p50 if p50 else float('inf'):.2f}x goal",
        )
        if not peer:
            row.goal = f"p50 <= {WEBHOOK_P50_GOAL_MS:.0f} ms"
            row.judge(p50 <= WEBHOOK_P50_GOAL_MS)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------- scenario 7

EXPORT_RSS_GOAL_MIB = 200.0  # the process that builds the bundle, at its peak
EXPORT_INCLUDES = ["audit", "licensing", "disputes", "identity", "webhooks"]


def _phase_rss(samples: list[exports.Sample], size: int) -> str:
    """The builder's resident set as the build went: idle, after the events (progress = size: the
    first half of its total), then at each quarter of the proofs."""
    marks = [("events written", size)] + [(f"{q}% of proofs", size + size * q // 100) for q in (25, 50, 75, 100)]
    out = []
    for name, done in marks:
        seen = next((s for s in samples if s.done >= done and s.rss_mib is not None), None)
        if seen is not None:
            out.append(f"{name} {seen.rss_mib:.0f} MiB at {seen.at_s:.0f} s")
    return ", ".join(out)


def scenario_7(run: Run) -> list[Row]:
    """An audit export of one tenant's 1M events (100k with --quick) on PostgreSQL: the events
    seeded with their ledger rows (bench.seed), the export asked for with POST
    /v1/compliance/audit-exports (the admin key, x-tenant-id) and built by a `charter worker`
    process, as a PostgreSQL deployment runs jobs; its progress polled until ready, the bundle
    downloaded with a fresh token and checked (bench.exports.check). The goal is the builder's
    peak RSS."""
    events = 100_000 if run.options.quick else 1_000_000
    operation = f"audit export, {_count(events)} events"
    if run.pg_problem:
        return [Row(7, operation, "charter", "postgres", result=f"{SKIPPED}: {run.pg_problem}")]
    with ExitStack() as stack:
        url = run.postgres(stack)
        data = run.root / f"data-{run.tag()}"
        env = {"CHARTER_DATA_DIR": str(data), "CHARTER_JOB_POLL_MS": "200"}
        charter = run.start(stack, "charter", "postgres", url, env)
        servers.wait_ready([charter])
        tenant_id = new_tenant(charter, run.tag())
        grant = {"tenant_id": tenant_id, "product": "compliance"}
        charter.expect(201, "POST", "/v1/entitlements", grant, charter.admin)
        seeded = seed.seed_postgres(url, events, uuid.UUID(tenant_id))
        run.say(f"seeded {events:,} audit events of one tenant with their ledger rows in {seeded.seconds:.1f} s")
        builder = run.job_worker(stack, url, env)
        time.sleep(2)  # its imports and first claim, so its idle size is what it is
        idle = builder.rss_mb()
        headers = {**charter.admin, "x-tenant-id": tenant_id}
        body = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z", "includes": EXPORT_INCLUDES}
        run.say(f"export: {seeded.size:,} events in the tenant's log, built by charter worker pid {builder.proc.pid}")
        built = exports.build(charter, headers, body, builder, timeout=3600)
        peak = builder.rss_mb("VmHWM")
        export = built.export
        served_before = charter.peak_rss_mb()
        path = run.root / f"bundle-{export['id']}.zip"
        took = exports.download(charter, headers, export["id"], path)
        served_peak = charter.peak_rss_mb()
        keys = charter.expect(200, "GET", "/v1/compliance/keys")["items"]
        run.say(f"export ready in {built.seconds:.1f} s, {export['size'] / 2**20:.0f} MiB; checking the bundle")
        checked = exports.check(path, export, keys)
        path.unlink()
    if checked.events < events:
        raise RuntimeError(f"the bundle holds {checked.events} events, fewer than the {events} seeded")
    rate = checked.events / built.seconds
    size_mib = export["size"] / 2**20
    row = Row(7, operation, "charter", "postgres", rps=rate, rss_mib=peak)
    row.ratio = f"RSS {peak / EXPORT_RSS_GOAL_MIB:.2f}x goal" if peak else "RSS unknown"
    row.goal = f"RSS <= {EXPORT_RSS_GOAL_MIB:.0f} MiB"
    row.judge(peak is not None and peak <= EXPORT_RSS_GOAL_MIB)
    download_row = Row(
        7, "its bundle downloaded", "charter", "postgres", rss_mib=served_peak, ratio=f"{size_mib / took:.0f} MiB/s"
    )
    run.notes += [
        f"scenario 7: req/s is events/s: {checked.events:,} events (the seeded {events:,} and the tenant's own) "
        f"built into a {size_mib:.0f} MiB bundle ({export['size'] / checked.events:.0f} bytes an event) in "
        f"{built.seconds:.1f} s, POST to ready as polled every 0.5 s; seeding them took {seeded.seconds:.1f} s",
        f"scenario 7: the builder is the `charter worker` process (on PostgreSQL `charter serve` runs no jobs); "
        f"its RSS {idle or 0:.0f} MiB idle, peak {peak or 0:.0f} MiB; as the build went: "
        f"{_phase_rss(built.samples, checked.events)}",
        f"scenario 7: the download (gunicorn worker, RSS peak {served_before or 0:.0f} MiB before it, "
        f"{served_peak or 0:.0f} MiB after) took {took:.1f} s; the bundle checked in {checked.seconds:.1f} s: "
        f"file digest, manifest signature, every artifact and SHA256SUMS line ({checked.sums_lines:,}), the "
        f"checkpoint note, all {checked.events:,} leaves against its root, {checked.proofs:,} proofs counted "
        f"and {checked.sampled:,} verified",
    ]
    return [row, download_row]


ALL = {1: scenario_1, 2: scenario_2, 3: scenario_3, 4: scenario_4, 5: scenario_5, 6: scenario_6, 7: scenario_7}
