"""The fetch hot path stays flat as history and the future grow.

DESIGN, principle 4: only partial indexes over live jobs serve fetch, so
finished jobs and future-scheduled jobs must not slow it down. The claim and
promotion statements run inside ``goodjob_fetch_and_lock`` (PL/pgSQL), so
their real plans, with actual rows and buffers, are captured with
``auto_explain`` (nested statements, ANALYZE, BUFFERS, JSON) sent to the
client as LOG notices.

The same number of fresh ready jobs is fetched with an empty table, with N/2
and with N finished plus as many future-scheduled rows: the claim must walk
a ready index only (no filtered rows, no sequential scan) and the rows and
buffers its scan touches must not grow with N. Every job is in the queue
'default' on purpose: with one dominant queue the planner once served the
queue-list fetch ('default,other') by filtering an all-queues index (since
removed), reading every ready job to find none for 'other'. The write side
(new row versions entering the primary key, which holds every row) costs one
more B-tree level per claimed row once the table is large; that is bounded per
claimed job, not per stored row. ``bench/hot_path_explain.py`` does the same
with 1,000,000 + 1,000,000 rows and prints timings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]
Connect = Callable[..., Conn]

N = 200_000
READY = 1_500
MAX_JOBS = 100
FETCHES = 7  # PL/pgSQL switches to a generic plan after 5 executions: cover both
# Every selector walks the per-queue ready index ('*' and '-a,b' once per
# known queue name): there is no all-queues index to filter.
QUEUE_INDEX = "goodjob_jobs_queue_priority_run_at_id_idx"
PROMOTE_INDEX = "goodjob_jobs_run_at_idx"

# Measure from a clean state: on a big table VACUUM may skip index cleanup
# when few pages have dead rows (PostgreSQL 14+), which would leave the ready
# index full of the dead entries of earlier claims, a cost of throughput since
# the last vacuum rather than of the table's size.
VACUUM = "vacuum (index_cleanup on, analyze) goodjob_jobs"

AUTO_EXPLAIN = (
    "auto_explain.log_nested_statements = on",
    "auto_explain.log_min_duration = 0",
    "auto_explain.log_analyze = on",
    "auto_explain.log_buffers = on",
    "auto_explain.log_timing = off",
    "auto_explain.log_format = json",
)


@dataclass
class Plan:
    query: str
    root: dict[str, Any]

    def nodes(self, node: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        node = self.root if node is None else node
        yield node
        for child in node.get("Plans", []):
            yield from self.nodes(child)

    def subplan(self, name: str) -> dict[str, Any]:
        [node] = [n for n in self.nodes() if n.get("Subplan Name") == f"CTE {name}"]
        return node


def buffers(node: dict[str, Any]) -> int:
    """Shared buffers a plan node (with its children) touched: hits plus reads."""
    return int(node["Shared Hit Blocks"]) + int(node["Shared Read Blocks"])


def fetch_plans(conn: Conn, process_id: Any, selector: str) -> list[tuple[Plan, Plan]]:
    """Fetch FETCHES batches; return the (promotion, claim) plans of each call."""
    messages: list[str] = []
    conn.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
    conn.execute("load 'auto_explain'")
    for setting in AUTO_EXPLAIN:
        conn.execute(f"set {setting}")
    calls = []
    for _ in range(FETCHES):
        messages.clear()
        conn.execute("set client_min_messages = log")
        claimed = conn.execute(
            "select count(*) from goodjob_fetch_and_lock(process_id => %s, queues => %s,"
            " max_jobs => %s)",
            (process_id, selector, MAX_JOBS),
        ).fetchone()
        conn.execute("reset client_min_messages")
        assert claimed == (MAX_JOBS,)
        plans = [
            Plan(doc["Query Text"], doc["Plan"])
            for doc in (json.loads(m.split("plan:", 1)[1]) for m in messages if "plan:" in m)
        ]
        [promotion] = [p for p in plans if "s.state = 'scheduled'" in p.query]
        [claim] = [p for p in plans if "candidates as materialized" in p.query]
        calls.append((promotion, claim))
    return calls


def check_reads_only_ready_rows(calls: list[tuple[Plan, Plan]], index: str) -> None:
    """Every claim walked ``index`` and kept every row it read; promotion probed its index."""
    for promotion, claim in calls:
        scans = [n for n in claim.nodes(claim.subplan("candidates")) if "Relation Name" in n]
        assert [(n["Node Type"], n.get("Index Name")) for n in scans] == [("Index Scan", index)]
        assert scans[0].get("Rows Removed by Filter", 0) == 0
        assert scans[0]["Actual Rows"] * scans[0]["Actual Loops"] == MAX_JOBS
        assert not [n for n in claim.nodes() if n["Node Type"] == "Seq Scan"]
        # Promotion with nothing due: one probe of the scheduled index.
        promo_scans = [n for n in promotion.nodes() if "Scan" in n["Node Type"]]
        assert ("Index Scan", PROMOTE_INDEX) in [
            (n["Node Type"], n.get("Index Name")) for n in promo_scans
        ]
        assert not [n for n in promotion.nodes() if n["Node Type"] == "Seq Scan"]
        assert promotion.root["Actual Rows"] == 0


def measure(db_connect: Connect, process_id: Any) -> dict[str, list[tuple[Plan, Plan]]]:
    """Fetch with each selector on a fresh session (fresh plan cache), after VACUUM."""
    result = {}
    for selector in ("*", "default,other"):
        conn = db_connect()
        conn.execute(VACUUM)
        result[selector] = fetch_plans(conn, process_id, selector)
        conn.close()
    return result


def prepare(conn: Conn, history: int) -> None:
    """Add ``history`` finished and ``history`` future jobs, then READY fresh ready jobs.

    The jobs claimed by an earlier measurement are deleted first, so every
    measurement fetches READY freshly enqueued jobs laid out alike. History
    is written straight into the tables with one INSERT ... SELECT each;
    finished jobs get their executions, as a real history has.
    """
    conn.execute(
        "delete from goodjob_executions where job_id in"
        " (select id from goodjob_jobs where state in ('queued', 'running'))"
    )
    conn.execute("delete from goodjob_jobs where state in ('queued', 'running')")
    if history:
        conn.execute(
            "with done as ("
            " insert into goodjob_jobs (task, state, attempts, run_at, created_at, started_at,"
            " finished_at)"
            " select 'done', 'succeeded', 1, now() - interval '2 days', now() - interval '2 days',"
            " now() - interval '1 day', now() - interval '1 day' + n * interval '1 millisecond'"
            " from generate_series(1, %s) n"
            " returning id, started_at, finished_at)"
            " insert into goodjob_executions (job_id, attempt, started_at, finished_at, outcome)"
            " select id, 1, started_at, finished_at, 'succeeded' from done",
            (history,),
        )
        conn.execute(
            "insert into goodjob_jobs (task, state, run_at)"
            " select 'future', 'scheduled', now() + interval '1 day' + n * interval '1 second'"
            " from generate_series(1, %s) n",
            (history,),
        )
    # Freed space goes back to the free space map, so each set of ready jobs
    # lands where the previous one was.
    conn.execute(VACUUM)
    conn.execute(
        "select goodjob_enqueue_many(%s)",
        (Jsonb([{"task": "ready", "args": [n]} for n in range(READY)]),),
    )


@pytest.mark.slow
def test_fetch_reads_only_ready_rows_whatever_the_history(
    db_conn: Conn, db_connect: Connect
) -> None:
    process_id = db_conn.execute(
        "select goodjob_register_process(hostname => 'test', pid => 1, queues => '*')"
    ).fetchone()[0]  # type: ignore[index]
    runs = {}
    for size in (0, N // 2, N):
        prepare(db_conn, size and N // 2)
        counts = dict(db_conn.execute("select state, count(*) from goodjob_jobs group by 1"))
        assert counts == ({"succeeded": size, "scheduled": size} if size else {}) | {
            "queued": READY
        }
        runs[size] = measure(db_connect, process_id)

    for selector, index in (("*", QUEUE_INDEX), ("default,other", QUEUE_INDEX)):
        check_reads_only_ready_rows(runs[N // 2][selector], index)
        check_reads_only_ready_rows(runs[N][selector], index)
        # Compare the first fetch after VACUUM in each state: same ready rows.
        first = {size: run[selector][0] for size, run in runs.items()}
        scan = {size: buffers(claim.subplan("candidates")) for size, (_, claim) in first.items()}
        total = {size: buffers(claim.root) for size, (_, claim) in first.items()}
        promote = {size: buffers(promo.root) for size, (promo, _) in first.items()}
        context = (selector, scan, total, promote)
        print("buffers of the first claim, by history size:", context)
        # Reading and locking the candidates: the same work with or without
        # history. The count wobbles by a few dozen buffers from run to run
        # (heap pages of the ready rows, pruning); reading the history would
        # add thousands (200,000 rows fill ~2,000 heap pages).
        assert scan[N] <= scan[0] + 60, context
        assert scan[N] <= scan[N // 2] + 60, context
        # Promotion with nothing due: a probe of the scheduled index.
        assert promote[N] <= 10, context
        # The whole claim, writes included. Going from a tiny table to a big
        # one adds a B-tree level to the primary keys every claimed row
        # touches (a few buffers per claimed job, whatever N); from N/2 to N
        # nothing grows.
        assert total[N] <= total[0] + 8 * MAX_JOBS, context
        assert total[N] <= total[N // 2] + 50, context
