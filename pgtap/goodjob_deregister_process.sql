-- goodjob_deregister_process: a process leaving cleanly. Its running jobs
-- are made ready again with the attempt counted (discarded when out of
-- attempts), their executions closed as interrupted, its row deleted and its
-- lease released. Other processes' jobs are untouched.
begin;
select plan(16);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset
select goodjob_test.lease_key(:'p') as lease \gset

select goodjob_test.running_job(:'p', max_attempts => 3) as j1 \gset
select goodjob_test.running_job(:'p', max_attempts => 1) as last \gset
select goodjob_test.running_job(:'p', max_attempts => 5) as j2 \gset
select goodjob_succeed_job(:'j2', :'p', 1);
select goodjob_test.running_job(:'other') as theirs \gset
update goodjob_jobs set run_at = now() - interval '1 day' where id in (:'j1', :'last');

select is(goodjob_deregister_process(:'p'), 2, 'deregistering returns the number of running jobs interrupted');

select results_eq(
  format($$select state, attempts, run_at, locked_by, finished_at, last_error from goodjob_jobs where id = %L$$, :'j1'),
  $$values ('queued', 1, now() - interval '1 day', null::uuid, null::timestamptz, 'interrupted: the worker shut down before the job finished')$$,
  'a running job with attempts left is queued again in its old place (run_at kept), unlocked, with the attempt counted and the reason as its error');
select results_eq(
  format($$select attempt, finished_at, outcome, error_class, error_message from goodjob_executions where job_id = %L$$, :'j1'),
  $$values (1, now(), 'interrupted', 'Interrupted', 'interrupted: the worker shut down before the job finished')$$,
  'its execution is closed as interrupted');
select results_eq(
  format($$select state, attempts, run_at, locked_by, finished_at from goodjob_jobs where id = %L$$, :'last'),
  $$values ('discarded', 1, now() - interval '1 day', null::uuid, now())$$,
  'a running job out of attempts is discarded (finished now, run_at kept)');
select is((goodjob_test.execution(:'last', 1)).outcome, 'interrupted', 'its execution is closed as interrupted too');
select is((goodjob_test.job(:'j2')).state, 'succeeded', 'a finished job of the process is untouched');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'theirs'),
                  format($$values ('running', %L::uuid)$$, :'other'),
                  'another process''s running job is untouched');

select is((select count(*)::int from goodjob_processes where id = :'p'), 0, 'the process row is deleted');
select ok(not goodjob_test.holds_lease(:lease), 'the lease is released');
select ok(goodjob_test.holds_lease(goodjob_test.lease_key(:'other')), 'the other process keeps its lease');
select throws_ok(format('select goodjob_fetch_and_lock(%L)', :'p'), 'GJ009', format('unknown process %s', :'p'),
                 'a deregistered process can no longer fetch');
select is(goodjob_succeed_job(:'j1', :'p', 1), false, 'its late result for the interrupted attempt is refused');

select is((select attempts from goodjob_fetch_and_lock(:'other', (goodjob_test.job(:'j1')).queue)), 2,
          'the interrupted job runs again as attempt 2');
select is(goodjob_deregister_process(:'p'), 0, 'deregistering again (or an unknown process) interrupts nothing');
select is(goodjob_deregister_process(null), 0, 'deregistering null interrupts nothing');
select results_eq(format($$select state, attempts from goodjob_jobs where id = %L$$, :'j1'),
                  $$values ('running', 2)$$, 'and leaves the other process''s claim alone');

select * from finish();
rollback;
