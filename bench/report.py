"""Rows of results and the one table layout every run prints."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.load import Result

MET, MISSED, SKIPPED, FAIL = "met", "missed", "skipped", "FAIL"


@dataclass
class Summary:
    """The medians of several rounds, and everything that went wrong in any of them."""

    rps: float
    p50_ms: float
    p99_ms: float
    spread: float  # (max - min) / median of the rounds' req/s, in percent: how noisy they were
    rounds: int
    requests: int
    non_2xx: int
    errors: int

    @classmethod
    def of(cls, results: list[Result]) -> Summary:
        return cls(
            rps=statistics.median(r.rps for r in results),
            spread=(max(r.rps for r in results) - min(r.rps for r in results))
            / max(statistics.median(r.rps for r in results), 1e-9)
            * 100,
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
            rounds=len(results),
            requests=sum(r.requests for r in results),
            non_2xx=sum(r.non_2xx for r in results),
            errors=sum(r.errors for r in results),
        )

    @property
    def failure(self) -> str:
        """Empty when every request of every round answered 2xx."""
        problems = []
        if self.non_2xx:
            problems.append(f"{self.non_2xx} non-2xx")
        if self.errors:
            problems.append(f"{self.errors} socket errors")
        return f"{FAIL}: {', '.join(problems)}" if problems else ""


@dataclass
class Row:
    scenario: int
    operation: str
    server: str
    store: str
    rps: float | None = None
    spread: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mib: float | None = None
    ratio: str = ""
    goal: str = ""
    result: str = ""  # met / missed / skipped / FAIL: … / "" (no goal)
    goal_id: str = ""  # "": the scenario's goal (GOALS); else one of EXTRA_GOALS

    @classmethod
    def measured(
        cls, scenario: int, operation: str, server: str, store: str, summary: Summary, rss_mib: float | None, **extra
    ) -> Row:
        row = cls(
            scenario,
            operation,
            server,
            store,
            summary.rps,
            summary.spread if summary.rounds > 1 else None,
            summary.p50_ms,
            summary.p99_ms,
            rss_mib,
            **extra,
        )
        if summary.failure:
            row.result = summary.failure
        return row

    def judge(self, ok: bool) -> None:
        """Record whether the goal was met, unless the row already failed."""
        if not self.result.startswith(FAIL):
            self.result = MET if ok else MISSED


COLUMNS = [  # (title, width, align)
    ("#", 1, "<"),
    ("operation", 34, "<"),
    ("server", 8, "<"),
    ("store", 8, "<"),
    ("req/s", 7, ">"),
    ("spread", 6, ">"),
    ("p50 ms", 7, ">"),
    ("p99 ms", 7, ">"),
    ("RSS MiB", 7, ">"),
    ("ratio", 22, "<"),
    ("goal", 17, "<"),
    ("result", 0, "<"),
]


def _number(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"


def _cells(row: Row) -> list[str]:
    return [
        str(row.scenario),
        row.operation,
        row.server,
        row.store,
        _number(row.rps, 0),
        "-" if row.spread is None else f"{row.spread:.0f}%",
        _number(row.p50_ms, 2),
        _number(row.p99_ms, 2),
        _number(row.rss_mib, 0),
        row.ratio or "-",
        row.goal or "-",
        row.result or "-",
    ]


def _line(cells: list[str]) -> str:
    parts = []
    for text, (_, width, align) in zip(cells, COLUMNS, strict=False):
        parts.append(f"{text:{align}{width}}" if width else text)
    return "  ".join(parts).rstrip()


def table(rows: list[Row]) -> str:
    header = _line([title for title, _, _ in COLUMNS])
    lines = [header, "-" * len(header)]
    last = None
    for row in rows:
        if last is not None and row.scenario != last:
            lines.append("")
        lines.append(_line(_cells(row)))
        last = row.scenario
    return "\n".join(lines)


GOALS = {
    1: "Charter >= 1.00x peer req/s, on both operations",
    2: "Charter on PostgreSQL >= 0.80x Charter on memory, req/s",
    3: "verify p99 <= 10 ms at 200 req/s (Charter, every store)",
    4: "audit page at 1M events <= 1.50x the 1k-event time",
    5: "licensing validate >= 1000 req/s on memory, PostgreSQL >= 0.50x memory",
    6: "webhooks: >= 200 deliveries/s per worker, commit-to-attempt p50 <= 100 ms",
    7: "audit export of 1M events on PostgreSQL: the builder's peak RSS <= 200 MiB",
}


# Goals some runs add to scenarios: goal_id -> (scenarios, text). Listed only when a row has them.
EXTRA_GOALS = {
    "baseline": ((1, 2), "Charter >= --baseline-goal x the --baseline revision's req/s, on both operations"),
}


def _verdict(judged: list[str]) -> str:
    if any(r.startswith(FAIL) for r in judged):
        return "FAIL (non-2xx or errors: numbers not valid)"
    if any(r == MISSED for r in judged):
        return MISSED
    if judged and all(r == MET for r in judged):
        return MET
    if any(r.startswith(SKIPPED) for r in judged):
        return SKIPPED
    return "not judged"


def goal_lines(rows: list[Row], scenarios: list[int]) -> str:
    out = ["goals"]
    for number in scenarios:
        judged = [r.result for r in rows if r.scenario == number and r.goal and not r.goal_id]
        out.append(f"  {number}  {GOALS[number]:<64}  {_verdict(judged)}")
        for goal_id, (extended, text) in EXTRA_GOALS.items():
            extra = [r.result for r in rows if r.scenario == number and number in extended and r.goal_id == goal_id]
            if extra:
                out.append(f"  {number}  {text:<64}  {_verdict(extra)}")
    return "\n".join(out)
