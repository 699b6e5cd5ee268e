-- 0006_batches: batches of jobs whose callbacks are enqueued by triggers, in
-- the same transaction as the result of the batch's last job.
--
-- A batch counts its jobs (the insert trigger), its succeeded and its
-- discarded jobs (a row trigger on goodjob_jobs that fires only for batch
-- members whose state moves into or out of succeeded/discarded). Once the
-- batch is enqueued ("armed"), the change that finishes its last job also
-- enqueues the on_finish callback (and on_success when nothing was
-- discarded), and the first discard enqueues on_discard. Every counter
-- change locks the batch's row, so two workers finishing the last two jobs
-- at once take turns and exactly one of them sees the batch complete.
-- Callback jobs carry batch_callback_id and the arguments
-- [batch_id, {"event": "finish" | "success" | "discard"}].
-- Errors raised here: GJ030 unknown batch, GJ031 bad batch argument.

insert into goodjob_migrations (version, name) values ('0006', 'batches');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------

-- One row per batch. jobs, succeeded and discarded are kept by triggers on
-- goodjob_jobs (pending = jobs - succeeded - discarded). enqueued_at: the
-- batch is armed (callbacks may fire); finished_at: every job had finished
-- when the batch was armed and the finish callbacks were enqueued (cleared
-- when the batch is enqueued again); discarded_at: the discard callback was
-- enqueued (once per batch).
create table goodjob_batches (
  id                 uuid primary key default goodjob_uuid_v7(),
  description        text,
  properties         jsonb not null default '{}',
  on_finish          text,
  on_success         text,
  on_discard         text,
  callback_queue     text,
  callback_priority  int,
  jobs               int not null default 0,
  succeeded          int not null default 0,
  discarded          int not null default 0,
  created_at         timestamptz not null default now(),
  enqueued_at        timestamptz,
  discarded_at       timestamptz,
  finished_at        timestamptz,
  constraint goodjob_batches_properties_is_object check (jsonb_typeof(properties) = 'object'),
  constraint goodjob_batches_counts_in_range
    check (succeeded >= 0 and discarded >= 0 and succeeded + discarded <= jobs)
);

-- The batch whose callback a job is (null for every other job).
alter table goodjob_jobs add column batch_callback_id uuid;

-- A batch's jobs and its callback jobs. Partial: jobs outside batches add
-- nothing to either index.
create index goodjob_jobs_batch_id_idx on goodjob_jobs (batch_id) where batch_id is not null;
create index goodjob_jobs_batch_callback_id_idx
  on goodjob_jobs (batch_callback_id) where batch_callback_id is not null;

-------------------------------------------------------------------------------
-- Validation and callbacks (internal)
-------------------------------------------------------------------------------

-- goodjob__check_batch_arguments: raise GJ031 for a bad properties object,
-- callback task name or callback queue.
create function goodjob__check_batch_arguments(
  properties jsonb, on_finish text, on_success text, on_discard text, callback_queue text
) returns void
language plpgsql immutable set search_path from current as $$
declare
  v_name text;
  v_value text;
begin
  if properties is not null and jsonb_typeof(properties) <> 'object' then
    raise exception 'invalid batch properties %: must be a JSON object', left(properties::text, 80)
      using errcode = 'GJ031';
  end if;
  for v_name, v_value in
    select * from (values ('on_finish', on_finish), ('on_success', on_success), ('on_discard', on_discard)) v
  loop
    if v_value is not null and not goodjob__task_is_valid(v_value) then
      raise exception 'invalid batch % %: a task name is 1 to 255 characters', v_name, quote_literal(v_value)
        using errcode = 'GJ031';
    end if;
  end loop;
  if callback_queue is not null and not goodjob__queue_is_valid(callback_queue) then
    raise exception 'invalid batch callback_queue %', quote_literal(callback_queue)
      using errcode = 'GJ031',
            detail = 'A queue name is 1 to 128 characters without spaces or any of , ; : * + and does not start with -.';
  end if;
end
$$;

-- goodjob__enqueue_batch_callback: enqueue one callback job of a batch (if
-- the batch names a task for the event) as task(batch_id, {"event": ...})
-- on the batch's callback queue and priority (null: the task's defaults).
create function goodjob__enqueue_batch_callback(batch goodjob_batches, task text, event text)
returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_id uuid;
begin
  if task is null then
    return null;
  end if;
  v_id := goodjob_enqueue(task => task,
                          args => jsonb_build_array(batch.id, jsonb_build_object('event', event)),
                          queue => batch.callback_queue,
                          priority => batch.callback_priority);
  update goodjob_jobs j set batch_callback_id = batch.id where j.id = v_id;
  return v_id;
end
$$;

-- goodjob__fire_batch_callbacks: with the batch's row locked, enqueue the
-- callbacks that are due: on_discard at the first discard of an armed
-- batch (once), on_success and on_finish when an armed batch has no
-- pending job (once per arming).
create function goodjob__fire_batch_callbacks(batch_id uuid) returns void
language plpgsql volatile set search_path from current as $$
declare
  v_batch goodjob_batches;
  v_discard boolean;
  v_finish boolean;
begin
  select * into v_batch from goodjob_batches b where b.id = goodjob__fire_batch_callbacks.batch_id for update;
  if not found or v_batch.enqueued_at is null then
    return;
  end if;
  v_discard := v_batch.discarded > 0 and v_batch.discarded_at is null;
  v_finish := v_batch.finished_at is null and v_batch.succeeded + v_batch.discarded = v_batch.jobs;
  if not (v_discard or v_finish) then
    return;
  end if;
  update goodjob_batches b
     set discarded_at = case when v_discard then now() else b.discarded_at end,
         finished_at = case when v_finish then now() else b.finished_at end
   where b.id = v_batch.id;
  if v_discard then
    perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_discard, 'discard');
  end if;
  if v_finish then
    if v_batch.discarded = 0 then
      perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_success, 'success');
    end if;
    perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_finish, 'finish');
  end if;
end
$$;

-------------------------------------------------------------------------------
-- Triggers
-------------------------------------------------------------------------------

-- goodjob_tg_jobs__batch_result: a batch member's state moved into or out of
-- succeeded/discarded (a report, a rescue, an operator's discard or retry):
-- adjust the batch's counters, which locks its row, then fire what is due.
-- The WHEN clause of the trigger keeps every other update from calling it.
create function goodjob_tg_jobs__batch_result() returns trigger
language plpgsql set search_path from current as $$
begin
  update goodjob_batches b
     set succeeded = b.succeeded + (new.state = 'succeeded')::int - (old.state = 'succeeded')::int,
         discarded = b.discarded + (new.state = 'discarded')::int - (old.state = 'discarded')::int
   where b.id = new.batch_id;
  if found then
    perform goodjob__fire_batch_callbacks(new.batch_id);
  end if;
  return null;
end
$$;

create trigger goodjob_jobs_batch_result
  after update of state on goodjob_jobs
  for each row
  when (new.batch_id is not null and old.state is distinct from new.state
        and (old.state in ('succeeded', 'discarded') or new.state in ('succeeded', 'discarded')))
  execute function goodjob_tg_jobs__batch_result();

-- goodjob_tg_jobs__after_insert (replaces 0001's; the trigger stays): as
-- before, records new queue names and sends one NOTIFY per queue per
-- statement while a worker pool waits. New: counts batch members in their
-- batches and rejects an unknown batch_id (GJ030); inserts without a batch
-- pay one scan of the statement's new rows.
create or replace function goodjob_tg_jobs__after_insert() returns trigger
language plpgsql set search_path from current as $$
declare
  v_unknown uuid;
begin
  -- Batch members: count them in their batches (rows locked in id order, so
  -- two inserts into the same batches take turns instead of deadlocking).
  -- An unknown batch_id fails the whole statement. Inserts without a batch
  -- pay one scan of the new rows.
  if exists (select 1 from new_jobs n where n.batch_id is not null) then
    perform 1 from goodjob_batches b
     where b.id = any(array(select distinct n.batch_id from new_jobs n where n.batch_id is not null))
     order by b.id
     for update;
    select n.batch_id into v_unknown from new_jobs n
     where n.batch_id is not null
       and not exists (select 1 from goodjob_batches b where b.id = n.batch_id)
     limit 1;
    if v_unknown is not null then
      raise exception 'unknown batch %', v_unknown
        using errcode = 'GJ030', hint = 'Create the batch first with goodjob_create_batch.';
    end if;
    update goodjob_batches b
       set jobs = b.jobs + c.jobs, succeeded = b.succeeded + c.succeeded,
           discarded = b.discarded + c.discarded
      from (select n.batch_id, count(*)::int as jobs,
                   (count(*) filter (where n.state = 'succeeded'))::int as succeeded,
                   (count(*) filter (where n.state = 'discarded'))::int as discarded
              from new_jobs n
             where n.batch_id is not null
             group by n.batch_id) c
     where b.id = c.batch_id;
  end if;

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

-- goodjob__interrupt_jobs (replaces 0001's): as before, makes the running
-- jobs of the given processes ready again (discarded when out of attempts),
-- recording the attempts as 'interrupted'. New: the batches of members it
-- discards are locked in id order first (see goodjob_report), and a job made
-- ready again keeps its run_at (never later than now), so it goes back to
-- its old place in line instead of behind everything enqueued since.
create or replace function goodjob__interrupt_jobs(process_ids uuid[], reason text) returns int
language plpgsql volatile set search_path from current as $$
declare
  v_count int;
  v_queues text[];
begin
  -- Lock the jobs in id order first (goodjob_report_results does the same):
  -- a plain UPDATE would lock them in index order, and a report of the same
  -- jobs locking in another order would deadlock with it.
  with doomed as (
    select j.id, j.locked_by, j.batch_id, j.attempts >= j.max_attempts as discards from goodjob_jobs j
     where j.state = 'running' and j.locked_by = any(process_ids)
     order by j.id
     for update
  ),
  -- Batches of members this discards (out of attempts), locked in id order
  -- before the update, as goodjob_report does, so the batch trigger finds
  -- them locked and a rescue never deadlocks with a report.
  batch_locks as (
    select b.id from goodjob_batches b
     where b.id = any(array(select d.batch_id from doomed d where d.batch_id is not null and d.discards))
     order by b.id
     for update of b
  ),
  interrupted as (
    update goodjob_jobs j
       set state = case when j.attempts >= j.max_attempts then 'discarded' else 'queued' end,
           finished_at = case when j.attempts >= j.max_attempts then now() end,
           run_at = least(j.run_at, now()),
           locked_by = null,
           last_error = reason
      from doomed d
     where j.id = d.id and j.state = 'running' and j.locked_by = any(process_ids)
       and (select count(*) from batch_locks) >= 0
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

-- goodjob_report (replaces 0001's; same signature, results and errors):
-- record the results of many attempts in one statement, given as parallel
-- arrays. Outcomes: succeeded; failed (another attempt after the task's
-- backoff while attempts < max_attempts, else discarded); discarded; retry
-- (now, or at run_at, counting the attempt). Fenced: a result is accepted
-- only while the job is running for process_id and attempt. Jobs are locked
-- in id order (as rescue does). Each accepted result writes the attempt's
-- row in goodjob_executions. Preservation: succeeded jobs are deleted when
-- the task's (else the global) policy is 'never' or 'on_discard', discarded
-- ones when it is 'never', except batch members, which are kept until
-- cleanup (their batch counts their results). New: the batches of members
-- finishing here are locked in id order before any job changes, so the
-- batch trigger never deadlocks two reports. jit = off: JIT compilation
-- would cost more than the statement itself.
-- Errors: GJ013 for arrays of different lengths or more than one dimension,
-- a null or repeated id, a null attempt, or an unknown outcome.
create or replace function goodjob_report(
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
  if as_of is null or not isfinite(as_of) then
    raise exception 'invalid as_of %: pass a finite time or omit it', coalesce(as_of::text, 'null')
      using errcode = 'GJ013';
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
           -- Batch members are kept: their batch counts their results.
           j.batch_id is null
             and ((n.state = 'succeeded' and coalesce(t.preserve, v_policy, 'always') <> 'always')
                  or (n.state = 'discarded' and coalesce(t.preserve, v_policy, 'always') = 'never')) as drop,
           j.batch_id
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
  -- The batches of finishing members, locked in id order before any job
  -- changes, so the batch trigger (which counts each result) finds them
  -- locked: two reports finishing jobs of the same batches never deadlock.
  -- An index probe per batch (= any(array)), so a large batches table costs
  -- nothing; reports without batch members probe nothing.
  batch_locks as (
    select b.id from goodjob_batches b
     where b.id = any(array(select c.batch_id from cur c
                             where c.batch_id is not null and c.state in ('succeeded', 'discarded')))
     order by b.id
     for update of b
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
  where (select count(*) from batch_locks) >= 0
  order by r.ord;
end
$$;
comment on function goodjob_report(uuid, uuid[], int[], text[], text[], text[], text[], timestamptz[], timestamptz) is
  'Record results of many attempts in one call, as parallel arrays: ids, attempts, outcomes (succeeded | failed: retry after the task''s backoff while attempts remain, else discarded | discarded | retry: again now or at run_ats[i], counting the attempt), and optional error_classes, error_messages, error_backtraces, run_ats. A result is accepted only while the job is running for this process and attempt (fencing); returns per result whether it was accepted, the new state and the next run time. Errors: GJ013 (also for an as_of that is null or infinite).';

-------------------------------------------------------------------------------
-- Batch functions
-------------------------------------------------------------------------------

-- goodjob_create_batch: a new, open batch. Jobs join it with batch_id (or
-- goodjob_add_batch_jobs); its callbacks are armed by goodjob_enqueue_batch.
-- on_finish, on_success, on_discard are task names called as
-- task(batch_id, {"event": ...}); callback_queue and callback_priority
-- (null: the callback task's defaults) apply to those jobs. A given id that
-- exists returns that batch unchanged. Errors: GJ031.
create function goodjob_create_batch(
  description text default null,
  properties jsonb default '{}',
  on_finish text default null,
  on_success text default null,
  on_discard text default null,
  callback_queue text default null,
  callback_priority int default null,
  id uuid default null
) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_id uuid;
begin
  perform goodjob__check_batch_arguments(goodjob_create_batch.properties, goodjob_create_batch.on_finish,
                                         goodjob_create_batch.on_success, goodjob_create_batch.on_discard,
                                         goodjob_create_batch.callback_queue);
  insert into goodjob_batches as b (id, description, properties, on_finish, on_success, on_discard,
                                    callback_queue, callback_priority)
  values (coalesce(goodjob_create_batch.id, goodjob_uuid_v7()), goodjob_create_batch.description,
          coalesce(goodjob_create_batch.properties, '{}'), goodjob_create_batch.on_finish,
          goodjob_create_batch.on_success, goodjob_create_batch.on_discard,
          goodjob_create_batch.callback_queue, goodjob_create_batch.callback_priority)
  on conflict on constraint goodjob_batches_pkey do nothing
  returning b.id into v_id;
  return coalesce(v_id, goodjob_create_batch.id);
end
$$;
comment on function goodjob_create_batch(text, jsonb, text, text, text, text, int, uuid) is
  'Create an open batch and return its id. Jobs join it with goodjob_enqueue(batch_id => ...) or goodjob_add_batch_jobs; goodjob_enqueue_batch arms its callbacks. on_finish, on_success, on_discard: task names, enqueued as task(batch_id, {"event": "finish"|"success"|"discard"}) on callback_queue with callback_priority (null: the task''s defaults). A given id that exists returns that batch unchanged. Errors: GJ031.';

-- goodjob__locked_batch: the batch row, locked; GJ030 when there is none.
create function goodjob__locked_batch(id uuid) returns goodjob_batches
language plpgsql volatile set search_path from current as $$
declare
  v_batch goodjob_batches;
begin
  select * into v_batch from goodjob_batches b where b.id = goodjob__locked_batch.id for update;
  if not found then
    raise exception 'batch % not found', coalesce(goodjob__locked_batch.id::text, 'null')
      using errcode = 'GJ030';
  end if;
  return v_batch;
end
$$;

-- goodjob_enqueue_batch: arm a batch's callbacks (again). Merges properties
-- into the batch's, sets enqueued_at and clears finished_at; then, in this
-- transaction, enqueues on_finish (and on_success) at once when no job is
-- pending (an empty batch, or all done), and on_discard when a job was
-- discarded before and on_discard has not fired. Otherwise the result of
-- the last pending job fires them. Locks the batch's row.
-- Errors: GJ030 unknown batch, GJ031 properties not an object.
create function goodjob_enqueue_batch(id uuid, properties jsonb default null) returns uuid
language plpgsql volatile set search_path from current as $$
begin
  perform goodjob__check_batch_arguments(goodjob_enqueue_batch.properties, null, null, null, null);
  perform goodjob__locked_batch(goodjob_enqueue_batch.id);
  update goodjob_batches b
     set properties = b.properties || coalesce(goodjob_enqueue_batch.properties, '{}'),
         enqueued_at = now(), finished_at = null
   where b.id = goodjob_enqueue_batch.id;
  perform goodjob__fire_batch_callbacks(goodjob_enqueue_batch.id);
  return goodjob_enqueue_batch.id;
end
$$;
comment on function goodjob_enqueue_batch(uuid, jsonb) is
  'Arm (or re-arm) a batch''s callbacks: merge properties into the batch''s, set enqueued_at, clear finished_at. When no job is pending, on_finish (and on_success if none was discarded) are enqueued at once; a discard before arming enqueues on_discard now. Otherwise the last job''s result enqueues them, in its own transaction. Returns the id. Errors: GJ030, GJ031.';

-- goodjob_add_batch_jobs: goodjob_enqueue_many with every job joining the
-- batch (an element's own batch_id is replaced). Adding does not arm the
-- batch: a finished batch stays finished until enqueued again.
-- Errors: GJ030 unknown batch, and those of goodjob_enqueue_many.
create function goodjob_add_batch_jobs(batch_id uuid, jobs jsonb) returns setof uuid
language plpgsql volatile set search_path from current as $$
begin
  if not exists (select 1 from goodjob_batches b where b.id = goodjob_add_batch_jobs.batch_id) then
    raise exception 'batch % not found', coalesce(goodjob_add_batch_jobs.batch_id::text, 'null')
      using errcode = 'GJ030';
  end if;
  if jsonb_typeof(jobs) is distinct from 'array' then
    return query select * from goodjob_enqueue_many(jobs);  -- raises GJ006
    return;
  end if;
  return query
  select * from goodjob_enqueue_many(
    (select coalesce(jsonb_agg(case when jsonb_typeof(e.job) = 'object'
                                    then e.job || jsonb_build_object('batch_id', goodjob_add_batch_jobs.batch_id)
                                    else e.job end
                               order by e.ord), '[]')
       from jsonb_array_elements(jobs) with ordinality as e(job, ord)));
end
$$;
comment on function goodjob_add_batch_jobs(uuid, jsonb) is
  'Enqueue a JSON array of jobs (as goodjob_enqueue_many) into a batch, in one statement; returns the ids in input order. Adding does not arm the batch (goodjob_enqueue_batch does). Errors: GJ030, and those of goodjob_enqueue_many.';

-- goodjob_update_batch: replace a batch's properties and/or description
-- (null leaves it). Callbacks save state for the next stage this way.
-- Errors: GJ030, GJ031.
create function goodjob_update_batch(id uuid, properties jsonb default null, description text default null)
returns uuid
language plpgsql volatile set search_path from current as $$
begin
  perform goodjob__check_batch_arguments(goodjob_update_batch.properties, null, null, null, null);
  perform goodjob__locked_batch(goodjob_update_batch.id);
  update goodjob_batches b
     set properties = coalesce(goodjob_update_batch.properties, b.properties),
         description = coalesce(goodjob_update_batch.description, b.description)
   where b.id = goodjob_update_batch.id;
  return goodjob_update_batch.id;
end
$$;
comment on function goodjob_update_batch(uuid, jsonb, text) is
  'Replace a batch''s properties (a JSON object) and/or description; null leaves a field as it is. Returns the id. Errors: GJ030, GJ031.';

-------------------------------------------------------------------------------
-- View
-------------------------------------------------------------------------------

-- state: open (not enqueued), enqueued (armed, jobs pending), succeeded
-- (finished, every job succeeded), finished (finished with discards, or a
-- job added or retried since it finished, which fires nothing until the
-- batch is enqueued again).
create view goodjob_batch_status as
select b.id, b.description,
       case when b.finished_at is not null and b.discarded = 0 and b.succeeded = b.jobs then 'succeeded'
            when b.finished_at is not null then 'finished'
            when b.enqueued_at is not null then 'enqueued'
            else 'open' end as state,
       b.jobs, b.jobs - b.succeeded - b.discarded as pending, b.succeeded, b.discarded,
       c.callbacks, c.callbacks_pending,
       b.on_finish, b.on_success, b.on_discard, b.callback_queue, b.callback_priority,
       b.created_at, b.enqueued_at, b.discarded_at, b.finished_at, c.callbacks_finished_at,
       b.properties
from goodjob_batches b
cross join lateral (
  select count(*) as callbacks,
         count(*) filter (where j.state not in ('succeeded', 'discarded')) as callbacks_pending,
         case when count(*) > 0 and bool_and(j.state in ('succeeded', 'discarded'))
              then max(j.finished_at) end as callbacks_finished_at
  from goodjob_jobs j
  where j.batch_callback_id = b.id
) c;
comment on view goodjob_batch_status is
  'Batches: state (open, enqueued, succeeded, finished with discards), job counts (jobs, pending, succeeded, discarded), callback jobs (enqueued, pending, when all finished), callbacks, times and properties.';
