-- 0003_cron: recurring (cron) entries and their once-per-tick enqueue, and
-- an index for finding jobs by label.
--
-- The schedule itself is computed in Python (croniter, or a callable); SQL
-- keeps what must hold across processes and restarts: each entry's
-- definition, whether an operator enabled or disabled it, and the latest tick
-- handled, so that any number of processes can run cron and each tick becomes
-- one job. Errors raised here: GJ014 unknown cron entry, GJ015 bad cron
-- argument, GJ016 an entry whose arguments only Python can compute.

insert into goodjob_migrations (version, name) values ('0003', 'cron');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-------------------------------------------------------------------------------
-- Labels
-------------------------------------------------------------------------------

-- "Jobs with label X": labels @> array['X']. Partial, so the many jobs
-- without labels cost nothing at insert; a query must repeat the predicate
-- (labels <> '{}') for the planner to use it.
create index goodjob_jobs_labels_idx
  on goodjob_jobs using gin (labels) where labels <> '{}';

-------------------------------------------------------------------------------
-- Cron entries
-------------------------------------------------------------------------------

-- One row per cron entry, written by every process that runs cron (and by
-- goodjob_define_cron_entry from psql). args, kwargs, queue, priority and
-- labels are null when Python computes them at each tick. enabled is the
-- operator's choice (null: follow enabled_by_default). last_tick_at is the
-- latest scheduled tick handled (enqueued, or passed while disabled): the
-- de-duplication point shared by all processes.
create table goodjob_cron_entries (
  key                 text primary key,
  schedule            text not null,
  task                text not null,
  args                jsonb,
  kwargs              jsonb,
  queue               text,
  priority            int,
  labels              text[],
  description         text,
  enabled_by_default  boolean not null default true,
  enabled             boolean,
  last_tick_at        timestamptz,
  last_run_at         timestamptz,
  last_job_id         uuid,
  next_run_at         timestamptz,
  updated_at          timestamptz not null default now(),
  constraint goodjob_cron_entries_key_length check (length(key) between 1 and 255),
  constraint goodjob_cron_entries_schedule_not_empty check (length(schedule) > 0),
  constraint goodjob_cron_entries_task_length check (length(task) between 1 and 255),
  constraint goodjob_cron_entries_args_is_array check (jsonb_typeof(args) = 'array'),
  constraint goodjob_cron_entries_kwargs_is_object check (jsonb_typeof(kwargs) = 'object')
);

-- goodjob__cron_entry: the entry's row, locked for update, or GJ014.
create function goodjob__cron_entry(key text) returns goodjob_cron_entries
language plpgsql volatile set search_path from current as $$
declare
  v_entry goodjob_cron_entries;
begin
  select * into v_entry from goodjob_cron_entries c where c.key = goodjob__cron_entry.key for update;
  if not found then
    raise exception 'cron entry % not found', coalesce(quote_literal(goodjob__cron_entry.key), 'null')
      using errcode = 'GJ014',
            hint = 'Entries are defined by a worker started with --enable-cron, or by goodjob_define_cron_entry.';
  end if;
  return v_entry;
end
$$;

-- goodjob_define_cron_entry: create or update an entry's definition. Keeps
-- the operator's enabled/disabled choice and the run history.
-- Errors: GJ015 (key, schedule), GJ001, GJ002, GJ003, GJ004, GJ006.
create function goodjob_define_cron_entry(
  key text,
  schedule text,
  task text,
  args jsonb default null,
  kwargs jsonb default null,
  queue text default null,
  priority int default null,
  labels text[] default null,
  description text default null,
  enabled_by_default boolean default true,
  next_run_at timestamptz default null
) returns void
language plpgsql volatile set search_path from current as $$
begin
  if goodjob_define_cron_entry.key is null or length(goodjob_define_cron_entry.key) not between 1 and 255 then
    raise exception 'invalid cron key %: must be 1 to 255 characters',
      coalesce(quote_literal(goodjob_define_cron_entry.key), 'null') using errcode = 'GJ015';
  end if;
  if nullif(btrim(goodjob_define_cron_entry.schedule), '') is null then
    raise exception 'invalid schedule % for cron entry %: pass the cron expression',
      coalesce(quote_literal(goodjob_define_cron_entry.schedule), 'null'),
      quote_literal(goodjob_define_cron_entry.key) using errcode = 'GJ015';
  end if;
  perform goodjob__check_task(goodjob_define_cron_entry.task);
  perform goodjob__check_args(coalesce(goodjob_define_cron_entry.args, '[]'),
                              coalesce(goodjob_define_cron_entry.kwargs, '{}'));
  perform goodjob__check_queue_or_null(goodjob_define_cron_entry.queue);

  insert into goodjob_cron_entries as c (key, schedule, task, args, kwargs, queue, priority, labels,
                                         description, enabled_by_default, next_run_at)
  values (goodjob_define_cron_entry.key, goodjob_define_cron_entry.schedule, goodjob_define_cron_entry.task,
          goodjob_define_cron_entry.args, goodjob_define_cron_entry.kwargs, goodjob_define_cron_entry.queue,
          goodjob_define_cron_entry.priority,
          case when goodjob_define_cron_entry.labels is not null
               then goodjob__check_labels(goodjob_define_cron_entry.labels) end,
          goodjob_define_cron_entry.description, coalesce(goodjob_define_cron_entry.enabled_by_default, true),
          goodjob_define_cron_entry.next_run_at)
  on conflict on constraint goodjob_cron_entries_pkey do update
    set schedule = excluded.schedule, task = excluded.task, args = excluded.args, kwargs = excluded.kwargs,
        queue = excluded.queue, priority = excluded.priority, labels = excluded.labels,
        description = excluded.description, enabled_by_default = excluded.enabled_by_default,
        next_run_at = coalesce(excluded.next_run_at, c.next_run_at), updated_at = now();
end
$$;
comment on function goodjob_define_cron_entry(text, text, text, jsonb, jsonb, text, int, text[], text, boolean, timestamptz) is
  'Create or update a cron entry: its schedule (as text, for display), task, args, kwargs, queue, priority, labels (null: computed by Python at each tick, or the task''s defaults), description and enabled_by_default. An operator''s enable/disable and the run history are kept. Errors: GJ015, GJ001, GJ002, GJ003, GJ004, GJ006.';

-- goodjob_enable_cron_entry / goodjob_disable_cron_entry: the operator's
-- choice, stored for every process and restart. Errors: GJ014.
create function goodjob__set_cron_entry_enabled(key text, enabled boolean) returns void
language plpgsql volatile set search_path from current as $$
begin
  perform goodjob__cron_entry(goodjob__set_cron_entry_enabled.key);
  update goodjob_cron_entries c set enabled = goodjob__set_cron_entry_enabled.enabled, updated_at = now()
   where c.key = goodjob__set_cron_entry_enabled.key;
end
$$;

create function goodjob_enable_cron_entry(key text) returns void
language sql volatile set search_path from current as $$
  select goodjob__set_cron_entry_enabled(key, true)
$$;
comment on function goodjob_enable_cron_entry(text) is
  'Enable a cron entry for every process (overrides enabled_by_default). Ticks missed while it was disabled are not enqueued. Errors: GJ014 unknown entry.';

create function goodjob_disable_cron_entry(key text) returns void
language sql volatile set search_path from current as $$
  select goodjob__set_cron_entry_enabled(key, false)
$$;
comment on function goodjob_disable_cron_entry(text) is
  'Disable a cron entry for every process: its ticks enqueue nothing until it is enabled again. goodjob_run_cron_entry still works. Errors: GJ014 unknown entry.';

-- goodjob__enqueue_for_cron: enqueue the entry's job with the given values
-- over the stored ones, stamped with cron_key and cron_at, and record it as
-- the entry's last run. Errors: GJ016 when neither gives the arguments.
create function goodjob__enqueue_for_cron(
  entry goodjob_cron_entries, cron_at timestamptz, run_at timestamptz,
  args jsonb, kwargs jsonb, queue text, priority int, labels text[]
) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_id uuid;
begin
  if coalesce(goodjob__enqueue_for_cron.args, entry.args) is null
     or coalesce(goodjob__enqueue_for_cron.kwargs, entry.kwargs) is null then
    raise exception 'cron entry % computes its arguments in Python', quote_literal(entry.key)
      using errcode = 'GJ016',
            hint = 'Pass args and kwargs, or use: goodjob-pg cron run KEY --app MODULE:APP.';
  end if;
  v_id := goodjob_enqueue(task => entry.task,
                          args => coalesce(goodjob__enqueue_for_cron.args, entry.args),
                          kwargs => coalesce(goodjob__enqueue_for_cron.kwargs, entry.kwargs),
                          queue => coalesce(goodjob__enqueue_for_cron.queue, entry.queue),
                          priority => coalesce(goodjob__enqueue_for_cron.priority, entry.priority),
                          run_at => goodjob__enqueue_for_cron.run_at,
                          labels => coalesce(goodjob__enqueue_for_cron.labels, entry.labels));
  update goodjob_jobs j
     set cron_key = entry.key, cron_at = goodjob__enqueue_for_cron.cron_at
   where j.id = v_id;
  update goodjob_cron_entries c
     set last_run_at = now(), last_job_id = v_id
   where c.key = entry.key;
  return v_id;
end
$$;

-- goodjob_enqueue_cron_tick: enqueue the job of one scheduled tick, once.
-- Locks the entry's row, so processes ticking the same entry take turns;
-- the first one enqueues (run_at = cron_at) and moves last_tick_at to
-- cron_at, the others find the tick handled and get null. A disabled entry
-- enqueues nothing but the tick counts as handled. Non-null args, kwargs,
-- queue, priority and labels (Python's values for this tick) replace the
-- stored ones. next_run_at is recorded for display.
-- Errors: GJ014, GJ015 (null cron_at), GJ016, and those of goodjob_enqueue.
create function goodjob_enqueue_cron_tick(
  key text,
  cron_at timestamptz,
  next_run_at timestamptz default null,
  args jsonb default null,
  kwargs jsonb default null,
  queue text default null,
  priority int default null,
  labels text[] default null
) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_entry goodjob_cron_entries;
begin
  if goodjob_enqueue_cron_tick.cron_at is null then
    raise exception 'invalid cron_at null: pass the tick''s scheduled time' using errcode = 'GJ015';
  end if;
  v_entry := goodjob__cron_entry(goodjob_enqueue_cron_tick.key);
  update goodjob_cron_entries c
     set next_run_at = coalesce(goodjob_enqueue_cron_tick.next_run_at, c.next_run_at),
         last_tick_at = greatest(c.last_tick_at, goodjob_enqueue_cron_tick.cron_at)
   where c.key = v_entry.key;
  if v_entry.last_tick_at >= goodjob_enqueue_cron_tick.cron_at
     or not coalesce(v_entry.enabled, v_entry.enabled_by_default)
     or exists (select 1 from goodjob_jobs j
                 where j.cron_key = v_entry.key and j.cron_at = goodjob_enqueue_cron_tick.cron_at) then
    return null;
  end if;
  return goodjob__enqueue_for_cron(v_entry, goodjob_enqueue_cron_tick.cron_at, goodjob_enqueue_cron_tick.cron_at,
                                   goodjob_enqueue_cron_tick.args, goodjob_enqueue_cron_tick.kwargs,
                                   goodjob_enqueue_cron_tick.queue, goodjob_enqueue_cron_tick.priority,
                                   goodjob_enqueue_cron_tick.labels);
end
$$;
comment on function goodjob_enqueue_cron_tick(text, timestamptz, timestamptz, jsonb, jsonb, text, int, text[]) is
  'Enqueue the job of one cron tick (cron_key = key, cron_at = run_at = cron_at) unless that tick, or a later one, was already handled or the entry is disabled: then return null. Safe to call from any number of processes: each tick becomes one job. Non-null args, kwargs, queue, priority, labels replace the stored ones. Errors: GJ014, GJ015, GJ016, and those of goodjob_enqueue.';

-- goodjob_run_cron_entry: enqueue an entry's job now, outside its schedule
-- (cron_at stays null, so no tick is used up), enabled or not.
-- Errors: GJ014, GJ016, and those of goodjob_enqueue.
create function goodjob_run_cron_entry(
  key text,
  args jsonb default null,
  kwargs jsonb default null,
  queue text default null,
  priority int default null,
  labels text[] default null
) returns uuid
language plpgsql volatile set search_path from current as $$
begin
  return goodjob__enqueue_for_cron(goodjob__cron_entry(goodjob_run_cron_entry.key), null, null,
                                   goodjob_run_cron_entry.args, goodjob_run_cron_entry.kwargs,
                                   goodjob_run_cron_entry.queue, goodjob_run_cron_entry.priority,
                                   goodjob_run_cron_entry.labels);
end
$$;
comment on function goodjob_run_cron_entry(text, jsonb, jsonb, text, int, text[]) is
  'Enqueue a cron entry''s job now, whether it is enabled or not, without using up a tick (cron_at is null). Non-null arguments replace the stored ones. Returns the job id. Errors: GJ014 unknown entry, GJ016 arguments computed in Python and not given, and those of goodjob_enqueue.';

-- What `goodjob-pg cron list` shows.
create view goodjob_cron_status as
select c.key, c.schedule, c.task, c.description,
       coalesce(c.enabled, c.enabled_by_default) as enabled,
       c.enabled is not null as set_by_operator,
       c.next_run_at, c.last_run_at, c.last_tick_at, c.last_job_id,
       j.state as last_job_state
from goodjob_cron_entries c
left join goodjob_jobs j on j.id = c.last_job_id;
comment on view goodjob_cron_status is
  'Cron entries: schedule, task, whether enabled (and whether an operator decided it), next and last run, and the state of the last job.';
