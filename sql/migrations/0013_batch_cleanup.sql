-- 0013_batch_cleanup: cleanup deletes finished batches as well as jobs.
--
-- goodjob_batches grew for ever: goodjob_cleanup_preserved_jobs deleted the
-- members and callback jobs of a finished batch once they were old enough,
-- and left the batch row behind. It now deletes, after the jobs, every batch
-- that finished (every member done and the callbacks enqueued) before the
-- same cut-off and that no job refers to any more, neither as a member nor
-- as a callback. A batch whose callback job is younger than the cut-off, or
-- whose discarded member is kept (include_discarded => false), stays until a
-- later cleanup finds it alone. Batches that never finished (not armed, or
-- with members still to run) are never deleted. Same signature, result
-- (the number of jobs deleted) and errors as before; the worker's automatic
-- cleanup and `goodjob-pg cleanup-preserved-jobs` call it, so both now keep
-- the batches table small too.

insert into goodjob_migrations (version, name) values ('0013', 'batch_cleanup');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-- Finished batches by finish time, for the cleanup's oldest-first scan.
-- Partial: unfinished batches are not in it.
create index goodjob_batches_finished_at_idx on goodjob_batches (finished_at)
  where finished_at is not null;

create or replace function goodjob_cleanup_preserved_jobs(
  older_than interval default '14 days',
  include_discarded boolean default true,
  as_of timestamptz default now()
) returns bigint
language plpgsql volatile set search_path from current as $$
declare
  v_total bigint := 0;
  v_chunk int;
  v_cutoff timestamptz;
begin
  if as_of is null then
    raise exception 'invalid as_of null: pass a time or omit it' using errcode = 'GJ013';
  end if;
  if older_than is null or older_than < interval '0' then
    raise exception 'invalid older_than %: must be an interval >= 0', coalesce(older_than::text, 'null')
      using errcode = 'GJ013';
  end if;
  begin
    v_cutoff := as_of - older_than;
  exception when datetime_field_overflow then
    v_cutoff := '-infinity';
  end;
  loop
    with doomed as (
      select j.id from goodjob_jobs j
      where j.state in ('succeeded', 'discarded')
        and (coalesce(include_discarded, true) or j.state = 'succeeded')
        and j.finished_at < v_cutoff
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
  -- Then the finished batches no job refers to any more (both lookups are
  -- probes of the partial batch indexes on goodjob_jobs). The counters are
  -- part of the test because they are re-read under the row lock: a member
  -- added by a transaction that committed after this statement's snapshot
  -- raised jobs above succeeded + discarded, so that batch is kept.
  loop
    with doomed as (
      select b.id from goodjob_batches b
      where b.finished_at < v_cutoff
        and b.jobs = b.succeeded + b.discarded
        and not exists (select from goodjob_jobs j where j.batch_id = b.id)
        and not exists (select from goodjob_jobs j where j.batch_callback_id = b.id)
      order by b.finished_at
      limit 1000
      for update skip locked
    ),
    batches_deleted as (
      delete from goodjob_batches b using doomed d where b.id = d.id returning 1
    )
    select count(*) into v_chunk from batches_deleted;
    exit when v_chunk < 1000;
  end loop;
  return v_total;
end
$$;
comment on function goodjob_cleanup_preserved_jobs(interval, boolean, timestamptz) is
  'Delete succeeded (and, unless include_discarded is false, discarded) jobs that finished more than older_than before as_of, with their executions, in chunks of 1,000; then the batches that finished before the same cut-off and that no remaining job belongs to (as a member or a callback). Returns the number of jobs deleted. Errors: GJ013.';
