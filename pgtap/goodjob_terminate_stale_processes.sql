-- goodjob_terminate_stale_processes: the heartbeat backstop. A process whose
-- lease another session still holds but whose heartbeat is older than the
-- threshold has that session ended, so the rescue that follows finds the
-- lease free. Fresh processes, dead ones (lease free) and the caller's own
-- session are left alone. Arguments are validated (GJ070, GJ071).
begin;
select plan(16);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

select is(pg_get_function_arguments('goodjob_terminate_stale_processes(interval,timestamptz)'::regprocedure),
          'older_than interval, as_of timestamp with time zone DEFAULT now()',
          'goodjob_terminate_stale_processes takes (older_than, as_of)');
select is(pg_get_function_result('goodjob_terminate_stale_processes(interval,timestamptz)'::regprocedure),
          'TABLE(process_id uuid, backend_pid integer, heartbeat_at timestamp with time zone, terminated boolean, error text)',
          'and returns one row per stale process');
select isnt(obj_description('goodjob_terminate_stale_processes(interval,timestamptz)'::regprocedure, 'pg_proc'),
            null, 'it documents itself with a comment');

select throws_ok($$select * from goodjob_terminate_stale_processes(null)$$, 'GJ070',
                 'invalid older_than null: must be a positive interval', 'a null threshold is refused');
select throws_ok($$select * from goodjob_terminate_stale_processes(interval '0')$$, 'GJ070',
                 'invalid older_than 00:00:00: must be a positive interval', 'a zero threshold is refused');
select throws_ok($$select * from goodjob_terminate_stale_processes(interval '-5 minutes')$$, 'GJ070',
                 'invalid older_than -00:05:00: must be a positive interval', 'a negative threshold is refused');
select throws_ok($$select * from goodjob_terminate_stale_processes(interval '1 minute', null)$$, 'GJ071',
                 'invalid as_of null: pass a time or omit it', 'a null as_of is refused');

-- A stale process held elsewhere, a fresh one held elsewhere, a stale dead
-- one, and a stale one whose lease this session holds.
select goodjob_test.dead_process() as stale \gset
select goodjob_test.hold_lease_elsewhere('stale', goodjob_test.lease_key(:'stale'));
select t.pid as stale_pid from dblink('stale', 'select pg_backend_pid()') as t(pid int) \gset
select goodjob_test.dead_process() as fresh \gset
select goodjob_test.hold_lease_elsewhere('fresh', goodjob_test.lease_key(:'fresh'));
select goodjob_test.dead_process() as dead \gset
select goodjob_test.process() as mine \gset
select goodjob_test.running_job(:'stale') as stale_job \gset
update goodjob_processes set heartbeat_at = now() - interval '10 minutes' where id <> :'fresh';

select is((select count(*)::int from goodjob_terminate_stale_processes(interval '10 years')), 0,
          'nothing is older than a threshold of 10 years');
select is((select count(*)::int from goodjob_terminate_stale_processes(interval '1 minute', as_of => now() - interval '1 hour')), 0,
          'as_of moves the cut-off: an hour ago nothing was stale');
select is((select count(*)::int from goodjob_terminate_stale_processes(interval '1000000 years')), 0,
          'a threshold reaching before the earliest time finds nothing (no overflow error)');

select results_eq(
  $$select process_id, backend_pid, terminated, error from goodjob_terminate_stale_processes(interval '2 minutes')$$,
  format($$values (%L::uuid, %s, true, null::text)$$, :'stale', :'stale_pid'),
  'only the stale process whose lease another session holds is reported, and its backend is ended');
select ok(not exists (select 1 from pg_locks l where l.pid = :stale_pid),
          'the function waited until the ended backend released its lease');
select ok(exists (select 1 from dblink_get_connections() c where 'fresh' = any(c))
          and (select x from dblink('fresh', 'select 1') as t(x int)) = 1,
          'the session of the fresh process is untouched');
select ok(goodjob_test.holds_lease(goodjob_test.lease_key(:'mine')), 'the caller''s own lease is never ended');

select is(goodjob_rescue_dead_processes(), 1, 'the rescue that follows finds the stale process''s lease free');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'stale_job'),
                  $$values ('queued', null::uuid)$$,
                  'and makes its job ready again (its late result would be refused)');

select dblink_disconnect('stale');
select goodjob_test.disconnect('fresh');
select * from finish();
rollback;
