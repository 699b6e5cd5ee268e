"""Every public goodjob_* SQL function fed hypothesis-generated values.

The functions and their argument types come from the catalog, so a function
added later is fuzzed too. Values: huge, empty and unicode text (combining
marks, right-to-left, emoji), SQL fragments in names and labels, JSON of every
type (wrong types for args/kwargs, strings with ``\\u0000``, which jsonb
rejects), integers at the int4 bounds, ``infinity`` run times, NaN and
infinite floats, negative intervals, random and existing ids. A call either
succeeds or raises a documented SQLSTATE (class GJ, or 22P05 for ``\\u0000``
in JSON, which Postgres rejects before any function runs); a refused call
leaves every goodjob table unchanged (checksummed).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]

# Postgres's own codes that the README documents for these functions.
DOCUMENTED = {"22P05"}  # jsonb: "unsupported Unicode escape sequence" (\u0000)

FRAGMENTS = [
    "",
    " ",
    "'; drop table goodjob_jobs; --",
    '"; select 1; --',
    "a,b",
    "*",
    "+mice,default",
    "-x",
    "%I %L %s",
    "$1",
    "$$",
    "\\",
    "e\u0301\u200f\u202e\U0001f600",
    "x" * 300,
    "ü" * 200,
]

text = st.one_of(
    st.none(),
    st.sampled_from(FRAGMENTS),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40),
    st.builds(lambda n: "y" * n, st.sampled_from([127, 128, 255, 256, 10_000, 200_000])),
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "\u0000", "a\u0000b", "'; --", "\U0001f600"]),
    st.text(max_size=10),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["task", "args", "kwargs", "queue", "id", "x"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)
int4 = st.one_of(
    st.none(),
    st.sampled_from([-(2**31), -1, 0, 1, 1000, 1001, 2**31 - 1]),
    st.integers(-(2**31), 2**31 - 1),
)
timestamp = st.one_of(
    st.none(),
    st.sampled_from(["infinity", "-infinity", "epoch"]),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
)
interval = st.one_of(
    st.none(), st.timedeltas(min_value=timedelta(days=-(10**8)), max_value=timedelta(days=10**8))
)
float8 = st.one_of(st.none(), st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 0.0]))


def _uuid(existing: list[UUID]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.builds(uuid4), st.sampled_from(existing))


def _strategy(pg_type: str, existing: list[UUID]) -> st.SearchStrategy[Any]:
    base = {
        "text": text,
        "jsonb": st.one_of(st.none(), json_value.map(Jsonb)),
        "integer": int4,
        "uuid": _uuid(existing),
        "timestamp with time zone": timestamp,
        "interval": interval,
        "double precision": float8,
        "boolean": st.one_of(st.none(), st.booleans()),
    }
    if pg_type == "timestamp with time zone[]":  # psycopg cannot dump str and datetime in one list
        return st.one_of(st.none(), st.lists(timestamp.filter(lambda v: isinstance(v, datetime))))
    if pg_type.endswith("[]"):
        return st.one_of(
            st.none(), st.lists(base[pg_type[:-2]].filter(lambda v: v is not None), max_size=4)
        )
    return base[pg_type]


def _functions(conn: Conn) -> list[tuple[str, list[tuple[str, str]], int]]:
    """(name, [(arg name, type)], number of required args) of every public function."""
    rows = conn.execute(
        """
        select p.proname::text,
               coalesce(array(select format_type(t, null) from unnest(p.proargtypes)
                                with ordinality a(t, n) order by n), '{}'),
               coalesce(p.proargnames[1:p.pronargs], '{}'),
               p.pronargs - p.pronargdefaults
          from pg_proc p
         where p.pronamespace = current_schema()::regnamespace
           and p.proname like 'goodjob\\_%%' and p.proname not like 'goodjob\\_\\_%%'
           and p.proname not like 'goodjob\\_tg\\_%%' and p.prorettype <> 'trigger'::regtype
         order by 1
        """
    ).fetchall()
    return [
        (name, list(zip(names, types, strict=True)), required)
        for name, types, names, required in rows
    ]


CHECKSUM = """
select md5(string_agg(x, '|' order by x)) from (
  select 'j' || t::text as x from goodjob_jobs t union all
  select 'e' || t::text from goodjob_executions t union all
  select 'p' || (t.id, t.state)::text from goodjob_processes t union all
  select 'q' || t::text from goodjob_queues t union all
  select 'u' || t::text from goodjob_pauses t union all
  select 's' || (t.key, t.value)::text from goodjob_settings t union all
  select 'k' || t::text from goodjob_tasks t union all
  select 'b' || t::text from goodjob_batches t union all
  select 'c' || t::text from goodjob_cron_entries t
) s
"""


def _seed(conn: Conn) -> list[UUID]:
    """A few jobs in several states, a live process, a batch and a cron entry."""
    process = conn.execute(
        "select goodjob_register_process(hostname => 'fuzz', pid => 1, queues => '*')"
    ).fetchone()[0]  # type: ignore[index]
    ids = [
        row[0]
        for row in conn.execute(
            "select goodjob_enqueue('t', args => jsonb_build_array(g)) from generate_series(1, 4) g"
        )
    ]
    conn.execute("select goodjob_fetch_and_lock(%s, '*', 1)", (process,))
    conn.execute("select goodjob_enqueue('later', run_at => now() + interval '1 day')")
    batch = conn.execute("select goodjob_create_batch(description => 'fuzz')").fetchone()[0]  # type: ignore[index]
    conn.execute("select goodjob_define_cron_entry('fuzz', '* * * * *', 't', '[]', '{}')")
    return [process, batch, *ids]


@pytest.fixture
def fuzz_db(db_conn: Conn) -> tuple[Conn, list[UUID]]:
    return db_conn, _seed(db_conn)


def _function_names() -> list[str]:
    # Collected without a database: the list is checked against the catalog below.
    return [
        "goodjob_add_batch_jobs", "goodjob_backoff_seconds", "goodjob_cleanup_preserved_jobs",
        "goodjob_create_batch", "goodjob_define_concurrency", "goodjob_define_cron_entry",
        "goodjob_define_task", "goodjob_delete_job",
        "goodjob_deregister_process", "goodjob_disable_cron_entry", "goodjob_discard_job",
        "goodjob_enable_cron_entry", "goodjob_enqueue", "goodjob_enqueue_batch",
        "goodjob_enqueue_cron_tick", "goodjob_enqueue_many", "goodjob_fail_job",
        "goodjob_fetch_and_lock", "goodjob_heartbeat", "goodjob_pause",
        "goodjob_register_process", "goodjob_report", "goodjob_report_results",
        "goodjob_reschedule_job", "goodjob_rescue_dead_processes", "goodjob_resume",
        "goodjob_retry_job", "goodjob_run_cron_entry", "goodjob_set_trace_context",
        "goodjob_succeed_job", "goodjob_terminate_stale_processes", "goodjob_unwait",
        "goodjob_upcoming_run_times",
        "goodjob_update_batch", "goodjob_uuid_v7", "goodjob_wait",
    ]  # fmt: skip


def test_the_fuzzed_list_is_every_public_function(db_conn: Conn) -> None:
    assert sorted({name for name, _, _ in _functions(db_conn)}) == _function_names()


def _call(conn: Conn, name: str, args: dict[str, tuple[str, Any]]) -> None:
    query = sql.SQL("select * from {}({})").format(
        sql.Identifier(name),
        sql.SQL(", ").join(
            sql.SQL("{} => %s::{}").format(sql.Identifier(arg), sql.SQL(pg_type))
            for arg, (pg_type, _) in args.items()
        ),
    )
    conn.execute(query, [value for _, value in args.values()]).fetchall()


@pytest.mark.parametrize("name", _function_names())
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_calls_raise_only_documented_errors(
    fuzz_db: tuple[Conn, list[UUID]], name: str, data: st.DataObject
) -> None:
    conn, existing = fuzz_db
    [(_, params, required)] = [f for f in _functions(conn) if f[0] == name]
    chosen: dict[str, tuple[str, Any]] = {}
    for i, (arg, pg_type) in enumerate(params):
        if i < required or data.draw(st.booleans(), label=f"pass {arg}"):
            chosen[arg] = (pg_type, data.draw(_strategy(pg_type, existing), label=arg))
    before = conn.execute(CHECKSUM).fetchone()
    try:
        _call(conn, name, chosen)
    except psycopg.Error as exc:
        state = exc.sqlstate or ""
        assert state.startswith("GJ") or state in DOCUMENTED, f"{name}: {state} {exc}"
        assert conn.execute(CHECKSUM).fetchone() == before, f"{name} wrote before refusing"
