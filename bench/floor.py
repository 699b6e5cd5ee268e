"""The floor: goodjob-pg's job lifecycle as bare SQL on a bare table, run by pgbench.

``bare_jobs`` has what a minimal queue needs (an id, a task, JSON
arguments, a state, timestamps) and one partial index over ready rows in
fetch order. Its lifecycle: one INSERT per job; a claim of up to ``batch``
ready rows with ``FOR UPDATE SKIP LOCKED`` that marks them running; then
one UPDATE marking the claimed rows finished. Claim and finish are two
autocommit statements, as the worker's fetch and report are. ``SELECT 1``
measures a bare round trip.
"""

from __future__ import annotations

from .database import connect
from .drainstats import DrainStats
from .pgbench import PgBench, PgBenchResult

__all__ = [
    "BARE_INSERT_MANY",
    "BARE_SCHEMA",
    "bare_drain",
    "bare_insert",
    "install",
    "round_trip",
]

BARE_SCHEMA = """
create table if not exists bare_jobs (
  id          bigserial primary key,
  task        text not null,
  args        jsonb not null default '[]',
  queue       text not null default 'default',
  priority    int not null default 0,
  run_at      timestamptz not null default now(),
  state       text not null default 'queued',
  locked_by   int,
  created_at  timestamptz not null default now(),
  started_at  timestamptz,
  finished_at timestamptz
);
create index if not exists bare_jobs_ready_idx
  on bare_jobs (priority, run_at, id) where state = 'queued';
"""

_SELECT_1 = "select 1;"

_INSERT = "insert into bare_jobs (task, args) values ('bench.noop', '[]');"

# One claim, then one finish of exactly the claimed rows; their ids travel
# from the first statement to the second in a pgbench variable.
_CLAIM_FINISH = """
with claimed as (
  update bare_jobs j set state = 'running', locked_by = :client_id, started_at = now()
   where j.id in (select b.id from bare_jobs b where b.state = 'queued'
                   order by b.priority, b.run_at, b.id
                   limit :batch for update skip locked)
  returning j.id
) select coalesce(array_agg(id), '{}') as ids from claimed
\\gset
update bare_jobs set state = 'succeeded', finished_at = now(), locked_by = null
 where id = any(:ids::bigint[]);
"""


def install(url: str) -> None:
    """Create the bare table in database ``url``."""
    with connect(url) as conn:
        conn.execute(BARE_SCHEMA)


def round_trip(pg: PgBench, url: str, seconds: float, clients: int = 1) -> PgBenchResult:
    """``SELECT 1`` per transaction: the cost of one round trip."""
    return pg.run(url, pg.script("select_1", _SELECT_1), clients=clients, seconds=seconds)


def bare_insert(pg: PgBench, url: str, seconds: float, clients: int) -> PgBenchResult:
    """One single-row INSERT per transaction into an emptied bare table."""
    with connect(url) as conn:
        conn.execute("truncate bare_jobs")
    return pg.run(url, pg.script("bare_insert", _INSERT), clients=clients, seconds=seconds)


BARE_INSERT_MANY = (
    "insert into bare_jobs (task, args)"
    " select e->>'task', coalesce(e->'args', '[]') from jsonb_array_elements(%s::jsonb) e"
)
"""The bulk floor: one INSERT ... SELECT of a JSON array of jobs."""


def bare_drain(
    pg: PgBench,
    url: str,
    *,
    batch: int,
    jobs: int,
    seconds: float,
    previous: DrainStats | None = None,
) -> DrainStats:
    """Claim and finish ``jobs`` pre-inserted rows in batches on one connection.

    pgbench runs for ``seconds`` (claims that find nothing once the table is
    drained change no row); throughput is read back from the rows' own
    started_at and finished_at, exactly as for the worker. When a
    ``previous`` run of the same batch size drained everything well within
    the time box, this one runs exactly the transactions needed instead.
    """
    with connect(url) as conn:
        conn.execute("truncate bare_jobs")
        conn.execute(
            "insert into bare_jobs (task) select 'bench.noop' from generate_series(1, %s)", (jobs,)
        )
        conn.execute("vacuum analyze bare_jobs")
    script = pg.script("claim_finish", _CLAIM_FINISH)
    needed = -(-jobs // batch)
    if previous is not None and previous.jobs >= jobs and previous.seconds < seconds / 2:
        pg.run(url, script, clients=1, transactions=needed, variables={"batch": batch})
    else:
        pg.run(url, script, clients=1, seconds=seconds, variables={"batch": batch})
    with connect(url) as conn:
        row = conn.execute(
            "select count(*), extract(epoch from max(finished_at) - min(started_at))::float8,"
            " count(distinct started_at), count(distinct finished_at)"
            " from bare_jobs where state = 'succeeded'"
        ).fetchone()
    assert row is not None
    return DrainStats(jobs=row[0], seconds=row[1] or 0.0, claims=row[2], finishes=row[3])
