"""The rules of each API, callable without an HTTP request: from a handler, a job or the CLI.

One package per API. A service function takes an explicit actor (charter.domain.Actor: who, for
which tenant, under which request or job) and a unit of work (the store: each `with
uow.write() as s:` is one transaction), records domain events on it (`s.record(Event(…))`, which
the commit writes as audit rows with the change), and raises domain errors (charter.domain),
never HTTP ones. Each package's `api.py` registers the API (charter.api.Api).
"""
