-- 0005_concurrency: concurrency controls and throttling, enforced in SQL.
--
-- A task definition may carry limits on the jobs that share a concurrency
-- key (the job's concurrency_key; a job of a limited task enqueued without
-- one gets the task name):
--   total_limit       unfinished jobs (scheduled, queued, running) per key;
--   enqueue_limit     jobs waiting to run (scheduled, queued) per key;
--   enqueue_throttle  jobs enqueued per key within a period;
--   perform_limit     jobs running at once per key;
--   perform_throttle  jobs started per key within a period.
-- The first three are checked by goodjob_enqueue and goodjob_enqueue_many:
-- a job over a limit is not written and its id comes back NULL. The last
-- two are checked by goodjob_fetch_and_lock: a job whose key is at its limit
-- is not claimed; it stays queued with its attempts and its place, and is
-- claimed by the first fetch after a slot frees.
--
-- Advisory transaction locks, two name spaces so that enqueuers and
-- fetchers never wait for each other:
--   (goodjob__lock_class() + 1, hashtext(key))  enqueue-side checks of a key;
--   (goodjob__lock_class() + 2, hashtext(key))  fetch-side claims of a key.
-- (goodjob__lock_class(), *) are the process leases and the
-- wake-up gate of 0001.
--
-- Errors raised here: GJ020 bad limit, GJ021 bad concurrency key.

insert into goodjob_migrations (version, name) values ('0005', 'concurrency');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-------------------------------------------------------------------------------
-- Limits on task definitions
-------------------------------------------------------------------------------

alter table goodjob_tasks
  add column total_limit              int,
  add column enqueue_limit            int,
  add column perform_limit            int,
  add column enqueue_throttle_limit   int,
  add column enqueue_throttle_period  interval,
  add column perform_throttle_limit   int,
  add column perform_throttle_period  interval,
  add constraint goodjob_tasks_concurrency_limits_positive
    check (total_limit >= 1 and enqueue_limit >= 1 and perform_limit >= 1
           and enqueue_throttle_limit >= 1 and perform_throttle_limit >= 1),
  add constraint goodjob_tasks_enqueue_throttle_complete
    check ((enqueue_throttle_limit is null) = (enqueue_throttle_period is null)
           and enqueue_throttle_period > interval '0'),
  add constraint goodjob_tasks_perform_throttle_complete
    check ((perform_throttle_limit is null) = (perform_throttle_period is null)
           and perform_throttle_period > interval '0');

-- The fetch reads the names of tasks with perform-side limits on every call;
-- with none defined this index is empty and the probe costs one page.
create index goodjob_tasks_perform_limited_idx
  on goodjob_tasks (name) where perform_limit is not null or perform_throttle_limit is not null;

-- Counts per key. Partial on concurrency_key is not null, so jobs without a
-- key never enter them (nothing at insert, claim or finish).
-- Unfinished jobs by key and state: total_limit, enqueue_limit, perform_limit.
-- "finished_at is null" is "state in ('scheduled', 'queued', 'running')"
-- (constraint goodjob_jobs_finished_has_time), written so that the per-queue
-- index stays the only index whose predicate names ready jobs.
create index goodjob_jobs_concurrency_key_state_idx
  on goodjob_jobs (concurrency_key, state)
  where concurrency_key is not null and finished_at is null;
-- Jobs enqueued per key over time: enqueue_throttle.
create index goodjob_jobs_concurrency_key_created_at_idx
  on goodjob_jobs (concurrency_key, created_at) where concurrency_key is not null;
-- Jobs started per key over time (the latest attempt's start): perform_throttle.
create index goodjob_jobs_concurrency_key_started_at_idx
  on goodjob_jobs (concurrency_key, started_at)
  where concurrency_key is not null and started_at is not null;

-- goodjob_define_concurrency: set (or, with nulls, clear) the concurrency
-- limits of a task. Creates the task definition if there is none; leaves its
-- other defaults alone (goodjob_define_task likewise leaves the limits).
-- A throttle is a number of jobs and a period: both or neither.
-- Errors: GJ001 task name, GJ020 a limit below 1, a throttle with only one
-- half, or a period that is not positive.
create function goodjob_define_concurrency(
  task text,
  total_limit int default null,
  enqueue_limit int default null,
  perform_limit int default null,
  enqueue_throttle_limit int default null,
  enqueue_throttle_period interval default null,
  perform_throttle_limit int default null,
  perform_throttle_period interval default null
) returns void
language plpgsql volatile set search_path from current as $$
declare
  v_name text;
  v_value int;
begin
  perform goodjob__check_task(goodjob_define_concurrency.task);
  foreach v_name in array array['total_limit', 'enqueue_limit', 'perform_limit',
                                'enqueue_throttle_limit', 'perform_throttle_limit'] loop
    v_value := case v_name
      when 'total_limit' then goodjob_define_concurrency.total_limit
      when 'enqueue_limit' then goodjob_define_concurrency.enqueue_limit
      when 'perform_limit' then goodjob_define_concurrency.perform_limit
      when 'enqueue_throttle_limit' then goodjob_define_concurrency.enqueue_throttle_limit
      else goodjob_define_concurrency.perform_throttle_limit
    end;
    if v_value < 1 then
      raise exception 'invalid % %: must be at least 1', v_name, v_value
        using errcode = 'GJ020', hint = 'Pass null for no limit.';
    end if;
  end loop;
  if (enqueue_throttle_limit is null) <> (enqueue_throttle_period is null)
     or (perform_throttle_limit is null) <> (perform_throttle_period is null) then
    raise exception 'invalid throttle for task %: give both the number of jobs and the period, or neither',
      quote_literal(goodjob_define_concurrency.task) using errcode = 'GJ020';
  end if;
  if enqueue_throttle_period <= interval '0' or perform_throttle_period <= interval '0' then
    raise exception 'invalid throttle period %: must be positive',
      coalesce(least(enqueue_throttle_period, perform_throttle_period)::text, 'null')
      using errcode = 'GJ020';
  end if;

  insert into goodjob_tasks as t (name, total_limit, enqueue_limit, perform_limit,
                                  enqueue_throttle_limit, enqueue_throttle_period,
                                  perform_throttle_limit, perform_throttle_period)
  values (goodjob_define_concurrency.task, goodjob_define_concurrency.total_limit,
          goodjob_define_concurrency.enqueue_limit, goodjob_define_concurrency.perform_limit,
          goodjob_define_concurrency.enqueue_throttle_limit, goodjob_define_concurrency.enqueue_throttle_period,
          goodjob_define_concurrency.perform_throttle_limit, goodjob_define_concurrency.perform_throttle_period)
  on conflict on constraint goodjob_tasks_pkey do update
    set total_limit = excluded.total_limit, enqueue_limit = excluded.enqueue_limit,
        perform_limit = excluded.perform_limit,
        enqueue_throttle_limit = excluded.enqueue_throttle_limit,
        enqueue_throttle_period = excluded.enqueue_throttle_period,
        perform_throttle_limit = excluded.perform_throttle_limit,
        perform_throttle_period = excluded.perform_throttle_period, updated_at = now()
    where (t.total_limit, t.enqueue_limit, t.perform_limit, t.enqueue_throttle_limit,
           t.enqueue_throttle_period, t.perform_throttle_limit, t.perform_throttle_period)
          is distinct from
          (excluded.total_limit, excluded.enqueue_limit, excluded.perform_limit,
           excluded.enqueue_throttle_limit, excluded.enqueue_throttle_period,
           excluded.perform_throttle_limit, excluded.perform_throttle_period);
end
$$;
comment on function goodjob_define_concurrency(text, int, int, int, int, interval, int, interval) is
  'Set the concurrency limits of a task (null: no limit; all null: no control). Per concurrency key (the job''s concurrency_key, else the task name): total_limit unfinished jobs, enqueue_limit jobs waiting to run, enqueue_throttle_limit jobs enqueued per enqueue_throttle_period (checked at enqueue: an enqueue over a limit writes nothing and returns null); perform_limit jobs running at once, perform_throttle_limit jobs started per perform_throttle_period (checked at fetch: the job waits, keeping its place). Keeps the task''s other defaults. Errors: GJ001, GJ020.';

-------------------------------------------------------------------------------
-- Counting helpers (internal)
-------------------------------------------------------------------------------

-- goodjob__enqueue_slots: how many more jobs the key may take now under the
-- task's enqueue-side limits; null when it has none. Counts stop at the
-- limit (each count reads at most `limit` index entries). The caller holds
-- the key's enqueue lock.
create function goodjob__enqueue_slots(key text, t goodjob_tasks) returns int
language sql stable set search_path from current as $$
  select least(
    case when t.total_limit is not null then
      t.total_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null
           limit t.total_limit) x) end,
    case when t.enqueue_limit is not null then
      t.enqueue_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state in ('scheduled', 'queued')
           limit t.enqueue_limit) x) end,
    case when t.enqueue_throttle_limit is not null then
      t.enqueue_throttle_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.created_at > now() - t.enqueue_throttle_period
           limit t.enqueue_throttle_limit) x) end)::int
$$;

-- goodjob__perform_slots: how many more jobs with this key the task's
-- perform-side limits let start at as_of; null when the task has none.
-- Reads the running jobs of the key (perform_limit) and the jobs whose
-- latest attempt started within the throttle period (perform_throttle),
-- each from its partial index, stopping at the limit.
create function goodjob__perform_slots(key text, task text, as_of timestamptz) returns int
language sql stable set search_path from current as $$
  select least(
    case when t.perform_limit is not null then
      t.perform_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state = 'running'
           limit t.perform_limit) x) end,
    case when t.perform_throttle_limit is not null then
      t.perform_throttle_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.started_at > as_of - t.perform_throttle_period
           limit t.perform_throttle_limit) x) end)::int
  from goodjob_tasks t
  where t.name = task
$$;

-- goodjob__perform_excess: by how many jobs the running jobs of a key (and
-- its starts within the throttle period) exceed the task's perform limits
-- at as_of, 0 when within them. The fetch calls it after claiming, holding
-- the key's fetch lock. Counts stop 1,000 past the limit (a fetch claims at
-- most 1,000 jobs).
create function goodjob__perform_excess(key text, task text, as_of timestamptz) returns int
language sql stable set search_path from current as $$
  select greatest(0,
    case when t.perform_limit is not null then
      (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state = 'running'
           limit t.perform_limit + 1000) x) - t.perform_limit end,
    case when t.perform_throttle_limit is not null then
      (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.started_at > as_of - t.perform_throttle_period
           limit t.perform_throttle_limit + 1000) x) - t.perform_throttle_limit end)::int
  from goodjob_tasks t
  where t.name = task
$$;

-------------------------------------------------------------------------------
-- Enqueue (replaces 0001's goodjob_enqueue and goodjob_enqueue_many)
-------------------------------------------------------------------------------

-- goodjob__check_concurrency_key: raise GJ021 for an empty key or one over
-- 255 characters.
create function goodjob__check_concurrency_key(key text) returns text
language plpgsql immutable set search_path from current as $$
begin
  if length(key) = 0 or length(key) > 255 then
    raise exception 'invalid concurrency_key %: must be 1 to 255 characters', quote_literal(key)
      using errcode = 'GJ021', hint = 'Pass null for no key.';
  end if;
  return key;
end
$$;

-- goodjob_enqueue: write one job. Null options take the task definition's
-- defaults, then the global ones (queue 'default', priority 0,
-- max_attempts 25). A given id that exists returns that job unchanged.
-- Concurrency: a task with limits (goodjob_define_concurrency) gives its job
-- the key concurrency_key, else the task name. With enqueue-side limits
-- (total_limit, enqueue_limit, enqueue_throttle) the check and the insert
-- run under pg_advisory_xact_lock(goodjob__lock_class() + 1, hashtext(key)), held to
-- commit, so concurrent enqueues of one key take turns and never pass a
-- limit together; over a limit nothing is written and the result is null
-- (or the given id, when that job exists). Tasks without limits take no lock.
-- Side effects: the insert trigger NOTIFYs channel goodjob__channel().
-- Errors: GJ001 task, GJ002 args, GJ003 kwargs, GJ004 queue, GJ005
-- max_attempts, GJ006 labels, GJ021 concurrency_key.
create or replace function goodjob_enqueue(
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
  v_key text := goodjob_enqueue.concurrency_key;
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
  if v_key is not null and (length(v_key) = 0 or length(v_key) > 255) then
    perform goodjob__check_concurrency_key(v_key);
  end if;

  if coalesce(v_def.total_limit, v_def.enqueue_limit, v_def.perform_limit,
              v_def.enqueue_throttle_limit, v_def.perform_throttle_limit) is not null then
    v_key := coalesce(v_key, goodjob_enqueue.task);
    if coalesce(v_def.total_limit, v_def.enqueue_limit, v_def.enqueue_throttle_limit) is not null then
      perform pg_advisory_xact_lock(goodjob__lock_class() + 1, hashtext(v_key));
      if goodjob__enqueue_slots(v_key, v_def) < 1 then
        if goodjob_enqueue.id is not null
           and exists (select 1 from goodjob_jobs j where j.id = goodjob_enqueue.id) then
          return goodjob_enqueue.id;
        end if;
        return null;
      end if;
    end if;
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
    v_key,
    goodjob_enqueue.batch_id
  )
  on conflict on constraint goodjob_jobs_pkey do nothing
  returning j.id into v_id;

  return coalesce(v_id, goodjob_enqueue.id);
end
$$;
comment on function goodjob_enqueue(text, jsonb, jsonb, text, int, timestamptz, text[], text, uuid, int, uuid) is
  'Enqueue one job and return its id. Null options take the task definition''s defaults, then queue ''default'', priority 0 (smaller runs first), max_attempts 25. run_at in the future makes the job scheduled. A given id that already exists returns that job unchanged (idempotent enqueue). A task with concurrency limits (goodjob_define_concurrency) keys the job by concurrency_key, else by the task name; over its total_limit, enqueue_limit or enqueue_throttle nothing is written and the result is null. Errors: GJ001 task, GJ002 args, GJ003 kwargs, GJ004 queue, GJ005 max_attempts, GJ006 labels, GJ021 concurrency_key.';

-- goodjob__refused_elements: the positions (from 1) of the elements of a
-- goodjob_enqueue_many array that the enqueue-side limits of their tasks
-- refuse. Locks each limited key with pg_advisory_xact_lock(goodjob__lock_class() + 1,
-- hashtext(key)) in hash order first, then counts: per key, the first
-- elements in input order take the free slots. Elements whose id exists
-- already are neither counted nor refused (they return their id).
create function goodjob__refused_elements(jobs jsonb) returns bigint[]
language plpgsql volatile set search_path from current as $$
begin
  perform pg_advisory_xact_lock(goodjob__lock_class() + 1, x.h)
  from (select distinct hashtext(coalesce(e.job ->> 'concurrency_key', t.name)) as h
          from jsonb_array_elements(jobs) e(job)
          join goodjob_tasks t on t.name = e.job ->> 'task'
         where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null
         order by 1) x;
  return array(
    with elements as (
      select e.ord, coalesce(e.job ->> 'concurrency_key', t.name) as key, t
        from jsonb_array_elements(jobs) with ordinality e(job, ord)
        join goodjob_tasks t on t.name = e.job ->> 'task'
       where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null
         and not exists (select 1 from goodjob_jobs x where x.id = (e.job ->> 'id')::uuid)
    ),
    keys as (
      select distinct on (el.key) el.key, goodjob__enqueue_slots(el.key, el.t) as slots
        from elements el
       order by el.key, el.ord
    )
    select r.ord
      from (select el.ord, k.slots, row_number() over (partition by el.key order by el.ord) as rn
              from elements el join keys k on k.key = el.key) r
     where r.rn > r.slots
     order by r.ord);
end
$$;

-- goodjob_enqueue_many: write many jobs in one statement, all or nothing.
-- `jobs` is a JSON array of objects with goodjob_enqueue's argument names.
-- Returns the ids in input order (an existing id is returned unchanged).
-- Every element is checked with cheap expressions first; only when one
-- fails does goodjob__diagnose_jobs find and name it. Values are checked
-- inside the insert, calling a raising helper only for a bad one.
-- Concurrency, as in goodjob_enqueue: a job of a task with limits is keyed
-- by its concurrency_key, else the task name. Only when some element's task
-- has enqueue-side limits (one probe of goodjob_tasks decides) does a first
-- statement lock those keys (in hash order, so two calls never deadlock)
-- and work out which elements the limits refuse, in input order: the first
-- ones of a key take its free slots. Refused elements are not written and
-- their position in the result holds null.
-- Errors: GJ006 for a malformed element (named by its position), and the
-- errors of goodjob_enqueue.
create or replace function goodjob_enqueue_many(jobs jsonb) returns setof uuid
language plpgsql volatile set search_path from current as $$
declare
  v_prefix text := left(goodjob_uuid_v7()::text, 15);
  v_refused bigint[] := '{}';
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
    if exists (select 1 from goodjob_tasks t
                where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null)
       and exists (select 1 from jsonb_array_elements(jobs) e(job)
                     join goodjob_tasks t on t.name = e.job ->> 'task'
                    where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null) then
      v_refused := goodjob__refused_elements(jobs);
    end if;

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
             coalesce(case when i.concurrency_key is null or length(i.concurrency_key) between 1 and 255
                           then i.concurrency_key else goodjob__check_concurrency_key(i.concurrency_key) end,
                      case when coalesce(t.total_limit, t.enqueue_limit, t.perform_limit,
                                         t.enqueue_throttle_limit, t.perform_throttle_limit) is not null
                           then i.task end) as concurrency_key,
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
      where p.ord <> all(v_refused)
      order by p.ord
      on conflict on constraint goodjob_jobs_pkey do nothing
    )
    select case when p.ord = any(v_refused) then null else p.id end from prepared p order by p.ord;
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
  'Enqueue a JSON array of jobs (objects with goodjob_enqueue''s argument names) in one statement, all or nothing; returns the ids in input order, null for a job refused by its task''s concurrency limits (see goodjob_enqueue). One NOTIFY per queue. Errors: GJ006 for a malformed element, and those of goodjob_enqueue (GJ021 for a bad concurrency_key).';


-------------------------------------------------------------------------------
-- Fetch and lock (replaces 0001's goodjob_fetch_and_lock)
-------------------------------------------------------------------------------

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
-- Concurrency: when no task has a perform_limit or perform_throttle (read
-- with the pauses, in the same statement) the claim is the plain one above.
-- Otherwise a job of such a task with a concurrency key is claimed only
-- while its key has a free slot (goodjob__perform_slots); a job that has
-- none is passed over and stays queued, with its attempts and its place,
-- and jobs behind it are claimed. Jobs without a key, or of tasks without
-- perform limits, are tested by two comparisons and claimed as before.
-- Race-freedom: two fetches must not both take the last slot of a key, and
-- a count sees only claims that committed. So the claim checks the slots
-- as its snapshot shows them (the common case needs nothing more), and then,
-- only when it claimed jobs of limited keys, takes
-- pg_advisory_xact_lock(goodjob__lock_class() + 2, hashtext(key)) for each such key in
-- hash order and counts again with a fresh snapshot. That count sees this
-- fetch's claims and those of every fetch that held the key before (locks
-- are held to commit), so of two racing fetches the second finds the
-- excess and puts its own newest claims of that key back as they were.
-- Checking after the claim rather than locking before it keeps key-less
-- jobs free: a batch without limited jobs takes no lock and runs no second
-- statement (locking first would need a look at the queue before every
-- claim, about 20% of a fetch).
-- Why advisory locks on keys rather than a counter row per key: a counter
-- must also be decremented when a job finishes or is rescued, which would
-- put a write (and a row lock on a hot key row) into the report and rescue
-- paths of every limited job; the running jobs are already in a partial
-- index, so counting them is a few index entries, and a lock on the key is
-- needed only by fetches that are about to claim it. Deadlock-free: the
-- locks are taken in one order (hash, which also folds colliding keys into
-- one lock), and after taking them a fetch waits for nothing but its
-- commit (it only writes rows it has already locked). Enqueue-side locks use another name space, so a long
-- transaction that enqueued a job never holds up a fetch.
-- Plans: the statements here are planned once per session and reused
-- (plan_cache_mode = force_generic_plan). Left to itself, PL/pgSQL re-plans
-- the claim on every call, because a custom plan for the queue array looks
-- cheaper than the generic one; planning was about half of a fetch's cost.
-- The generic plan is the same shape (one ordered index range per queue)
-- whatever the arguments, and its cost estimate is high enough to trigger
-- JIT compilation (milliseconds per call), hence jit = off.
-- Errors: GJ007 selector, GJ008 max_jobs, GJ009 unknown process, GJ013 as_of
-- null or infinite.
create or replace function goodjob_fetch_and_lock(
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
  v_limited_tasks text[];
  v_claimed goodjob_jobs[];
  v_batch goodjob_jobs[];
  v_seen bigint;
  v_want int;
  v_put_back uuid[];
begin
  if max_jobs is null or max_jobs < 1 or max_jobs > 1000 then
    raise exception 'invalid max_jobs %: must be between 1 and 1000', coalesce(max_jobs::text, 'null')
      using errcode = 'GJ008';
  end if;
  if as_of is null or not isfinite(as_of) then
    raise exception 'invalid as_of %: pass a finite time or omit it', coalesce(as_of::text, 'null')
      using errcode = 'GJ013';
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
         array_agg(ps.name) filter (where ps.kind = 'label'),
         (select array_agg(t.name) from goodjob_tasks t
           where t.perform_limit is not null or t.perform_throttle_limit is not null)
    into v_paused_queues, v_paused_tasks, v_paused_labels, v_limited_tasks
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

  if v_limited_tasks is null then
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
    return;
  end if;

  -- Some task has perform limits. Claim as above, passing over jobs whose
  -- key has no free slot as far as this snapshot shows, and taking at most
  -- a key's free slots within the batch. When that cap left the batch short,
  -- claim again for the rest: the next statement sees this one's claims, so
  -- the keys just filled are passed over (rows capped out stay locked by
  -- this transaction until it ends, so no other fetch takes them meanwhile).
  v_claimed := '{}';
  v_want := max_jobs;
  for v_round in 1..10 loop
    with candidates as materialized (
      select c.id, c.concurrency_key, c.priority, c.run_at, c.slots
      from unnest(v_names) with ordinality as q(name, ord)
      cross join lateral (
        select j.id, j.priority, j.run_at, j.concurrency_key,
               case when j.concurrency_key is not null and j.task = any(v_limited_tasks)
                    then goodjob__perform_slots(j.concurrency_key, j.task, as_of) end as slots
        from goodjob_jobs j
        where j.state = 'queued' and j.queue = q.name
          and (v_paused_tasks is null or j.task <> all(v_paused_tasks))
          and (v_paused_labels is null or not j.labels && v_paused_labels)
          and (j.concurrency_key is null or j.task <> all(v_limited_tasks)
               or goodjob__perform_slots(j.concurrency_key, j.task, as_of) > 0)
        order by j.priority, j.run_at, j.id
        limit v_want
        for update skip locked
      ) c
      order by case when v_mode = 'ordered' then q.ord else 0 end, c.priority, c.run_at, c.id
      limit v_want
    ),
    admitted as (
      select c.id
      from (select c.id, c.slots,
                   row_number() over (partition by c.concurrency_key
                                      order by c.priority, c.run_at, c.id) as rn
              from candidates c) c
      where c.slots is null or c.rn <= c.slots
    ),
    claimed as (
      update goodjob_jobs j
         set state = 'running', attempts = j.attempts + 1, started_at = as_of,
             locked_by = goodjob_fetch_and_lock.process_id
        from admitted c
       where j.id = c.id
      returning j.*
    )
    select coalesce((select array_agg(c) from claimed c), '{}'), (select count(*) from candidates)
      into v_batch, v_seen;
    v_claimed := v_claimed || v_batch;
    exit when v_seen = cardinality(v_batch) or cardinality(v_claimed) >= max_jobs;
    v_want := max_jobs - cardinality(v_claimed);
  end loop;

  -- Another fetch may have claimed the same keys meanwhile, unseen by this
  -- snapshot. For each limited key claimed, in hash order, take its lock
  -- and count again with a fresh snapshot: it sees this fetch's claims and
  -- those of every fetch that held the key before (they committed), so the
  -- later of two racing fetches finds the excess and puts its own newest
  -- claims of the key back, untouched: queued, the attempt not counted,
  -- the previous start restored.
  if exists (select 1 from unnest(v_claimed) c
              where c.concurrency_key is not null and c.task = any(v_limited_tasks)) then
    perform pg_advisory_xact_lock(goodjob__lock_class() + 2, x.h)
    from (select distinct hashtext(c.concurrency_key) as h from unnest(v_claimed) c
           where c.concurrency_key is not null and c.task = any(v_limited_tasks)
           order by 1) x;
    with ours as (
      select c.id, c.concurrency_key,
             row_number() over (partition by c.concurrency_key
                                order by c.priority desc, c.run_at desc, c.id desc) as newest,
             goodjob__perform_excess(c.concurrency_key, c.task, as_of) as excess
      from unnest(v_claimed) c
      where c.concurrency_key is not null and c.task = any(v_limited_tasks)
    ),
    put_back as (
      update goodjob_jobs j
         set state = 'queued', attempts = j.attempts - 1, locked_by = null,
             started_at = (select max(e.started_at) from goodjob_executions e where e.job_id = j.id)
        from ours o
       where j.id = o.id and o.newest <= o.excess
      returning j.id
    )
    select coalesce(array_agg(b.id), '{}') into v_put_back from put_back b;
  end if;

  return query
  select * from unnest(v_claimed) c
  where c.id <> all(coalesce(v_put_back, '{}'))
  order by case when v_mode = 'ordered' then array_position(v_names, c.queue) else 0 end,
           c.priority, c.run_at, c.id;
end
$$;
comment on function goodjob_fetch_and_lock(uuid, text, int, timestamptz) is
  'Claim up to max_jobs (1..1000) ready jobs for a registered process, by priority (smaller first), run_at, id, with FOR UPDATE SKIP LOCKED. queues: * (all), a,b (only these), +a,b (these, in order), -a,b (all but these). Due scheduled jobs are promoted first; paused queues, tasks and labels are skipped; a job whose concurrency key is at its task''s perform_limit or perform_throttle is passed over and keeps its place. Returns the claimed rows, already running with attempts incremented. Errors: GJ007, GJ008, GJ009, GJ013 (as_of null or infinite).';

-------------------------------------------------------------------------------
-- Visibility
-------------------------------------------------------------------------------

-- Each active key (one with unfinished jobs) per task, with the task's
-- limits and the current counts that those limits are checked against.
create view goodjob_concurrency_keys as
select k.concurrency_key, k.task,
       t.total_limit, t.enqueue_limit, t.perform_limit,
       t.enqueue_throttle_limit, t.enqueue_throttle_period,
       t.perform_throttle_limit, t.perform_throttle_period,
       k.scheduled, k.queued, k.running,
       case when t.enqueue_throttle_period is not null then
         (select count(*) from goodjob_jobs j
           where j.concurrency_key = k.concurrency_key
             and j.created_at > now() - t.enqueue_throttle_period) end as enqueued_in_period,
       case when t.perform_throttle_period is not null then
         (select count(*) from goodjob_jobs j
           where j.concurrency_key = k.concurrency_key
             and j.started_at > now() - t.perform_throttle_period) end as started_in_period
from (select j.concurrency_key, j.task,
             count(*) filter (where j.state = 'scheduled') as scheduled,
             count(*) filter (where j.state = 'queued') as queued,
             count(*) filter (where j.state = 'running') as running
        from goodjob_jobs j
       where j.concurrency_key is not null and j.finished_at is null
       group by j.concurrency_key, j.task) k
left join goodjob_tasks t on t.name = k.task;
comment on view goodjob_concurrency_keys is
  'Active concurrency keys (with unfinished jobs) per task: the task''s limits and the counts they are checked against (scheduled, queued, running, enqueued and started within the throttle periods; null without a throttle).';
