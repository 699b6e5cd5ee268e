"""One-off measurement: does fetch stay flat with a big history and a big future?

DESIGN's target: fetch with 1,000,000 finished and 1,000,000 future-scheduled
rows in the table within 1.2x of fetch on an empty table. This script builds
two scratch databases on the server: ``empty`` holds only ready jobs;
``loaded`` holds the same ready jobs plus ``--rows`` finished jobs (with
their executions) and ``--rows`` jobs scheduled for tomorrow onwards,
written with INSERT ... SELECT generate_series. Then it

1. prints the real plans, with EXPLAIN ANALYZE, BUFFERS and WAL, of the two
   statements ``goodjob_fetch_and_lock`` runs (the promotion of due
   scheduled jobs, and the claim), captured with ``auto_explain`` from inside
   the PL/pgSQL function, for each database and selector;
2. times ``goodjob_fetch_and_lock(max_jobs => --batch)`` in ``--rounds``
   rounds that alternate between the two databases (so a noisy neighbour
   hurts both alike): the server-side duration of each statement
   (auto_explain without ANALYZE) and the client's round trip for the call.
   Each round starts from a VACUUM, and autovacuum is off on both tables,
   so both measure the hot path itself rather than vacuum timing;

and prints a summary with the loaded/empty ratios. All jobs are in queue
``default``; the selectors are ``*`` and the queue list ``default,other``.

Usage (not part of the test suite; a few minutes with the defaults)::

    python bench/hot_path_explain.py [--server URL] [--rows 1000000]
        [--batch 100] [--rounds 10] [--fetches 20] [--ordered-ids] [--keep]

The sessions run with synchronous_commit off, so that WAL flushes, which
have nothing to do with the table's size, do not drown the measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from goodjob_pg.migrations import apply_migrations

Conn = psycopg.Connection[Any]

SELECTORS = ("*", "default,other")
STATES = ("empty", "loaded")
VACUUM = "vacuum (index_cleanup on, analyze) goodjob_jobs"
PROMOTION_MARK = "s.state = 'scheduled'"
CLAIM_MARK = "candidates as materialized"
FETCH = "select id from goodjob_fetch_and_lock(process_id => %s, queues => %s, max_jobs => %s)"


@dataclass
class Timings:
    """Per-call durations in milliseconds."""

    promotion: list[float] = field(default_factory=list)
    claim: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)


@dataclass
class Database:
    name: str
    url: str
    process_id: Any = None
    timings: dict[str, Timings] = field(default_factory=lambda: {s: Timings() for s in SELECTORS})
    # selector -> (promotion, claim): the EXPLAIN ANALYZE text, and (buffers, FPI, WAL bytes)
    plans: dict[str, tuple[str, str]] = field(default_factory=dict)
    counters: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = field(
        default_factory=dict
    )


@contextmanager
def scratch_databases(server: str, keep: bool) -> Iterator[dict[str, Database]]:
    names = {state: f"goodjob_hotpath_{os.getpid()}_{state}" for state in STATES}
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names.values():
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield {
            state: Database(name, make_conninfo(server, dbname=name))
            for state, name in names.items()
        }
    finally:
        if keep:
            print(f"\nkept databases {', '.join(names.values())}")
        else:
            with psycopg.connect(server, autocommit=True) as admin:
                for name in names.values():
                    admin.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(name)
                        )
                    )


def connect(url: str) -> Conn:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("set synchronous_commit = off")
    return conn


class AutoExplain:
    """Captures auto_explain's LOG messages on one connection."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.messages: list[str] = []
        conn.add_notice_handler(lambda diag: self.messages.append(diag.message_primary or ""))
        conn.execute("load 'auto_explain'")
        conn.execute("set auto_explain.log_nested_statements = on")
        conn.execute("set auto_explain.log_min_duration = 0")
        conn.execute("set auto_explain.log_timing = on")

    def configure(self, *, analyze: bool, fmt: str) -> None:
        flag = "on" if analyze else "off"
        for setting in ("log_analyze", "log_buffers", "log_wal"):
            self.conn.execute(f"set auto_explain.{setting} = {flag}")
        self.conn.execute(f"set auto_explain.log_format = {fmt}")

    def run(self, query: str, params: tuple[Any, ...]) -> list[str]:
        self.messages.clear()
        self.conn.execute("set client_min_messages = log")
        try:
            self.conn.execute(query, params).fetchall()
        finally:
            self.conn.execute("reset client_min_messages")
        return list(self.messages)


def statement(messages: list[str], mark: str) -> str:
    [found] = [m for m in messages if mark in m]
    return found


def duration_ms(message: str) -> float:
    return float(message.split("duration:", 1)[1].split("ms", 1)[0])


def plan_counters(message: str) -> tuple[int, int, int]:
    """Shared buffers touched (hit + read), WAL full-page images and WAL bytes of a plan."""
    plan = json.loads(message.split("plan:", 1)[1])["Plan"]
    return (
        int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"]),
        int(plan.get("WAL FPI", 0)),
        int(plan.get("WAL Bytes", 0)),
    )


def prepare(db: Database, rows: int, ready: int, *, ordered_ids: bool) -> None:
    """Migrate, load the history (if any), enqueue ``ready`` jobs, register a process.

    With ``ordered_ids`` the ready jobs get ascending ids that sort after every
    random (v4) id of the history, as time-ordered (v7) UUIDs would.
    """
    apply_migrations(db.url)
    with connect(db.url) as conn:
        conn.execute("alter table goodjob_jobs set (autovacuum_enabled = false)")
        conn.execute("alter table goodjob_executions set (autovacuum_enabled = false)")
        if rows:
            started = time.perf_counter()
            conn.execute(
                "with done as ("
                " insert into goodjob_jobs (task, state, attempts, run_at, created_at,"
                " started_at, finished_at)"
                " select 'done', 'succeeded', 1, now() - interval '2 days',"
                " now() - interval '2 days', now() - interval '1 day',"
                " now() - interval '1 day' + n * interval '1 millisecond'"
                " from generate_series(1, %s) n"
                " returning id, started_at, finished_at)"
                " insert into goodjob_executions"
                " (job_id, attempt, started_at, finished_at, outcome)"
                " select id, 1, started_at, finished_at, 'succeeded' from done",
                (rows,),
            )
            conn.execute(
                "insert into goodjob_jobs (task, state, run_at)"
                " select 'future', 'scheduled', now() + interval '1 day' + n * interval '1 second'"
                " from generate_series(1, %s) n",
                (rows,),
            )
            print(
                f"  {db.name}: wrote {rows:,} finished + {rows:,} scheduled jobs"
                f" in {time.perf_counter() - started:.1f} s"
            )
        for start in range(0, ready, 10_000):
            jobs: list[dict[str, Any]] = [
                {"task": "ready", "id": f"ffffffff-ffff-4fff-bfff-{n:012x}"}
                if ordered_ids
                else {"task": "ready"}
                for n in range(start, min(start + 10_000, ready))
            ]
            conn.execute("select goodjob_enqueue_many(%s)", (Jsonb(jobs),))
        conn.execute(VACUUM)
        db.process_id = conn.execute(
            "select goodjob_register_process(hostname => 'bench', pid => 0, queues => '*')"
        ).fetchone()[0]  # type: ignore[index]
        counts = dict(conn.execute("select state, count(*) from goodjob_jobs group by 1"))
        size = conn.execute("select pg_size_pretty(pg_total_relation_size('goodjob_jobs'))")
        print(f"  {db.name}: {counts}, goodjob_jobs {size.fetchone()[0]} with indexes")  # type: ignore[index]


def explain(db: Database, batch: int) -> None:
    """One fetch per selector with ANALYZE and BUFFERS: JSON to count, then text to print."""
    for selector in SELECTORS:
        conn = connect(db.url)  # a fresh session: a fresh PL/pgSQL plan cache
        conn.execute(VACUUM)
        auto = AutoExplain(conn)
        params = (db.process_id, selector, batch)
        auto.configure(analyze=True, fmt="json")
        messages = auto.run(FETCH, params)
        db.counters[selector] = (
            plan_counters(statement(messages, PROMOTION_MARK)),
            plan_counters(statement(messages, CLAIM_MARK)),
        )
        auto.configure(analyze=True, fmt="text")
        messages = auto.run(FETCH, params)
        db.plans[selector] = (statement(messages, PROMOTION_MARK), statement(messages, CLAIM_MARK))
        conn.close()


def timed_round(db: Database, batch: int, fetches: int) -> None:
    with connect(db.url) as conn:
        conn.execute(VACUUM)
    for selector in SELECTORS:
        params = (db.process_id, selector, batch)
        timings = db.timings[selector]
        # Server-side durations of each statement (no ANALYZE overhead).
        with connect(db.url) as conn:
            auto = AutoExplain(conn)
            auto.configure(analyze=False, fmt="text")
            for _ in range(fetches):
                messages = auto.run(FETCH, params)
                timings.promotion.append(duration_ms(statement(messages, PROMOTION_MARK)))
                timings.claim.append(duration_ms(statement(messages, CLAIM_MARK)))
        # The client's round trip for the whole call, nothing attached.
        with connect(db.url) as conn:
            conn.execute(FETCH, params).fetchall()  # warm the session's plan cache
            for _ in range(fetches):
                started = time.perf_counter()
                rows = conn.execute(FETCH, params).fetchall()
                timings.call.append((time.perf_counter() - started) * 1000)
                assert len(rows) == batch, "ran out of ready jobs"


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="URL of any database on the server; the scratch databases are created beside it",
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="finished (and scheduled) jobs")
    parser.add_argument("--batch", type=int, default=100, help="max_jobs per fetch")
    parser.add_argument("--rounds", type=int, default=10, help="alternating measurement rounds")
    parser.add_argument("--fetches", type=int, default=20, help="timed fetches per round")
    parser.add_argument(
        "--ordered-ids",
        action="store_true",
        help="give the ready jobs ascending ids after the history's (as UUIDv7 would)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    # Per selector: 2 explained fetches, then per round two passes of --fetches plus a warm-up.
    ready = len(SELECTORS) * (2 + args.rounds * (2 * args.fetches + 1)) * args.batch

    with scratch_databases(args.server, args.keep) as dbs:
        with connect(dbs["empty"].url) as conn:
            version = conn.execute("show server_version").fetchone()
        print(
            f"PostgreSQL {version[0] if version else '?'}; batch {args.batch};"
            f" {args.rounds} rounds x {args.fetches} fetches per selector and database"
        )
        prepare(dbs["empty"], 0, ready, ordered_ids=args.ordered_ids)
        prepare(dbs["loaded"], args.rows, ready, ordered_ids=args.ordered_ids)
        for db in dbs.values():
            explain(db, args.batch)
        for n in range(args.rounds):
            for state in STATES if n % 2 == 0 else reversed(STATES):
                timed_round(dbs[state], args.batch, args.fetches)

    for selector in SELECTORS:
        for state in STATES:
            promotion, claim = dbs[state].plans[selector]
            print(f"\n---- {state.upper()}, selector {selector!r}: promotion step ----")
            print(promotion)
            print(f"\n---- {state.upper()}, selector {selector!r}: claim ----")
            print(claim)

    print(
        f"\n==== summary ({args.rows:,} finished + {args.rows:,} scheduled vs none):"
        " median (p90) in ms; buffers (hit + read) and WAL of one explained fetch,"
        " as promotion + claim"
    )
    header = f"{'selector':<16}{'step':<12}{'empty':>18}{'loaded':>18}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    empty, loaded = dbs["empty"], dbs["loaded"]
    for selector in SELECTORS:
        e, f = empty.timings[selector], loaded.timings[selector]
        for step, ev, fv in (
            ("promotion", e.promotion, f.promotion),
            ("claim", e.claim, f.claim),
            ("whole call", e.call, f.call),
        ):
            me, mf = statistics.median(ev), statistics.median(fv)
            print(
                f"{selector:<16}{step:<12}{me:>9.3f} ({p90(ev):6.3f})"
                f"{mf:>9.3f} ({p90(fv):6.3f}){mf / me:>7.2f}x"
            )
        (ep, ec), (fp, fc) = empty.counters[selector], loaded.counters[selector]
        for label, i in (("buffers", 0), ("WAL FPI", 1), ("WAL bytes", 2)):
            print(f"{selector:<16}{label:<12}{f'{ep[i]} + {ec[i]}':>18}{f'{fp[i]} + {fc[i]}':>18}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
