-- goodjob_rescue_dead_processes: processes whose lease is free are dead.
-- Their running jobs are made ready again with the attempt counted
-- (discarded when out of attempts), executions closed as interrupted, their
-- rows deleted. Live processes (this session's, or another session's, via
-- dblink) are left alone; running jobs of unregistered processes are rescued.
begin;
select plan(17);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

select goodjob_test.process() as live \gset
select goodjob_test.dead_process() as dead \gset
select goodjob_test.dead_process() as idle_dead \gset
select goodjob_test.dead_process() as elsewhere \gset
select goodjob_test.hold_lease_elsewhere('holder', goodjob_test.lease_key(:'elsewhere'));
select goodjob_test.dead_process() as vanished \gset

select goodjob_test.running_job(:'live') as live_job \gset
select goodjob_test.running_job(:'dead', max_attempts => 3) as dead_job \gset
select goodjob_test.running_job(:'dead', max_attempts => 1) as dead_last \gset
select goodjob_test.running_job(:'elsewhere') as elsewhere_job \gset
select goodjob_test.running_job(:'vanished') as orphan \gset
delete from goodjob_processes where id = :'vanished';
update goodjob_jobs set run_at = now() - interval '1 day' where id in (:'dead_job', :'dead_last');

select is(goodjob_rescue_dead_processes(), 3,
          'rescue returns the number of jobs rescued: two of the dead process, one orphan');

select results_eq(
  format($$select state, attempts, run_at, locked_by, finished_at, last_error from goodjob_jobs where id = %L$$, :'dead_job'),
  $$values ('queued', 1, now() - interval '1 day', null::uuid, null::timestamptz, 'interrupted: the worker process died (its lease was free)')$$,
  'a dead process''s job with attempts left is queued again in its old place (run_at kept), the attempt counted, with the reason');
select results_eq(
  format($$select attempt, finished_at, outcome, error_class, error_message from goodjob_executions where job_id = %L$$, :'dead_job'),
  $$values (1, now(), 'interrupted', 'Interrupted', 'interrupted: the worker process died (its lease was free)')$$,
  'its execution is closed as interrupted');
select results_eq(
  format($$select state, run_at, finished_at from goodjob_jobs where id = %L$$, :'dead_last'),
  $$values ('discarded', now() - interval '1 day', now())$$,
  'a dead process''s job out of attempts is discarded');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'orphan'),
                  $$values ('queued', null::uuid)$$,
                  'a running job whose process is not registered at all is rescued');
select is((goodjob_test.execution(:'orphan', 1)).outcome, 'interrupted', 'the orphan''s execution is closed as interrupted');

select set_eq($$select id from goodjob_processes$$, array[:'live', :'elsewhere']::uuid[],
              'dead processes are deleted, with or without jobs; live ones are kept');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'live_job'),
                  format($$values ('running', %L::uuid)$$, :'live'),
                  'the job of a process whose lease this session holds is left running');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'elsewhere_job'),
                  format($$values ('running', %L::uuid)$$, :'elsewhere'),
                  'the job of a process whose lease another session holds is left running');

select is(goodjob_rescue_dead_processes(), 0, 'a second rescue finds nothing');
select is(goodjob_heartbeat(:'dead'), false, 'the rescued process''s heartbeat returns false');
select throws_ok(format('select goodjob_fetch_and_lock(%L)', :'dead'), 'GJ009', format('unknown process %s', :'dead'),
                 'the rescued process can no longer fetch');
select is(goodjob_succeed_job(:'dead_job', :'dead', 1), false,
          'the dead process''s late result for the rescued attempt is refused');
select is((select attempts from goodjob_fetch_and_lock(:'live', (goodjob_test.job(:'dead_job')).queue)), 2,
          'the rescued job runs again as attempt 2 for a live process');

-- When the other session ends, its process is dead too.
select goodjob_test.disconnect('holder');
select is(goodjob_rescue_dead_processes(), 1, 'once the other session ends, its process''s job is rescued');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'elsewhere_job'),
                  $$values ('queued', null::uuid)$$, 'and is ready again');
select set_eq($$select id from goodjob_processes$$, array[:'live']::uuid[], 'leaving only the live process');

select * from finish();
rollback;
