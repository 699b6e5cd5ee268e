-- 0009_dashboard: what the web dashboard needs beyond the operator functions.
--
-- goodjob_delete_job removes one finished job and its executions, as the
-- dashboard's "delete" button (GoodJob's "destroy") does. Only finished jobs
-- (succeeded or discarded) can go: a waiting job must be discarded first, and
-- a running job belongs to its worker. A batch already counts a finished job
-- in its totals, as after goodjob_cleanup_preserved_jobs, so its counters stay
-- right. No new SQLSTATE: errors reuse GJ010 (unknown id) and GJ011 (state).

insert into goodjob_migrations (version, name) values ('0009', 'dashboard');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-- goodjob_delete_job: delete a succeeded or discarded job with its executions.
-- Locks the job's row. Errors: GJ010 not found, GJ011 not finished.
create function goodjob_delete_job(id uuid) returns uuid
language plpgsql volatile set search_path from current as $$
declare
  v_state text;
begin
  select j.state into v_state from goodjob_jobs j where j.id = goodjob_delete_job.id for update;
  if not found then
    raise exception 'job % not found', coalesce(goodjob_delete_job.id::text, 'null')
      using errcode = 'GJ010';
  end if;
  if v_state not in ('succeeded', 'discarded') then
    raise exception 'cannot delete job %: it is %', goodjob_delete_job.id, v_state
      using errcode = 'GJ011',
            hint = 'Only succeeded or discarded jobs can be deleted; discard a waiting job first.';
  end if;
  delete from goodjob_executions e where e.job_id = goodjob_delete_job.id;
  delete from goodjob_jobs j where j.id = goodjob_delete_job.id;
  return goodjob_delete_job.id;
end
$$;
comment on function goodjob_delete_job(uuid) is
  'Delete a succeeded or discarded job and its executions. Returns the id. Errors: GJ010 not found, GJ011 not finished.';
