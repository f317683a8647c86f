"""python -m bench.webhooks: webhook deliveries on PostgreSQL, against the issue's goals.

A receiver in a process of its own on loopback answers 200 at once and notes when each delivery
arrived. Throughput: N events are committed first (not timed; each makes one delivery), then one
job worker (what one `charter worker` process runs) drains them; deliveries per second from its
start to the last one delivered (goal >= 200/s), and the CPU time the worker's process spent per
delivery (steadier than the rate on a machine shared with other work: it bounds what one core
can deliver). Latency: with the worker idle (its poll backed
off to CHARTER_JOB_POLL_MS, 1 s), K events are committed one at a time, each after the last has
arrived; commit-to-first-attempt is arrival minus the moment the commit returned (goal p50 <=
100 ms). It is measured three ways in the same run: woken in-process (the commit's own process:
`charter serve`'s worker), woken by LISTEN/NOTIFY only (as a `charter worker` in another process
is), and by polling alone (neither: the peer the wake-ups are measured against).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import databases
from charter.config import Settings
from charter.domain import ADMIN_KEY, Actor
from charter.runtime import Services
from store import open_store, unit_of_work

GOAL_RATE = 200.0
GOAL_P50_MS = 100.0
SECRET_KEY = "YmVuY2gtd2ViaG9va3Mtc2VhbGluZy1rZXktMzJieXQ="


def _serve(port_out, arrivals) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            arrivals.put((self.headers["webhook-id"], time.time(), self.client_address[1]))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


def _count_statements():
    """A function giving how many SQL statements this process has sent since this call."""
    import sqlalchemy as sa

    count = [0]

    def seen(*_args) -> None:
        count[0] += 1

    for name in ("before_cursor_execute", "begin", "commit", "rollback"):
        sa.event.listen(sa.engine.Engine, name, seen)
    return lambda: count[0]


def _services(url: str, store):
    from charter import app as spine
    from server.apis import APIS
    from server.app import build_services

    env = {
        "DATABASE_URL": url,
        "CHARTER_SECRET_KEY": SECRET_KEY,
        "CHARTER_WEBHOOK_ALLOW_PRIVATE": "1",
        "CHARTER_JOB_POLL_MS": "1000",
    }
    settings = Settings.from_env(env)
    services: Services = build_services(settings, store)
    spine.build_components(list(APIS), services)
    return settings, services


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.splitlines()[0])
    p.add_argument("--deliveries", type=int, default=2000, help="for throughput (default 2000)")
    p.add_argument("--samples", type=int, default=20, help="commits per latency row (default 20)")
    p.add_argument("--concurrency", type=int, default=16, help="the worker's concurrency (default 16)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object (for python -m bench)")
    args = p.parse_args(argv)
    if problem := databases.postgres_problem():
        print(json.dumps({"problem": problem}) if args.json else f"cannot run: PostgreSQL: {problem}")
        return 2
    from server import jobs as server_jobs
    from services.registry import api_keys, tenants
    from services.webhooks import endpoints
    from services.webhooks.endpoints import Webhooks

    ctx = multiprocessing.get_context("spawn")
    port_q, arrivals = ctx.Queue(), ctx.Queue()
    receiver = ctx.Process(target=_serve, args=(port_q, arrivals), daemon=True)
    receiver.start()
    port = port_q.get(timeout=30)
    with databases.postgres_schema("webhooks") as url:
        from store.sql.migrate import upgrade

        upgrade(url)
        store = open_store(url)
        settings, services = _services(url, store)
        platform = Actor(ADMIN_KEY, "bench")
        tenant = tenants.create(store, platform, slug="bench-hooks", name="Bench")
        actor = Actor(ADMIN_KEY, "bench", tenant_id=tenant.id)
        endpoints.create(store, actor, services.get(Webhooks), url=f"http://127.0.0.1:{port}/in")

        def event() -> None:
            api_keys.create(store, actor, tenant_id=tenant.id, name="bench")

        def drain(count: int, timeout: float = 300) -> list[tuple[str, float, int]]:
            got = [arrivals.get(timeout=timeout) for _ in range(count)]
            return got

        from server.apis import APIS

        saved = list(unit_of_work.AFTER_COMMIT)
        unit_of_work.AFTER_COMMIT.clear()  # throughput: the queue full before the worker starts
        for _ in range(args.deliveries):
            event()
        worker = server_jobs.job_worker(services, list(APIS), args.concurrency)
        statements = _count_statements()
        started, cpu = time.perf_counter(), time.process_time()
        worker.start()
        got = drain(args.deliveries)
        rate = args.deliveries / (time.perf_counter() - started)
        cpu_ms = (time.process_time() - cpu) * 1000 / args.deliveries
        per_delivery = statements() / args.deliveries
        connections = len({port for _, _, port in got})

        rows = []
        for label, in_process, notify in (
            ("woken in-process", True, True),
            ("LISTEN/NOTIFY only", False, True),
            ("polling only (peer)", False, False),
        ):
            unit_of_work.AFTER_COMMIT[:] = saved if in_process else []
            if not notify:
                from store.sql import deliveries as sql_deliveries

                sql_deliveries._NOTIFY_ON = False
            time.sleep(2.5)  # idle: the poll backs off to its longest sleep
            rng = random.Random(7)
            latencies = []
            for _ in range(args.samples):
                event()
                committed = time.time()
                ((_, arrived, _),) = drain(1)
                latencies.append((arrived - committed) * 1000)
                time.sleep(rng.uniform(1.6, 3.0))  # idle again, at a point of its poll chosen at random
            rows.append((label, statistics.median(latencies), max(latencies)))
        worker.stop(30)
        store.close()
    receiver.kill()
    if args.json:
        figures = {
            "postgres": databases.postgres_version(),
            "concurrency": args.concurrency,
            "deliveries": args.deliveries,
            "rate": rate,
            "cpu_ms": cpu_ms,
            "statements": per_delivery,
            "connections": connections,
            "latency": [{"label": label, "p50_ms": p50, "max_ms": worst} for label, p50, worst in rows],
        }
        print(json.dumps(figures))
        return 0
    print(f"PostgreSQL {databases.postgres_version()}, one worker, concurrency {args.concurrency}")
    print(f"throughput: {rate:8.0f} deliveries/s   goal {GOAL_RATE:.0f}/s   ratio {rate / GOAL_RATE:5.2f}")
    print(f"worker CPU: {cpu_ms:8.2f} ms/delivery (one core: at most {1000 / cpu_ms:.0f}/s)")
    print(
        f"per delivery: {per_delivery:.2f} SQL statements (BEGIN and COMMIT included);"
        f" {connections} connections for {args.deliveries} deliveries"
    )
    for label, p50, worst in rows:
        print(
            f"latency {label:<22} p50 {p50:7.1f} ms  max {worst:7.1f} ms   goal p50 {GOAL_P50_MS:.0f} ms"
            f"   ratio {GOAL_P50_MS / p50 if p50 else float('inf'):5.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
