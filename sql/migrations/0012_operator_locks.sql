-- 0012_operator_locks: operator functions give up on a locked job row.
--
-- goodjob_retry_job, goodjob_discard_job, goodjob_reschedule_job and
-- goodjob_delete_job change one job row. A psql session that holds that row
-- (select ... for update, or an open transaction that updated it) used to
-- make them wait for as long as the session lived. Each now runs with
-- lock_timeout = 5s: a function-level setting is read when a lock wait
-- begins, so it bounds the wait even though the call's statement timer
-- started earlier. Past it the call fails with Postgres's own SQLSTATE
-- 55P03 (lock_not_available, "canceling statement due to lock timeout") and,
-- like any failed statement, changes nothing. No new SQLSTATE.
--
-- Only the settings and comments change (alter function), not the bodies.
-- Pause and resume touch goodjob_pauses, not job rows, and stay as they are.
-- The worker's own path (fetch, report, rescue) is bounded by the session's
-- lock_timeout, which the runner sets on connect (goodjob_pg/reconnect.py).

insert into goodjob_migrations (version, name) values ('0012', 'operator_locks');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

alter function goodjob_retry_job(uuid) set lock_timeout = '5s';
alter function goodjob_discard_job(uuid, text) set lock_timeout = '5s';
alter function goodjob_reschedule_job(uuid, timestamptz) set lock_timeout = '5s';
alter function goodjob_delete_job(uuid) set lock_timeout = '5s';

comment on function goodjob_retry_job(uuid) is
  'Make a discarded, scheduled or queued job ready to run now (a job out of attempts gets one more). Returns the id. Errors: GJ010 not found, GJ011 running or succeeded, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';
comment on function goodjob_discard_job(uuid, text) is
  'Discard a scheduled or queued job, recording the reason as its last_error. The row is kept. Returns the id. Errors: GJ010 not found, GJ011 running or finished, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';
comment on function goodjob_reschedule_job(uuid, timestamptz) is
  'Move a scheduled or queued job to run at run_at (now or in the past makes it ready). Returns the id. Errors: GJ010, GJ011, GJ013, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';
comment on function goodjob_delete_job(uuid) is
  'Delete a succeeded or discarded job and its executions. Returns the id. Errors: GJ010 not found, GJ011 not finished, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';
