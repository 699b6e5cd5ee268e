-- 0001_core: tables, enqueue, fetch-and-lock, results and retry policy,
-- process leases and crash rescue, NOTIFY, operator functions and views.
--
-- Applied by sql/install.sh (psql) and goodjob_pg.migrations (Python), each
-- inside one transaction holding pg_advisory_xact_lock(1735028839, 0)
-- (one lock for every schema of the database).
-- Errors raised by public functions use SQLSTATE class GJ (see README).

insert into goodjob_migrations (version, name) values ('0001', 'core');

do $$
begin
  if current_setting('server_version_num')::int < 130000 then
    raise exception 'goodjob-pg needs PostgreSQL 13 or newer; this server is %',
      current_setting('server_version');
  end if;
end
$$;

-- Every function below pins its search_path with "set search_path from
-- current", which captures the setting in force here. Narrow it to the schema
-- being installed into, so the functions never look in a schema named after
-- their caller ("$user").
do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-- goodjob__lock_class() and goodjob__channel(): what keeps two installs in
-- one database apart. Advisory locks and NOTIFY channels belong to the
-- database, not to a schema, so every lock this install takes has its own
-- class as first key (c: process leases and the wake-up gate; c + 1 and
-- c + 2: the concurrency-key locks of 0005), and it notifies on its own
-- channel. Schema public keeps c = 1735028839 (the bytes 'gjpg') and
-- channel 'goodjob', so existing installs do not change; another schema s
-- gets c = hashtext('goodjob-pg:' || s), drawn again with a counter suffix
-- while c .. c + 2 would overlap the classes of public or of another
-- install found in this database, and channel 'goodjob_' || s. The value is
-- fixed at install time: both are constant, immutable SQL functions without
-- SET, which the planner folds into a literal, so the hot paths pay nothing.
-- (The migration lock stays (1735028839, 0) for every schema: it only
-- makes migrations of the whole database take turns.)
-- Errors: GJ060 when the channel 'goodjob_' || s would be longer than
-- 63 bytes (schema names over 55 bytes), or (in theory) no class is free.
do $$
declare
  v_schema text := pg_catalog.current_schema();
  v_taken int[];
  v_class bigint;
  v_channel text := case when v_schema = 'public' then 'goodjob' else 'goodjob_' || v_schema end;
begin
  if pg_catalog.octet_length(v_channel) > 63 then
    raise exception 'schema name % is too long for goodjob-pg: its NOTIFY channel % would exceed 63 bytes',
      pg_catalog.quote_ident(v_schema), pg_catalog.quote_ident(v_channel)
      using errcode = 'GJ060', hint = 'Use a schema name of at most 55 bytes.';
  end if;
  -- The classes of the installs already here (each body is "select <class>").
  select pg_catalog.array_agg(pg_catalog.substring(p.prosrc, '-?[0-9]+')::int) into v_taken
    from pg_catalog.pg_proc p
   where p.proname = 'goodjob__lock_class' and p.pronargs = 0
     and p.pronamespace <> (select n.oid from pg_catalog.pg_namespace n where n.nspname = v_schema);
  v_taken := pg_catalog.array_append(coalesce(v_taken, '{}'), 1735028839);
  if v_schema = 'public' then
    v_class := 1735028839;
  else
    for n in 0 .. 99 loop
      v_class := pg_catalog.hashtext('goodjob-pg:' || v_schema || case when n > 0 then ':' || n else '' end);
      exit when v_class + 2 <= 2147483647
            and not exists (select 1 from pg_catalog.unnest(v_taken) t where pg_catalog.abs(t - v_class) <= 2);
      v_class := null;
    end loop;
    if v_class is null then
      raise exception 'no free advisory-lock class for schema %', pg_catalog.quote_ident(v_schema)
        using errcode = 'GJ060';
    end if;
  end if;
  execute pg_catalog.format(
    'create function goodjob__lock_class() returns int language sql immutable parallel safe as %L',
    'select ' || v_class);
  execute pg_catalog.format(
    'create function goodjob__channel() returns text language sql immutable parallel safe as %L',
    'select ' || pg_catalog.quote_literal(v_channel));
end
$$;
comment on function goodjob__lock_class() is
  'This install''s advisory-lock class, the first key of every lock it takes: leases (class, lease_key), the wake-up gate (class, -1), concurrency keys (class + 1 and class + 2, hashtext(key)). 1735028839 in schema public, derived from the schema name elsewhere.';
comment on function goodjob__channel() is
  'This install''s NOTIFY channel: goodjob in schema public, goodjob_<schema> elsewhere. Workers LISTEN on it.';

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------

-- Task definitions: per-task defaults written by the Python worker (or by hand
-- with goodjob_define_task) so SQL callers get the same defaults.
create table goodjob_tasks (
  name          text primary key,
  queue         text,
  priority      int,
  max_attempts  int,
  backoff       text,
  backoff_base  double precision,
  preserve      text,
  labels        text[],
  updated_at    timestamptz not null default now(),
  constraint goodjob_tasks_max_attempts_positive check (max_attempts >= 1),
  constraint goodjob_tasks_backoff_known
    check (backoff in ('constant', 'linear', 'exponential', 'polynomial')),
  constraint goodjob_tasks_backoff_base_not_negative check (backoff_base >= 0),
  constraint goodjob_tasks_preserve_known
    check (preserve in ('always', 'on_discard', 'never'))
);

-- goodjob_uuid_v7: a time-ordered uuid (RFC 9562 version 7: 48 bits of Unix
-- milliseconds, then random bits). Job ids made this way are inserted near
-- each other in the primary keys of goodjob_jobs and goodjob_executions, so a
-- claim touches recently used index pages instead of random ones all over a
-- large B-tree: with 2,000,000 rows present, random v4 ids made each claim
-- ~1.5x slower than on an empty table; ordered ids keep it near 1x.
-- Built as text: 12 hex digits of milliseconds and the version digit 7 laid
-- over a random v4 uuid's text, keeping its random bits and variant. No SET
-- clause, so callers' queries inline it (it runs once per enqueued row).
create function goodjob_uuid_v7() returns uuid
language sql volatile parallel safe as $$
  select overlay(pg_catalog.gen_random_uuid()::text
                 placing pg_catalog.lpad(pg_catalog.to_hex((extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 12, '0')
                         || '-7'
                 from 1 for 15)::uuid
$$;
comment on function goodjob_uuid_v7() is
  'A new time-ordered uuid (version 7: Unix milliseconds, then random bits), the default job id.';

-- The jobs. Ready jobs (state 'queued') are the only rows the fetch index
-- covers; future jobs wait as 'scheduled' under their own index until a fetch
-- promotes them, so neither history nor the future slows today's fetch.
create table goodjob_jobs (
  id               uuid primary key default goodjob_uuid_v7(),
  task             text not null,
  args             jsonb not null default '[]',
  kwargs           jsonb not null default '{}',
  queue            text not null default 'default',
  priority         int not null default 0,
  run_at           timestamptz not null default now(),
  state            text not null default 'queued',
  attempts         int not null default 0,
  max_attempts     int not null default 25,
  labels           text[] not null default '{}',
  concurrency_key  text,
  batch_id         uuid,
  cron_key         text,
  cron_at          timestamptz,
  created_at       timestamptz not null default now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  last_error       text,
  -- The process holding the job while it runs; no foreign key on purpose:
  -- one would lock the process row on every claim and make pruning slow.
  locked_by        uuid,
  constraint goodjob_jobs_state_known
    check (state in ('scheduled', 'queued', 'running', 'succeeded', 'discarded')),
  constraint goodjob_jobs_task_length check (length(task) between 1 and 255),
  constraint goodjob_jobs_queue_length check (length(queue) between 1 and 128),
  constraint goodjob_jobs_args_is_array check (jsonb_typeof(args) = 'array'),
  constraint goodjob_jobs_kwargs_is_object check (jsonb_typeof(kwargs) = 'object'),
  constraint goodjob_jobs_max_attempts_positive check (max_attempts >= 1),
  constraint goodjob_jobs_attempts_not_negative check (attempts >= 0),
  constraint goodjob_jobs_running_has_process
    check ((state = 'running') = (locked_by is not null)),
  constraint goodjob_jobs_finished_has_time
    check ((state in ('succeeded', 'discarded')) = (finished_at is not null))
);

-- The jobs table is the hot table: every job is inserted, updated at claim
-- and updated (or deleted) at finish. Those updates change state, which the
-- partial indexes' predicates read, so they are never HOT: each writes a new
-- row version, a primary-key entry and an entry in the one partial index of
-- the new state. fillfactor 80 leaves room on each page so the new version
-- usually lands beside the old one. Autovacuum runs at 2% dead rows instead
-- of 20% so the dead versions left by claims are reclaimed before they bloat
-- the ready index.
alter table goodjob_jobs set (
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_insert_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_limit = 2000,
  autovacuum_vacuum_cost_delay = 1
);

-- Fetch: one ordered range scan per queue.
create index goodjob_jobs_queue_priority_run_at_id_idx
  on goodjob_jobs (queue, priority, run_at, id) where state = 'queued';
-- Promotion of due scheduled jobs, and the worker's cache of run times.
create index goodjob_jobs_run_at_idx
  on goodjob_jobs (run_at) where state = 'scheduled';
-- Rescue: running jobs by process.
create index goodjob_jobs_locked_by_idx
  on goodjob_jobs (locked_by) where state = 'running';
-- Cleanup of preserved jobs, oldest first.
create index goodjob_jobs_finished_at_idx
  on goodjob_jobs (finished_at) where state in ('succeeded', 'discarded');
-- One job per cron tick.
create unique index goodjob_jobs_cron_key_cron_at_idx
  on goodjob_jobs (cron_key, cron_at) where cron_key is not null;

-- One row per finished attempt, written once when the attempt ends (by the
-- report, or by a rescue as 'interrupted'); the attempt that is running now
-- is the job row itself (state 'running', started_at, locked_by). Writing
-- the row once instead of opening it at claim and updating it at finish
-- halves the writes per attempt: an update here would rarely stay HOT, so
-- it would cost a second heap tuple and a second index entry. Rows are never
-- updated, hence the default fillfactor. No foreign key to goodjob_jobs:
-- functions delete executions together with their job.
create table goodjob_executions (
  job_id           uuid not null,
  attempt          int not null,
  process_id       uuid,
  started_at       timestamptz not null,
  finished_at      timestamptz not null,
  outcome          text not null,
  error_class      text,
  error_message    text,
  error_backtrace  text,
  primary key (job_id, attempt),
  constraint goodjob_executions_outcome_known
    check (outcome in ('succeeded', 'failed', 'discarded', 'interrupted'))
);

-- Worker processes. Each holds a session-level advisory lock on
-- (goodjob__lock_class(), lease_key) for its lifetime; a free lease means a dead process.
create sequence goodjob_processes_lease_key_seq as int minvalue 1 cycle;
create table goodjob_processes (
  id            uuid primary key,
  hostname      text not null,
  pid           int not null,
  queues        text not null,
  state         jsonb not null default '{}',
  lease_key     int not null default nextval('goodjob_processes_lease_key_seq'),
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now(),
  constraint goodjob_processes_lease_key_unique unique (lease_key)
);
alter sequence goodjob_processes_lease_key_seq owned by goodjob_processes.lease_key;

-- Paused queues, tasks and labels: their ready jobs are not fetched.
create table goodjob_pauses (
  kind       text not null,
  name       text not null,
  paused_at  timestamptz not null default now(),
  primary key (kind, name),
  constraint goodjob_pauses_kind_known check (kind in ('queue', 'task', 'label'))
);

-- Every queue name ever enqueued to, so '-a,b' can list the other queues
-- without scanning the jobs table.
create table goodjob_queues (
  name        text primary key,
  created_at  timestamptz not null default now()
);

-- Worker pools waiting for work on LISTEN (see goodjob_wait). Enqueues send
-- NOTIFY only while a row exists here: a NOTIFY makes its transaction take a
-- cluster-wide lock at commit, across its WAL flush, so with busy workers
-- (nobody waiting) enqueues commit in parallel. Unlogged: after a server
-- crash it is empty, and workers that reconnect register again.
create unlogged table goodjob_waiting_pools (
  process_id  uuid not null,
  pool        int not null,
  since       timestamptz not null default now(),
  primary key (process_id, pool)
);

-- Global settings (key/value), e.g. preserve_job_records.
create table goodjob_settings (
  key         text primary key,
  value       jsonb not null,
  updated_at  timestamptz not null default now()
);
insert into goodjob_settings (key, value) values ('preserve_job_records', '"always"');

-------------------------------------------------------------------------------
-- Validation helpers (internal; raise the documented SQLSTATEs)
-------------------------------------------------------------------------------

-- Inlinable validity tests (language sql, no SET clause, so the planner
-- inlines them): the hot paths test values with these and call the raising
-- goodjob__check_* helpers only for a value that fails.
create function goodjob__task_is_valid(task text) returns boolean
language sql immutable parallel safe as $$
  select task is not null and length(task) between 1 and 255
$$;

create function goodjob__queue_is_valid(queue text) returns boolean
language sql immutable parallel safe as $$
  select queue is not null and length(queue) between 1 and 128
         and queue !~ '[,;:*+[:space:]]' and left(queue, 1) <> '-'
$$;

create function goodjob__check_task(task text) returns text
language plpgsql immutable set search_path from current as $$
begin
  if task is null or length(task) = 0 or length(task) > 255 then
    raise exception 'invalid task name %: must be 1 to 255 characters',
      coalesce(quote_literal(task), 'null')
      using errcode = 'GJ001', hint = 'Pass the registered task name, e.g. ''app.tasks.send_email''.';
  end if;
  return task;
end
$$;

create function goodjob__check_queue(queue text) returns text
language plpgsql immutable set search_path from current as $$
begin
  if queue is null or length(queue) = 0 or length(queue) > 128
     or queue ~ '[,;:*+[:space:]]' or left(queue, 1) = '-' then
    raise exception 'invalid queue name %', coalesce(quote_literal(queue), 'null')
      using errcode = 'GJ004',
            detail = 'A queue name is 1 to 128 characters without spaces or any of , ; : * + and does not start with -.';
  end if;
  return queue;
end
$$;

create function goodjob__check_max_attempts(max_attempts int) returns int
language plpgsql immutable set search_path from current as $$
begin
  if max_attempts < 1 then
    raise exception 'invalid max_attempts %: must be at least 1', max_attempts
      using errcode = 'GJ005';
  end if;
  return max_attempts;
end
$$;

create function goodjob__check_args(args jsonb, kwargs jsonb) returns void
language plpgsql immutable set search_path from current as $$
begin
  if jsonb_typeof(args) is distinct from 'array' then
    raise exception 'invalid args %: must be a JSON array', coalesce(left(args::text, 80), 'null')
      using errcode = 'GJ002';
  end if;
  if jsonb_typeof(kwargs) is distinct from 'object' then
    raise exception 'invalid kwargs %: must be a JSON object', coalesce(left(kwargs::text, 80), 'null')
      using errcode = 'GJ003';
  end if;
end
$$;

create function goodjob__check_labels(labels text[]) returns text[]
language plpgsql immutable set search_path from current as $$
declare
  v_label text;
  v_result text[] := '{}';
begin
  -- Keep the caller's order, drop duplicates and refuse empty labels.
  foreach v_label in array coalesce(labels, '{}') loop
    if v_label is null or length(v_label) = 0 or length(v_label) > 128 then
      raise exception 'invalid label %: must be 1 to 128 characters', coalesce(quote_literal(v_label), 'null')
        using errcode = 'GJ006';
    end if;
    if not v_label = any(v_result) then
      v_result := v_result || v_label;
    end if;
  end loop;
  return v_result;
end
$$;

-------------------------------------------------------------------------------
-- Task definitions
-------------------------------------------------------------------------------

-- goodjob_define_task: create or replace a task's defaults. Null leaves the
-- global default in force. Raises GJ001, GJ004, GJ005, GJ012.
create function goodjob_define_task(
  name text,
  queue text default null,
  priority int default null,
  max_attempts int default null,
  backoff text default null,
  backoff_base double precision default null,
  preserve text default null,
  labels text[] default null
) returns void
language plpgsql volatile set search_path from current as $$
begin
  perform goodjob__check_task(goodjob_define_task.name);
  if goodjob_define_task.queue is not null then
    perform goodjob__check_queue(goodjob_define_task.queue);
  end if;
  perform goodjob__check_max_attempts(goodjob_define_task.max_attempts);
  if goodjob_define_task.backoff is not null
     and goodjob_define_task.backoff not in ('constant', 'linear', 'exponential', 'polynomial') then
    raise exception 'invalid backoff %', quote_literal(goodjob_define_task.backoff)
      using errcode = 'GJ012', hint = 'Use constant, linear, exponential or polynomial.';
  end if;
  if goodjob_define_task.backoff_base < 0 or goodjob_define_task.backoff_base = 'NaN'::float8
     or goodjob_define_task.backoff_base = 'Infinity'::float8 then
    raise exception 'invalid backoff_base %: must be a finite number of seconds >= 0',
      goodjob_define_task.backoff_base using errcode = 'GJ012';
  end if;
  if goodjob_define_task.preserve is not null
     and goodjob_define_task.preserve not in ('always', 'on_discard', 'never') then
    raise exception 'invalid preserve %', quote_literal(goodjob_define_task.preserve)
      using errcode = 'GJ012', hint = 'Use always, on_discard or never.';
  end if;

  insert into goodjob_tasks as t (name, queue, priority, max_attempts, backoff, backoff_base, preserve, labels)
  values (goodjob_define_task.name, goodjob_define_task.queue, goodjob_define_task.priority,
          goodjob_define_task.max_attempts, goodjob_define_task.backoff, goodjob_define_task.backoff_base,
          goodjob_define_task.preserve, goodjob__check_labels(goodjob_define_task.labels))
  on conflict on constraint goodjob_tasks_pkey do update
    set queue = excluded.queue, priority = excluded.priority, max_attempts = excluded.max_attempts,
        backoff = excluded.backoff, backoff_base = excluded.backoff_base,
        preserve = excluded.preserve, labels = excluded.labels, updated_at = now()
    where (t.queue, t.priority, t.max_attempts, t.backoff, t.backoff_base, t.preserve, t.labels)
          is distinct from
          (excluded.queue, excluded.priority, excluded.max_attempts, excluded.backoff,
           excluded.backoff_base, excluded.preserve, excluded.labels);
end
$$;
comment on function goodjob_define_task(text, text, int, int, text, double precision, text, text[]) is
  'Create or replace the defaults of a task: queue, priority, max_attempts, backoff (constant, linear, exponential, polynomial) with backoff_base seconds, preserve (always, on_discard, never), labels. Jobs enqueued without these options take them. Errors: GJ001, GJ004, GJ005, GJ006, GJ012.';

-- goodjob_backoff_seconds: delay before the next attempt after `attempt`
-- failed. Volatile because exponential backoff adds up to 15% jitter.
create function goodjob_backoff_seconds(backoff text, backoff_base double precision, attempt int)
returns double precision
language sql volatile set search_path from current as $$
  select case coalesce(backoff, 'polynomial')
    when 'constant' then coalesce(backoff_base, 3)
    when 'linear' then coalesce(backoff_base, 3) * attempt
    when 'exponential' then
      least(coalesce(backoff_base, 1) * power(2, least(attempt, 40) - 1), 86400 * 7)
        * (1 + random() * 0.15)
    else power(least(attempt, 100), 4) + 2
  end
$$;
comment on function goodjob_backoff_seconds(text, double precision, int) is
  'Seconds to wait after failed attempt N: constant = base (default 3); linear = base * N; exponential = base (default 1) * 2^(N-1) capped at 7 days, plus up to 15% jitter; polynomial (the default) = N^4 + 2.';

-------------------------------------------------------------------------------
-- Enqueue
-------------------------------------------------------------------------------

-- goodjob_enqueue: write one job. Null options take the task definition's
-- defaults, then the global ones (queue 'default', priority 0,
-- max_attempts 25). A given id that exists returns that job unchanged.
-- Side effects: the insert trigger NOTIFYs channel goodjob__channel().
-- Errors: GJ001 task, GJ002 args, GJ003 kwargs, GJ004 queue, GJ005
-- max_attempts, GJ006 labels.
create function goodjob_enqueue(
  task text,
  args jsonb default '[]',
  kwargs jsonb default '{}',
  queue text default null,
  priority int default null,
  run_at timestamptz default null,
  labels text[] default null,
  concurrency_key text default null,
  batch_id uuid default null,
  max_attempts int default null,
  id uuid default null
) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_def goodjob_tasks%rowtype;
  v_id uuid;
  v_run_at timestamptz := coalesce(goodjob_enqueue.run_at, now());
  v_queue text;
  v_max_attempts int;
  v_labels text[];
begin
  if not goodjob__task_is_valid(goodjob_enqueue.task) then
    perform goodjob__check_task(goodjob_enqueue.task);
  end if;
  if jsonb_typeof(goodjob_enqueue.args) is distinct from 'array'
     or jsonb_typeof(goodjob_enqueue.kwargs) is distinct from 'object' then
    perform goodjob__check_args(goodjob_enqueue.args, goodjob_enqueue.kwargs);
  end if;
  select * into v_def from goodjob_tasks t where t.name = goodjob_enqueue.task;
  v_queue := coalesce(goodjob_enqueue.queue, v_def.queue, 'default');
  if not goodjob__queue_is_valid(v_queue) then
    perform goodjob__check_queue(v_queue);
  end if;
  v_max_attempts := coalesce(goodjob_enqueue.max_attempts, v_def.max_attempts, 25);
  if v_max_attempts < 1 then
    perform goodjob__check_max_attempts(v_max_attempts);
  end if;
  v_labels := coalesce(goodjob_enqueue.labels, v_def.labels, '{}');
  if cardinality(v_labels) > 0 then
    v_labels := goodjob__check_labels(v_labels);
  end if;

  insert into goodjob_jobs as j (id, task, args, kwargs, queue, priority, run_at, state,
                                 max_attempts, labels, concurrency_key, batch_id)
  values (
    coalesce(goodjob_enqueue.id, goodjob_uuid_v7()),
    goodjob_enqueue.task,
    goodjob_enqueue.args,
    goodjob_enqueue.kwargs,
    v_queue,
    coalesce(goodjob_enqueue.priority, v_def.priority, 0),
    v_run_at,
    case when v_run_at > now() then 'scheduled' else 'queued' end,
    v_max_attempts,
    v_labels,
    goodjob_enqueue.concurrency_key,
    goodjob_enqueue.batch_id
  )
  on conflict on constraint goodjob_jobs_pkey do nothing
  returning j.id into v_id;

  return coalesce(v_id, goodjob_enqueue.id);
end
$$;
comment on function goodjob_enqueue(text, jsonb, jsonb, text, int, timestamptz, text[], text, uuid, int, uuid) is
  'Enqueue one job and return its id. Null options take the task definition''s defaults, then queue ''default'', priority 0 (smaller runs first), max_attempts 25. run_at in the future makes the job scheduled. A given id that already exists returns that job unchanged (idempotent enqueue). Errors: GJ001 task, GJ002 args, GJ003 kwargs, GJ004 queue, GJ005 max_attempts, GJ006 labels.';

-- goodjob__diagnose_jobs: raise GJ006 naming the first malformed element of
-- a goodjob_enqueue_many array (not an object, an unknown key, a value of
-- the wrong JSON type). Run only when the fast checks found something.
create function goodjob__diagnose_jobs(jobs jsonb) returns void
language plpgsql stable set search_path from current as $$
declare
  v_bad record;
begin
  select e.ord, e.job, k.key, k.value into v_bad
  from jsonb_array_elements(jobs) with ordinality as e(job, ord)
  left join lateral jsonb_each(case when jsonb_typeof(e.job) = 'object' then e.job end) as k(key, value) on true
  where jsonb_typeof(e.job) <> 'object'
     or (k.key is not null and not (
          (k.key in ('task', 'queue', 'run_at', 'concurrency_key', 'batch_id', 'id')
             and jsonb_typeof(k.value) in ('string', 'null'))
       or (k.key in ('priority', 'max_attempts')
             and (jsonb_typeof(k.value) = 'null'
                  or (jsonb_typeof(k.value) = 'number'
                      and case when k.value::text ~ '^-?[0-9]{1,10}$'
                               then (k.value::text)::bigint between -2147483648 and 2147483647
                               else false end)))
       or (k.key = 'args' and jsonb_typeof(k.value) in ('array', 'null'))
       or (k.key = 'kwargs' and jsonb_typeof(k.value) in ('object', 'null'))
       or (k.key = 'labels' and (jsonb_typeof(k.value) = 'null'
             or (jsonb_typeof(k.value) = 'array'
                 and not jsonb_path_exists(k.value, '$[*] ? (@.type() != "string")'))))))
  order by e.ord
  limit 1;
  if found then
    if v_bad.key is null then
      raise exception 'invalid job at position %: % is not a JSON object', v_bad.ord, left(v_bad.job::text, 80)
        using errcode = 'GJ006';
    end if;
    raise exception 'invalid job at position %: key % has unsupported value %',
      v_bad.ord, quote_literal(v_bad.key), left(v_bad.value::text, 80)
      using errcode = 'GJ006',
            hint = 'Keys: task, args, kwargs, queue, priority, run_at, labels, concurrency_key, batch_id, max_attempts, id.';
  end if;
end
$$;

-- goodjob_enqueue_many: write many jobs in one statement, all or nothing.
-- `jobs` is a JSON array of objects with goodjob_enqueue's argument names.
-- Returns the ids in input order (an existing id is returned unchanged).
-- Every element is checked with cheap expressions first; only when one
-- fails does goodjob__diagnose_jobs find and name it. Values are checked
-- inside the insert, calling a raising helper only for a bad one.
-- Errors: GJ006 for a malformed element (named by its position), and the
-- errors of goodjob_enqueue.
create function goodjob_enqueue_many(jobs jsonb) returns setof uuid
language plpgsql volatile set search_path from current as $$
declare
  v_prefix text := left(goodjob_uuid_v7()::text, 15);
begin
  if jsonb_typeof(jobs) is distinct from 'array' then
    raise exception 'invalid jobs %: must be a JSON array of job objects',
      coalesce(left(jobs::text, 80), 'null') using errcode = 'GJ006';
  end if;

  if exists (
    select 1 from jsonb_array_elements(jobs) as e(job)
    where jsonb_typeof(e.job) <> 'object'
       or e.job - '{task,args,kwargs,queue,priority,run_at,labels,concurrency_key,batch_id,max_attempts,id}'::text[]
          <> '{}'::jsonb
       or coalesce(jsonb_typeof(e.job -> 'task'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'queue'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'concurrency_key'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'run_at'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'id'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'batch_id'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'priority'), 'null') not in ('number', 'null')
       or coalesce(jsonb_typeof(e.job -> 'max_attempts'), 'null') not in ('number', 'null')
       or coalesce(jsonb_typeof(e.job -> 'args'), 'null') not in ('array', 'null')
       or coalesce(jsonb_typeof(e.job -> 'kwargs'), 'null') not in ('object', 'null')
       or coalesce(jsonb_typeof(e.job -> 'labels'), 'null') not in ('array', 'null')
       or (jsonb_typeof(e.job -> 'labels') = 'array'
           and jsonb_path_exists(e.job -> 'labels', '$[*] ? (@.type() != "string")'))) then
    perform goodjob__diagnose_jobs(jobs);
  end if;

  -- A value that does not parse (an id that is no uuid, a run_at that is no
  -- time, a priority out of range) surfaces as GJ006, naming the element.
  begin
    return query
    with input as (
      select r.*
      from rows from (jsonb_to_recordset(jobs)
                      as (task text, args jsonb, kwargs jsonb, queue text, priority int,
                          run_at timestamptz, labels text[], concurrency_key text,
                          batch_id uuid, max_attempts int, id uuid))
           with ordinality as r(task, args, kwargs, queue, priority, run_at, labels,
                                concurrency_key, batch_id, max_attempts, id, ord)
    ),
    prepared as (
      select i.ord,
             -- v7 ids: this call's millisecond prefix over random uuids
             coalesce(i.id, overlay(gen_random_uuid()::text placing v_prefix from 1 for 15)::uuid) as id,
             case when goodjob__task_is_valid(i.task) then i.task else goodjob__check_task(i.task) end as task,
             coalesce(i.args, '[]') as args,
             coalesce(i.kwargs, '{}') as kwargs,
             coalesce(i.queue, t.queue, 'default') as queue,
             coalesce(i.priority, t.priority, 0) as priority,
             coalesce(i.run_at, now()) as run_at,
             coalesce(i.max_attempts, t.max_attempts, 25) as max_attempts,
             coalesce(i.labels, t.labels, '{}') as labels,
             i.concurrency_key,
             i.batch_id
      from input i
      left join goodjob_tasks t on t.name = i.task
    ),
    inserted as (
      insert into goodjob_jobs as j (id, task, args, kwargs, queue, priority, run_at, state,
                                     max_attempts, labels, concurrency_key, batch_id)
      select p.id, p.task, p.args, p.kwargs,
             case when goodjob__queue_is_valid(p.queue) then p.queue else goodjob__check_queue(p.queue) end,
             p.priority, p.run_at,
             case when p.run_at > now() then 'scheduled' else 'queued' end,
             case when p.max_attempts >= 1 then p.max_attempts
                  else goodjob__check_max_attempts(p.max_attempts) end,
             case when cardinality(p.labels) = 0 then p.labels else goodjob__check_labels(p.labels) end,
             p.concurrency_key, p.batch_id
      from prepared p
      order by p.ord
      on conflict on constraint goodjob_jobs_pkey do nothing
    )
    select p.id from prepared p order by p.ord;
  exception
    when invalid_text_representation or invalid_datetime_format or datetime_field_overflow
         or numeric_value_out_of_range then
      perform goodjob__diagnose_jobs(jobs);
      raise exception 'invalid job: %', sqlerrm
        using errcode = 'GJ006',
              hint = 'id and batch_id are uuids; run_at is an ISO 8601 time with a UTC offset.';
  end;
end
$$;
comment on function goodjob_enqueue_many(jsonb) is
  'Enqueue a JSON array of jobs (objects with goodjob_enqueue''s argument names) in one statement, all or nothing; returns the ids in input order. One NOTIFY per queue. Errors: GJ006 for a malformed element, and those of goodjob_enqueue.';

-------------------------------------------------------------------------------
-- NOTIFY on insert (statement level)
-------------------------------------------------------------------------------

-- One notification per queue per statement on goodjob__channel(). Payloads:
-- {"queue": "q"} when ready jobs arrived, {"queue": "q", "run_at": "..."}
-- with the earliest run time when only future jobs arrived. Identical
-- payloads are folded by Postgres within a transaction. Sent only while a
-- worker pool waits (goodjob_wait): busy workers fetch again on their own,
-- and a transaction that NOTIFYs serialises with every other one that does
-- at commit. Also records new
-- queue names in goodjob_queues.
create function goodjob_tg_jobs__after_insert() returns trigger
language plpgsql set search_path from current as $$
begin
  insert into goodjob_queues (name)
  select distinct n.queue from new_jobs n
  where not exists (select 1 from goodjob_queues q where q.name = n.queue)
  on conflict do nothing;

  -- The wake-up gate (goodjob_wait): hold it shared until commit, then look
  -- for waiting pools with a fresh snapshot. A pool that starts waiting
  -- takes it exclusively, so it either sees this job in its catch-up fetch
  -- or is seen here and notified. Skipping the NOTIFY is safe only then: if
  -- the gate is taken (a pool is starting to wait) or the snapshot is the
  -- transaction's own (repeatable read, serializable), notify anyway. A try
  -- lock never makes an enqueue wait.
  if current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock_shared(goodjob__lock_class(), -1) then
    if not exists (select 1 from goodjob_waiting_pools) then
      return null;
    end if;
  end if;

  perform pg_notify(goodjob__channel(), case when bool_or(n.state = 'queued')
                                     then json_build_object('queue', n.queue)
                                     else json_build_object('queue', n.queue, 'run_at', min(n.run_at))
                                end::text)
  from new_jobs n
  where n.state in ('queued', 'scheduled')
  group by n.queue;
  return null;
end
$$;

create trigger goodjob_jobs_after_insert
  after insert on goodjob_jobs
  referencing new table as new_jobs
  for each statement execute function goodjob_tg_jobs__after_insert();

-------------------------------------------------------------------------------
-- Processes: lease, heartbeat, rescue
-------------------------------------------------------------------------------

-- goodjob__live_lease_keys: lease keys held by some session right now in
-- this database (one read of pg_locks, used by rescue, never by fetch).
create function goodjob__live_lease_keys() returns setof int
language sql stable set search_path from current as $$
  select l.objid::int
  from pg_catalog.pg_locks l
  where l.locktype = 'advisory' and l.classid = goodjob__lock_class() and l.objsubid = 2
    and l.granted and l.objid <> 0
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
$$;

-- goodjob_register_process: start a process's lease on the calling session.
-- Takes the session-level advisory lock (goodjob__lock_class(), lease_key), held until
-- the session ends or the process deregisters. With the id of an existing
-- process whose lease is free (a reconnect), takes the same lease again.
-- Errors: GJ009 when the id is held by another live session.
create function goodjob_register_process(
  hostname text,
  pid int,
  queues text,
  state jsonb default '{}',
  id uuid default null
) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_id uuid := coalesce(goodjob_register_process.id, gen_random_uuid());
  v_lease int;
begin
  -- queues is the process's whole pool configuration (e.g. 'mice:2;*:5'),
  -- kept for display; each pool's selector is checked by the fetch.
  if nullif(btrim(goodjob_register_process.hostname), '') is null or goodjob_register_process.pid is null
     or goodjob_register_process.queues is null then
    raise exception 'invalid process: hostname %, pid % and queues % must be given',
      coalesce(quote_literal(goodjob_register_process.hostname), 'null'),
      coalesce(goodjob_register_process.pid::text, 'null'),
      coalesce(quote_literal(goodjob_register_process.queues), 'null') using errcode = 'GJ013';
  end if;
  select p.lease_key into v_lease from goodjob_processes p where p.id = v_id for update;
  if found then
    -- Advisory locks are re-entrant: a session that already holds this lease
    -- must not take it again, or one deregister would leave it held.
    if not exists (select 1 from pg_catalog.pg_locks l
                   where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted
                     and l.classid = goodjob__lock_class() and l.objid::int = v_lease and l.objsubid = 2)
       and not pg_try_advisory_lock(goodjob__lock_class(), v_lease) then
      raise exception 'process % is alive in another session', v_id using errcode = 'GJ009';
    end if;
    update goodjob_processes p
       set hostname = goodjob_register_process.hostname, pid = goodjob_register_process.pid,
           queues = goodjob_register_process.queues,
           state = coalesce(goodjob_register_process.state, '{}'), heartbeat_at = now()
     where p.id = v_id;
    return v_id;
  end if;

  insert into goodjob_processes as p (id, hostname, pid, queues, state)
  values (v_id, goodjob_register_process.hostname, goodjob_register_process.pid,
          goodjob_register_process.queues, coalesce(goodjob_register_process.state, '{}'))
  returning p.lease_key into v_lease;
  -- The sequence cycles, so after 2^31 registrations a key can repeat; a key
  -- still locked by someone else is then refused rather than shared.
  if not pg_try_advisory_lock(goodjob__lock_class(), v_lease) then
    raise exception 'lease key % is already held', v_lease using errcode = 'GJ009';
  end if;
  return v_id;
end
$$;
comment on function goodjob_register_process(text, int, text, jsonb, uuid) is
  'Register a worker process and take its lease: a session-level advisory lock (goodjob__lock_class(), lease_key) held by the calling session until it ends or goodjob_deregister_process is called. Keep that connection open. Passing the id of a registered process whose lease is free takes that lease again (reconnect). Returns the process id. Errors: GJ009 when the lease is held by another session.';

-- goodjob_heartbeat: record that a process is alive; false if its row is gone
-- (it was rescued as dead and must register again).
create function goodjob_heartbeat(process_id uuid, state jsonb default null) returns boolean
language sql volatile set search_path from current as $$
  with touched as (
    update goodjob_processes p
       set heartbeat_at = now(), state = coalesce(goodjob_heartbeat.state, p.state)
     where p.id = goodjob_heartbeat.process_id
    returning 1
  )
  select exists (select 1 from touched)
$$;
comment on function goodjob_heartbeat(uuid, jsonb) is
  'Update a process''s heartbeat time (and state, when given). Returns false when the process is not registered, e.g. after it was rescued as dead.';

-- goodjob_wait: a worker pool is about to wait on LISTEN for new jobs.
-- From the commit of this call until goodjob_unwait, enqueues NOTIFY. It
-- must take the wake-up gate exclusively, which it can only while no
-- enqueue is between its insert and its commit; it tries once and returns
-- false when enqueues are in flight (it never waits, so a long open
-- transaction cannot stall the pool or, queued behind it, every enqueue).
-- Protocol: call it in its own transaction; on true, fetch once more (jobs
-- committed before it were not announced) and sleep on LISTEN; on false,
-- fetch again after a short pause and try again.
-- Errors: GJ009 unknown process, GJ013 null pool.
create function goodjob_wait(process_id uuid, pool int default 0) returns boolean
language plpgsql volatile set search_path from current as $$
begin
  if goodjob_wait.pool is null then
    raise exception 'invalid pool null: pass the pool number' using errcode = 'GJ013';
  end if;
  if not exists (select 1 from goodjob_processes p where p.id = goodjob_wait.process_id) then
    raise exception 'unknown process %', coalesce(goodjob_wait.process_id::text, 'null')
      using errcode = 'GJ009', hint = 'Call goodjob_register_process first (or again, after a rescue).';
  end if;
  if not pg_try_advisory_xact_lock(goodjob__lock_class(), -1) then
    return false;
  end if;
  insert into goodjob_waiting_pools (process_id, pool)
  values (goodjob_wait.process_id, goodjob_wait.pool)
  on conflict do nothing;
  return true;
end
$$;
comment on function goodjob_wait(uuid, int) is
  'Mark a worker pool as waiting on LISTEN goodjob__channel(): enqueues send NOTIFY only while some pool waits. Call it in its own transaction; true: fetch once more, then wait; false (enqueues were in flight, nothing changed): fetch again after a short pause and try again. Errors: GJ009, GJ013.';

-- goodjob_unwait: the pool has a backlog again and fetches on its own.
create function goodjob_unwait(process_id uuid, pool int default 0) returns void
language sql volatile set search_path from current as $$
  delete from goodjob_waiting_pools w
   where w.process_id = goodjob_unwait.process_id and w.pool = goodjob_unwait.pool
$$;
comment on function goodjob_unwait(uuid, int) is
  'A worker pool stops waiting (it found a full batch and will fetch again on its own). Enqueues stop notifying when no pool waits.';

-- goodjob__interrupt_jobs: make the running jobs of the given processes
-- ready again, recording their attempts as 'interrupted'. The attempt
-- counts: a job out of attempts is discarded (a job that keeps killing its
-- worker cannot loop forever). Compare-and-set on state and owner.
create function goodjob__interrupt_jobs(process_ids uuid[], reason text) returns int
language plpgsql volatile set search_path from current as $$
declare
  v_count int;
  v_queues text[];
begin
  -- Lock the jobs in id order first (goodjob_report_results does the same):
  -- a plain UPDATE would lock them in index order, and a report of the same
  -- jobs locking in another order would deadlock with it.
  with doomed as (
    select j.id, j.locked_by from goodjob_jobs j
     where j.state = 'running' and j.locked_by = any(process_ids)
     order by j.id
     for update
  ),
  interrupted as (
    update goodjob_jobs j
       set state = case when j.attempts >= j.max_attempts then 'discarded' else 'queued' end,
           finished_at = case when j.attempts >= j.max_attempts then now() end,
           run_at = case when j.attempts >= j.max_attempts then j.run_at else now() end,
           locked_by = null,
           last_error = reason
      from doomed d
     where j.id = d.id and j.state = 'running' and j.locked_by = any(process_ids)
    returning j.id, j.attempts, j.queue, j.state, j.started_at, d.locked_by
  ),
  closed as (
    insert into goodjob_executions (job_id, attempt, process_id, started_at, finished_at,
                                    outcome, error_class, error_message)
    select i.id, i.attempts, i.locked_by, i.started_at, now(), 'interrupted', 'Interrupted', reason
      from interrupted i
    on conflict do nothing
  )
  select count(*)::int, array_agg(distinct i.queue) filter (where i.state = 'queued')
    into v_count, v_queues
  from interrupted i;

  perform pg_notify(goodjob__channel(), json_build_object('queue', q)::text) from unnest(v_queues) as q;
  return v_count;
end
$$;

-- goodjob_deregister_process: a process leaving cleanly. Its jobs still
-- running are interrupted (made ready again), its row deleted and its lease
-- released. Returns the number of jobs interrupted.
create function goodjob_deregister_process(process_id uuid) returns int
language plpgsql volatile set search_path from current as $$
declare
  v_lease int;
  v_count int;
begin
  delete from goodjob_processes p where p.id = goodjob_deregister_process.process_id
  returning p.lease_key into v_lease;
  delete from goodjob_waiting_pools w where w.process_id = goodjob_deregister_process.process_id;
  v_count := goodjob__interrupt_jobs(array[goodjob_deregister_process.process_id],
                                     'interrupted: the worker shut down before the job finished');
  -- Release the lease when this session holds it (another session calling
  -- this for a live process removes the row; that process's next heartbeat
  -- returns false and it registers again).
  if v_lease is not null and exists (
       select 1 from pg_catalog.pg_locks l
        where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.classid = goodjob__lock_class()
          and l.objid = v_lease::oid and l.objsubid = 2 and l.granted) then
    perform pg_advisory_unlock(goodjob__lock_class(), v_lease);
  end if;
  return v_count;
end
$$;
comment on function goodjob_deregister_process(uuid) is
  'Deregister a process leaving cleanly: its running jobs are made ready again (the interrupted attempt counts), its row is deleted and its lease released. Returns the number of jobs interrupted.';

-- goodjob_rescue_dead_processes: any process (or an operator) may call it.
-- A process whose lease is free is dead: its running jobs are made ready
-- again as interrupted, and its row is deleted. Running jobs whose owner is
-- not registered at all are rescued too. Returns the number of jobs rescued.
create function goodjob_rescue_dead_processes() returns int
language plpgsql volatile set search_path from current as $$
declare
  v_dead uuid[];
  v_count int;
begin
  with live as (select k from goodjob__live_lease_keys() as k),
  dead_rows as (
    delete from goodjob_processes p
     where not exists (select 1 from live where live.k = p.lease_key)
    returning p.id
  ),
  orphans as (
    select distinct j.locked_by as id
    from goodjob_jobs j
    where j.state = 'running'
      and not exists (select 1 from goodjob_processes p, live
                      where p.id = j.locked_by and live.k = p.lease_key)
  )
  select array(select id from dead_rows union select id from orphans) into v_dead;

  -- Waiting rows of processes that are gone only cost needless NOTIFYs.
  delete from goodjob_waiting_pools w
   where not exists (select 1 from goodjob_processes p where p.id = w.process_id);

  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  v_count := goodjob__interrupt_jobs(v_dead, 'interrupted: the worker process died (its lease was free)');
  if v_count > 0 then
    raise log 'goodjob: rescued % job(s) of % dead process(es)', v_count, cardinality(v_dead);
  end if;
  return v_count;
end
$$;
comment on function goodjob_rescue_dead_processes() is
  'Rescue the running jobs of dead processes (whose lease, a session advisory lock, is free) and delete their rows. Each rescued job is queued again, the interrupted attempt counted (discarded when out of attempts). Returns the number of jobs rescued.';

-------------------------------------------------------------------------------
-- Fetch and lock
-------------------------------------------------------------------------------

-- goodjob__parse_queues: a pool's queue selector in GoodJob's syntax:
-- '*' all, 'a,b' only these, '+a,b' only these in this order, '-a,b' all
-- but these. Returns the mode ('all', 'only', 'ordered', 'except') and names.
create function goodjob__parse_queues(queues text, out mode text, out names text[])
language plpgsql immutable set search_path from current as $$
declare
  v_list text := btrim(queues);
  v_name text;
begin
  if v_list = '*' then
    mode := 'all';
    names := '{}';
    return;
  end if;
  mode := case left(v_list, 1) when '+' then 'ordered' when '-' then 'except' else 'only' end;
  if mode <> 'only' then
    v_list := substr(v_list, 2);
  end if;
  names := '{}';
  foreach v_name in array coalesce(string_to_array(v_list, ','), '{}') loop
    v_name := btrim(v_name);
    if v_name = '' or length(v_name) > 128 or v_name ~ '[,;:*+[:space:]]' or left(v_name, 1) = '-' then
      raise exception 'invalid queue selector %', coalesce(quote_literal(queues), 'null')
        using errcode = 'GJ007',
              hint = 'Use *, a,b (only these), +a,b (these, in order) or -a,b (all but these).';
    end if;
    if not v_name = any(names) then
      names := names || v_name;
    end if;
  end loop;
  if cardinality(names) = 0 then
    raise exception 'invalid queue selector %', coalesce(quote_literal(queues), 'null')
      using errcode = 'GJ007',
            hint = 'Use *, a,b (only these), +a,b (these, in order) or -a,b (all but these).';
  end if;
end
$$;

-- goodjob_fetch_and_lock: claim up to max_jobs ready jobs for a process.
-- First promotes due scheduled jobs (at most 1,000 per call, skipping rows
-- another fetch is promoting). Then claims, in one statement, the first
-- ready jobs by priority (smaller first), run_at, id with FOR UPDATE SKIP
-- LOCKED, walking one ordered range of the per-queue ready index for each
-- selected queue (LATERAL) and merging; '*' and '-a,b' take the queue names
-- from goodjob_queues, so their cost grows with the number of queue names
-- ever used (one index probe each), not with the number of jobs.
-- Paused queues, tasks and labels are skipped. Each claimed job becomes
-- 'running' with attempts + 1, started_at and locked_by = process_id (the
-- attempt's execution row is written when it ends). No NOTIFY.
-- Plans: the statements here are planned once per session and reused
-- (plan_cache_mode = force_generic_plan). Left to itself, PL/pgSQL re-plans
-- the claim on every call, because a custom plan for the queue array looks
-- cheaper than the generic one; planning was about half of a fetch's cost.
-- The generic plan is the same shape (one ordered index range per queue)
-- whatever the arguments, and its cost estimate is high enough to trigger
-- JIT compilation (milliseconds per call), hence jit = off.
-- Errors: GJ007 selector, GJ008 max_jobs, GJ009 unknown process.
create function goodjob_fetch_and_lock(
  process_id uuid,
  queues text default '*',
  max_jobs int default 1,
  as_of timestamptz default now()
) returns setof goodjob_jobs
language plpgsql volatile
set search_path from current set plan_cache_mode = force_generic_plan set jit = off as $$
declare
  v_mode text;
  v_names text[];
  v_paused_queues text[];
  v_paused_tasks text[];
  v_paused_labels text[];
begin
  if max_jobs is null or max_jobs < 1 or max_jobs > 1000 then
    raise exception 'invalid max_jobs %: must be between 1 and 1000', coalesce(max_jobs::text, 'null')
      using errcode = 'GJ008';
  end if;
  if not exists (select 1 from goodjob_processes p where p.id = goodjob_fetch_and_lock.process_id) then
    raise exception 'unknown process %', coalesce(goodjob_fetch_and_lock.process_id::text, 'null')
      using errcode = 'GJ009', hint = 'Call goodjob_register_process first (or again, after a rescue).';
  end if;
  select p.mode, p.names into v_mode, v_names from goodjob__parse_queues(queues) p;

  update goodjob_jobs j set state = 'queued'
   where j.id in (select s.id from goodjob_jobs s
                   where s.state = 'scheduled' and s.run_at <= as_of
                   order by s.run_at
                   limit 1000
                   for update skip locked);

  select array_agg(ps.name) filter (where ps.kind = 'queue'),
         array_agg(ps.name) filter (where ps.kind = 'task'),
         array_agg(ps.name) filter (where ps.kind = 'label')
    into v_paused_queues, v_paused_tasks, v_paused_labels
    from goodjob_pauses ps;

  -- '*' and '-a,b' walk the per-queue index once per known queue: one index
  -- for every selector, and a queue list never filters a shared index.
  if v_mode in ('all', 'except') then
    v_names := array(select q.name from goodjob_queues q where q.name <> all(v_names) order by q.name);
  end if;
  if v_paused_queues is not null then
    v_names := array(select n from unnest(v_names) with ordinality as x(n, ord)
                     where n <> all(v_paused_queues) order by ord);
  end if;

  return query
  with candidates as materialized (
    select c.id
    from unnest(v_names) with ordinality as q(name, ord)
    cross join lateral (
      select j.id, j.priority, j.run_at
      from goodjob_jobs j
      where j.state = 'queued' and j.queue = q.name
        and (v_paused_tasks is null or j.task <> all(v_paused_tasks))
        and (v_paused_labels is null or not j.labels && v_paused_labels)
      order by j.priority, j.run_at, j.id
      limit max_jobs
      for update skip locked
    ) c
    order by case when v_mode = 'ordered' then q.ord else 0 end, c.priority, c.run_at, c.id
    limit max_jobs
  ),
  claimed as (
    update goodjob_jobs j
       set state = 'running', attempts = j.attempts + 1, started_at = as_of,
           locked_by = goodjob_fetch_and_lock.process_id
      from candidates c
     where j.id = c.id
    returning j.*
  )
  -- Return the rows in claim order: for '+a,b' that is queue order first.
  select * from claimed c
  order by case when v_mode = 'ordered' then array_position(v_names, c.queue) else 0 end,
           c.priority, c.run_at, c.id;
end
$$;
comment on function goodjob_fetch_and_lock(uuid, text, int, timestamptz) is
  'Claim up to max_jobs (1..1000) ready jobs for a registered process, by priority (smaller first), run_at, id, with FOR UPDATE SKIP LOCKED. queues: * (all), a,b (only these), +a,b (these, in order), -a,b (all but these). Due scheduled jobs are promoted first; paused queues, tasks and labels are skipped. Returns the claimed rows, already running with attempts incremented. Errors: GJ007, GJ008, GJ009.';

-- goodjob_upcoming_run_times: the next future run times, for a worker's
-- wake-up cache.
create function goodjob_upcoming_run_times(max_rows int default 10000)
returns table (queue text, run_at timestamptz)
language sql stable set search_path from current as $$
  select j.queue, j.run_at from goodjob_jobs j
  where j.state = 'scheduled'
  order by j.run_at
  limit greatest(coalesce(max_rows, 10000), 0)
$$;
comment on function goodjob_upcoming_run_times(int) is
  'The earliest max_rows run times of scheduled jobs with their queues, so a worker can wake exactly when they are due.';

-------------------------------------------------------------------------------
-- Results and retry policy
-------------------------------------------------------------------------------

create type goodjob_report_outcome as (id uuid, accepted boolean, state text, run_at timestamptz);

-- goodjob_report: record the results of many attempts in one statement,
-- given as parallel arrays (the worker's form; goodjob_report_results takes
-- JSON). Outcomes:
--   succeeded  the job succeeded;
--   failed     SQL decides: another attempt after the task's backoff
--              (state 'scheduled') while attempts < max_attempts, else
--              'discarded';
--   discarded  discard now (an error the task marks final);
--   retry      run again now, or at run_at, counting the attempt.
-- Fencing: a result is accepted only while the job is 'running',
-- locked_by = process_id and attempts = attempt; otherwise accepted = false
-- and nothing changes (the job was rescued and belongs to someone else).
-- Jobs are locked in id order (as rescue does), so the two never deadlock.
-- Each accepted result writes the attempt's row in goodjob_executions.
-- Preservation: succeeded jobs are deleted when the task's (else the global)
-- policy is 'never' or 'on_discard'; discarded ones when it is 'never'
-- (with their executions). jit = off: JIT compilation would cost more than
-- the statement itself.
-- Errors: GJ013 for arrays of different lengths or more than one dimension,
-- a null or repeated id, a null attempt, or an unknown outcome.
create function goodjob_report(
  process_id uuid,
  ids uuid[],
  attempts int[],
  outcomes text[],
  error_classes text[] default null,
  error_messages text[] default null,
  error_backtraces text[] default null,
  run_ats timestamptz[] default null,
  as_of timestamptz default now()
) returns setof goodjob_report_outcome
language plpgsql volatile set search_path from current set jit = off as $$
declare
  v_policy text;
  v_n int := cardinality(ids);
begin
  if v_n is null or cardinality(attempts) is distinct from v_n or cardinality(outcomes) is distinct from v_n
     or greatest(array_ndims(ids), array_ndims(attempts), array_ndims(outcomes), array_ndims(error_classes),
                 array_ndims(error_messages), array_ndims(error_backtraces), array_ndims(run_ats)) > 1
     or cardinality(coalesce(error_classes, ids::text[])) <> v_n
     or cardinality(coalesce(error_messages, ids::text[])) <> v_n
     or cardinality(coalesce(error_backtraces, ids::text[])) <> v_n
     or cardinality(coalesce(run_ats, array_fill(null::timestamptz, array[v_n]))) <> v_n then
    raise exception 'invalid results: ids, attempts and outcomes (and any error or run_at arrays) must have the same length'
      using errcode = 'GJ013';
  end if;
  if array_position(ids, null) is not null or array_position(attempts, null) is not null
     or not outcomes <@ '{succeeded,failed,discarded,retry}'::text[] or array_position(outcomes, null) is not null
     or (v_n > 1 and (select count(distinct x) from unnest(ids) x) <> v_n) then
    raise exception 'invalid results: ids must be unique and not null, attempts not null, outcomes one of succeeded, failed, discarded, retry; got outcomes %',
      outcomes using errcode = 'GJ013';
  end if;
  select s.value #>> '{}' into v_policy from goodjob_settings s where s.key = 'preserve_job_records';

  return query
  with r as (
    select x.*
    from unnest(ids, attempts, outcomes, error_classes, error_messages, error_backtraces, run_ats)
         with ordinality as x(id, attempt, outcome, error_class, error_message, error_backtrace, run_at, ord)
  ),
  cur as (
    select j.id, r.attempt, r.outcome, r.error_class, r.error_message, r.error_backtrace,
           j.started_at, n.state,
           case n.state
             when 'queued' then as_of
             when 'scheduled' then coalesce(r.run_at, as_of + make_interval(
                    secs => goodjob_backoff_seconds(t.backoff, t.backoff_base, j.attempts)))
             else j.run_at
           end as run_at,
           (n.state = 'succeeded' and coalesce(t.preserve, v_policy, 'always') <> 'always')
             or (n.state = 'discarded' and coalesce(t.preserve, v_policy, 'always') = 'never') as drop
    from r
    join goodjob_jobs j
      on j.id = r.id and j.state = 'running'
     and j.locked_by = goodjob_report.process_id and j.attempts = r.attempt
    left join goodjob_tasks t on t.name = j.task
    cross join lateral (
      select case
        when r.outcome in ('succeeded', 'discarded') then r.outcome
        when j.attempts >= j.max_attempts then 'discarded'
        when r.outcome = 'retry' and coalesce(r.run_at, as_of) <= as_of then 'queued'
        else 'scheduled'
      end as state
    ) n
    -- Lock in id order, as goodjob__interrupt_jobs does, so a report racing
    -- a rescue of the same jobs waits instead of deadlocking.
    order by j.id
    for update of j
  ),
  kept as (
    update goodjob_jobs j
       set state = c.state, run_at = c.run_at, locked_by = null,
           finished_at = case when c.state in ('succeeded', 'discarded') then as_of end,
           -- nullif: a retry reported without an error leaves no error ('').
           last_error = case when c.outcome = 'succeeded' then null
                             else nullif(concat_ws(': ', c.error_class, c.error_message), '') end
      from cur c
     where j.id = c.id and not c.drop
  ),
  dropped as (
    delete from goodjob_jobs j using cur c where j.id = c.id and c.drop
  ),
  recorded as (
    insert into goodjob_executions (job_id, attempt, process_id, started_at, finished_at, outcome,
                                    error_class, error_message, error_backtrace)
    select c.id, c.attempt, goodjob_report.process_id, c.started_at, as_of,
           case when c.state in ('succeeded', 'discarded') then c.state else 'failed' end,
           case when c.state <> 'succeeded' then c.error_class end,
           case when c.state <> 'succeeded' then c.error_message end,
           case when c.state <> 'succeeded' then c.error_backtrace end
      from cur c
     where not c.drop
  ),
  dropped_executions as (
    delete from goodjob_executions e using cur c where e.job_id = c.id and c.drop
  )
  select r.id, c.id is not null, c.state,
         case when c.state in ('queued', 'scheduled') then c.run_at end
  from r left join cur c on c.id = r.id
  order by r.ord;
end
$$;
comment on function goodjob_report(uuid, uuid[], int[], text[], text[], text[], text[], timestamptz[], timestamptz) is
  'Record results of many attempts in one call, as parallel arrays: ids, attempts, outcomes (succeeded | failed: retry after the task''s backoff while attempts remain, else discarded | discarded | retry: again now or at run_ats[i], counting the attempt), and optional error_classes, error_messages, error_backtraces, run_ats. A result is accepted only while the job is running for this process and attempt (fencing); returns per result whether it was accepted, the new state and the next run time. Errors: GJ013.';

-- goodjob_report_results: goodjob_report with the results as a JSON array
-- of {"id", "attempt", "outcome", "error_class", "error_message",
-- "error_backtrace", "run_at"} (handy from psql and from languages where
-- arrays are awkward). Errors: GJ013 for a malformed results array.
create function goodjob_report_results(
  process_id uuid,
  results jsonb,
  as_of timestamptz default now()
) returns setof goodjob_report_outcome
language plpgsql volatile set search_path from current as $$
begin
  if jsonb_typeof(results) is distinct from 'array'
     or exists (select 1 from jsonb_array_elements(results) e(r)
                where jsonb_typeof(e.r) <> 'object'
                   or jsonb_typeof(e.r -> 'id') is distinct from 'string'
                   or not (e.r ->> 'id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$'
                   or jsonb_typeof(e.r -> 'attempt') is distinct from 'number'
                   or not (e.r ->> 'attempt') ~ '^[0-9]{1,9}$'
                   or not coalesce(e.r ->> 'outcome' in ('succeeded', 'failed', 'discarded', 'retry'), false)
                   or jsonb_typeof(coalesce(e.r -> 'run_at', 'null')) not in ('string', 'null'))
     or (select count(*) <> count(distinct (e.r ->> 'id')::uuid) from jsonb_array_elements(results) e(r)) then
    raise exception 'invalid results %', coalesce(left(results::text, 120), 'null')
      using errcode = 'GJ013',
            detail = 'Expected a JSON array of objects with a unique id, an attempt number and an outcome of succeeded, failed, discarded or retry.';
  end if;
  -- run_at is rare (a retry at a given time): check it parses only when present.
  if exists (select 1 from jsonb_array_elements(results) e(r) where jsonb_typeof(e.r -> 'run_at') = 'string') then
    begin
      perform (e.r ->> 'run_at')::timestamptz from jsonb_array_elements(results) e(r);
    exception
      when invalid_text_representation or invalid_datetime_format or datetime_field_overflow then
        raise exception 'invalid results: %', sqlerrm using errcode = 'GJ013';
    end;
  end if;
  return query
  select o.*
  from (select array_agg(x.id order by x.ord) as ids, array_agg(x.attempt order by x.ord) as attempts,
               array_agg(x.outcome order by x.ord) as outcomes,
               array_agg(x.error_class order by x.ord) as error_classes,
               array_agg(x.error_message order by x.ord) as error_messages,
               array_agg(x.error_backtrace order by x.ord) as error_backtraces,
               array_agg(x.run_at order by x.ord) as run_ats
        from rows from (jsonb_to_recordset(results)
                        as (id uuid, attempt int, outcome text, error_class text, error_message text,
                            error_backtrace text, run_at timestamptz))
             with ordinality as x(id, attempt, outcome, error_class, error_message, error_backtrace, run_at, ord)
       ) a,
       goodjob_report(goodjob_report_results.process_id, coalesce(a.ids, '{}'), coalesce(a.attempts, '{}'),
                      coalesce(a.outcomes, '{}'), a.error_classes, a.error_messages, a.error_backtraces,
                      a.run_ats, as_of) o;
end
$$;
comment on function goodjob_report_results(uuid, jsonb, timestamptz) is
  'Record results of many attempts in one call. results: JSON array of {id, attempt, outcome, error_class, error_message, error_backtrace, run_at} with outcome succeeded | failed (retry after the task''s backoff while attempts remain, else discarded) | discarded | retry (again now or at run_at; counts the attempt). A result is accepted only while the job is running for this process and attempt (fencing); returns per result whether it was accepted, the new state and the next run time. The same as goodjob_report with arrays. Errors: GJ013.';

-- goodjob_succeed_job / goodjob_fail_job: one-result forms for psql users.
create function goodjob_succeed_job(id uuid, process_id uuid, attempt int) returns boolean
language sql volatile set search_path from current as $$
  select o.accepted
  from goodjob_report_results(goodjob_succeed_job.process_id,
         jsonb_build_array(jsonb_build_object('id', goodjob_succeed_job.id,
                                              'attempt', goodjob_succeed_job.attempt,
                                              'outcome', 'succeeded'))) o
$$;
comment on function goodjob_succeed_job(uuid, uuid, int) is
  'Report that attempt N of a job succeeded. Returns false when the result was refused (the job is no longer running for this process and attempt).';

create function goodjob_fail_job(
  id uuid,
  process_id uuid,
  attempt int,
  error_class text,
  error_message text,
  error_backtrace text default null,
  discard boolean default false
) returns text
language sql volatile set search_path from current as $$
  select case when o.accepted then o.state end
  from goodjob_report_results(goodjob_fail_job.process_id,
         jsonb_build_array(jsonb_build_object(
           'id', goodjob_fail_job.id, 'attempt', goodjob_fail_job.attempt,
           'outcome', case when goodjob_fail_job.discard then 'discarded' else 'failed' end,
           'error_class', goodjob_fail_job.error_class, 'error_message', goodjob_fail_job.error_message,
           'error_backtrace', goodjob_fail_job.error_backtrace))) o
$$;
comment on function goodjob_fail_job(uuid, uuid, int, text, text, text, boolean) is
  'Report that attempt N of a job failed; with discard => true the job is discarded now, otherwise the retry policy decides. Returns the new state (scheduled or discarded), or null when the result was refused.';

-------------------------------------------------------------------------------
-- Operator functions
-------------------------------------------------------------------------------

-- goodjob__job_state_error: raise GJ010 when a job does not exist, else
-- GJ011 naming its state and what the operation accepts.
create function goodjob__job_state_error(id uuid, operation text, allowed text) returns void
language plpgsql stable set search_path from current as $$
declare
  v_state text;
begin
  select j.state into v_state from goodjob_jobs j where j.id = goodjob__job_state_error.id;
  if not found then
    raise exception 'job % not found', coalesce(goodjob__job_state_error.id::text, 'null')
      using errcode = 'GJ010';
  end if;
  raise exception 'cannot % job %: it is %', operation, goodjob__job_state_error.id, v_state
    using errcode = 'GJ011',
          hint = format('Only %s jobs can be %s.', allowed,
                        case operation when 'retry' then 'retried' when 'reschedule' then 'rescheduled'
                                       else operation || 'ed' end);
end
$$;

-- goodjob_retry_job: run a discarded or waiting job again now. A job out of
-- attempts gets one more. Sends NOTIFY. Errors: GJ010, GJ011.
create function goodjob_retry_job(id uuid) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_queue text;
begin
  update goodjob_jobs j
     set state = 'queued', run_at = now(), finished_at = null,
         max_attempts = greatest(j.max_attempts, j.attempts + 1)
   where j.id = goodjob_retry_job.id and j.state in ('discarded', 'scheduled', 'queued')
  returning j.queue into v_queue;
  if not found then
    perform goodjob__job_state_error(goodjob_retry_job.id, 'retry', 'discarded, scheduled or queued');
  end if;
  perform pg_notify(goodjob__channel(), json_build_object('queue', v_queue)::text);
  return goodjob_retry_job.id;
end
$$;
comment on function goodjob_retry_job(uuid) is
  'Make a discarded, scheduled or queued job ready to run now (a job out of attempts gets one more). Returns the id. Errors: GJ010 not found, GJ011 running or succeeded.';

-- goodjob_discard_job: discard a job that is waiting to run. Errors: GJ010,
-- GJ011 (running jobs belong to their worker; finished jobs are final).
create function goodjob_discard_job(id uuid, reason text default null) returns uuid
language plpgsql volatile set search_path from current as $$
begin
  update goodjob_jobs j
     set state = 'discarded', finished_at = now(),
         last_error = coalesce(goodjob_discard_job.reason, 'discarded by an operator')
   where j.id = goodjob_discard_job.id and j.state in ('scheduled', 'queued');
  if not found then
    perform goodjob__job_state_error(goodjob_discard_job.id, 'discard', 'scheduled or queued');
  end if;
  return goodjob_discard_job.id;
end
$$;
comment on function goodjob_discard_job(uuid, text) is
  'Discard a scheduled or queued job, recording the reason as its last_error. The row is kept. Returns the id. Errors: GJ010 not found, GJ011 running or finished.';

-- goodjob_reschedule_job: move a waiting job to another run time.
-- Errors: GJ010, GJ011, GJ013 (null run_at).
create function goodjob_reschedule_job(id uuid, run_at timestamptz) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_queue text;
begin
  if goodjob_reschedule_job.run_at is null then
    raise exception 'invalid run_at null: pass the new run time' using errcode = 'GJ013';
  end if;
  update goodjob_jobs j
     set run_at = goodjob_reschedule_job.run_at,
         state = case when goodjob_reschedule_job.run_at > now() then 'scheduled' else 'queued' end
   where j.id = goodjob_reschedule_job.id and j.state in ('scheduled', 'queued')
  returning j.queue into v_queue;
  if not found then
    perform goodjob__job_state_error(goodjob_reschedule_job.id, 'reschedule', 'scheduled or queued');
  end if;
  perform pg_notify(goodjob__channel(), case when goodjob_reschedule_job.run_at > now()
                                    then json_build_object('queue', v_queue, 'run_at', goodjob_reschedule_job.run_at)
                                    else json_build_object('queue', v_queue) end::text);
  return goodjob_reschedule_job.id;
end
$$;
comment on function goodjob_reschedule_job(uuid, timestamptz) is
  'Move a scheduled or queued job to run at run_at (now or in the past makes it ready). Returns the id. Errors: GJ010, GJ011, GJ013.';

-- goodjob_cleanup_preserved_jobs: delete finished jobs (and their
-- executions) that finished before as_of - older_than, oldest first, 1,000
-- per statement. Returns how many jobs were deleted. Errors: GJ013.
create function goodjob_cleanup_preserved_jobs(
  older_than interval default '14 days',
  include_discarded boolean default true,
  as_of timestamptz default now()
) returns bigint
language plpgsql volatile set search_path from current as $$
declare
  v_total bigint := 0;
  v_chunk int;
begin
  if as_of is null then
    raise exception 'invalid as_of null: pass a time or omit it' using errcode = 'GJ013';
  end if;
  if older_than is null or older_than < interval '0' then
    raise exception 'invalid older_than %: must be an interval >= 0', coalesce(older_than::text, 'null')
      using errcode = 'GJ013';
  end if;
  loop
    with doomed as (
      select j.id from goodjob_jobs j
      where j.state in ('succeeded', 'discarded')
        and (coalesce(include_discarded, true) or j.state = 'succeeded')
        and j.finished_at < as_of - older_than
      order by j.finished_at
      limit 1000
      for update skip locked
    ),
    executions_deleted as (
      delete from goodjob_executions e using doomed d where e.job_id = d.id
    ),
    jobs_deleted as (
      delete from goodjob_jobs j using doomed d where j.id = d.id returning 1
    )
    select count(*) into v_chunk from jobs_deleted;
    v_total := v_total + v_chunk;
    exit when v_chunk < 1000;
  end loop;
  return v_total;
end
$$;
comment on function goodjob_cleanup_preserved_jobs(interval, boolean, timestamptz) is
  'Delete succeeded (and, unless include_discarded is false, discarded) jobs that finished more than older_than before as_of, with their executions, in chunks of 1,000. Returns the number of jobs deleted. Errors: GJ013.';

-- goodjob_pause / goodjob_resume: stop or restart fetching the ready jobs of
-- a queue, a task or a label (any combination of the three arguments).
-- Nothing else changes: running jobs finish, enqueue goes on.
-- Errors: GJ013 when no target is given, GJ004 bad queue, GJ001 bad task.
create function goodjob_pause(queue text default null, task text default null, label text default null)
returns void
language plpgsql volatile set search_path from current as $$
begin
  if num_nulls(queue, task, label) = 3 then
    raise exception 'nothing to pause: pass queue, task or label' using errcode = 'GJ013';
  end if;
  insert into goodjob_pauses (kind, name)
  select v.kind, v.name
  from (values ('queue', goodjob__check_queue_or_null(queue)),
               ('task', case when task is not null then goodjob__check_task(task) end),
               ('label', case when label is not null then (goodjob__check_labels(array[label]))[1] end)) as v(kind, name)
  where v.name is not null
  on conflict do nothing;
end
$$;
comment on function goodjob_pause(text, text, text) is
  'Pause a queue, a task and/or a label: their ready jobs are not fetched until resumed. Running jobs finish and enqueue continues. Errors: GJ013 nothing given, GJ004, GJ001, GJ006.';

create function goodjob_resume(queue text default null, task text default null, label text default null)
returns void
language plpgsql volatile set search_path from current as $$
declare
  v_deleted int;
begin
  if num_nulls(queue, task, label) = 3 then
    raise exception 'nothing to resume: pass queue, task or label' using errcode = 'GJ013';
  end if;
  delete from goodjob_pauses p
   where (p.kind = 'queue' and p.name = goodjob_resume.queue)
      or (p.kind = 'task' and p.name = goodjob_resume.task)
      or (p.kind = 'label' and p.name = goodjob_resume.label);
  get diagnostics v_deleted = row_count;
  if v_deleted > 0 and goodjob_resume.queue is not null then
    perform pg_notify(goodjob__channel(), json_build_object('queue', goodjob_resume.queue)::text);
  end if;
end
$$;
comment on function goodjob_resume(text, text, text) is
  'Resume a paused queue, task and/or label. Resuming what is not paused does nothing. Errors: GJ013 nothing given.';

create function goodjob__check_queue_or_null(queue text) returns text
language sql immutable set search_path from current as $$
  select case when queue is null then null else goodjob__check_queue(queue) end
$$;

-------------------------------------------------------------------------------
-- Views for psql
-------------------------------------------------------------------------------

-- Per queue: jobs waiting, ready, running, retrying, discarded, succeeded in
-- the last hour, the age of the oldest ready job, and whether it is paused.
create view goodjob_queue_stats as
select q.name as queue,
       count(j.id) filter (where j.state = 'scheduled' and j.last_error is null) as scheduled,
       count(j.id) filter (where j.state = 'queued') as queued,
       count(j.id) filter (where j.state = 'running') as running,
       count(j.id) filter (where j.state = 'scheduled' and j.last_error is not null) as retrying,
       count(j.id) filter (where j.state = 'discarded') as discarded,
       count(j.id) filter (where j.state = 'succeeded' and j.finished_at > now() - interval '1 hour')
         as succeeded_last_hour,
       now() - min(j.run_at) filter (where j.state = 'queued') as oldest_ready_age,
       exists (select 1 from goodjob_pauses p where p.kind = 'queue' and p.name = q.name) as paused
from goodjob_queues q
left join goodjob_jobs j on j.queue = q.name
group by q.name;
comment on view goodjob_queue_stats is
  'Per queue: scheduled, queued (ready), running, retrying (waiting after a failure), discarded, succeeded in the last hour, age of the oldest ready job, paused.';

create view goodjob_running_jobs as
select j.id, j.task, j.queue, j.priority, j.attempts, j.max_attempts, j.started_at,
       now() - j.started_at as running_for, j.locked_by as process_id, p.hostname, p.pid
from goodjob_jobs j
left join goodjob_processes p on p.id = j.locked_by
where j.state = 'running';
comment on view goodjob_running_jobs is 'Running jobs with the process (host, pid) that holds them.';

create view goodjob_process_status as
select p.id, p.hostname, p.pid, p.queues, p.started_at, p.heartbeat_at,
       now() - p.heartbeat_at as heartbeat_age,
       exists (select 1 from goodjob__live_lease_keys() k where k = p.lease_key) as alive,
       (select count(*) from goodjob_jobs j where j.state = 'running' and j.locked_by = p.id) as running_jobs,
       p.state
from goodjob_processes p;
comment on view goodjob_process_status is
  'Registered processes with heartbeat age, whether their lease is held (alive) and how many jobs they are running.';
