-- goodjob_retry_job on every state: discarded, scheduled (new or waiting
-- after a failure) and queued jobs become ready now (a job out of attempts
-- gets one more); running and succeeded jobs are refused with GJ011, unknown
-- ones with GJ010, and a refusal changes nothing.
begin;
select plan(14);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

-- discarded
select goodjob_test.job_in_state('discarded', :'p') as j \gset
select is(goodjob_retry_job(:'j'), :'j'::uuid, 'retrying returns the job id');
select results_eq(
  format($$select state, run_at, finished_at, attempts, max_attempts, last_error from goodjob_jobs where id = %L$$, :'j'),
  $$values ('queued', now(), null::timestamptz, 1, 3, 'Error: gave up')$$,
  'a discarded job with attempts left is queued now, unfinished, keeping its attempts, max_attempts and last error');
select is((select attempts from goodjob_fetch_and_lock(:'p', (goodjob_test.job(:'j')).queue)), 2,
          'the retried job runs as its next attempt');
select is((select count(*)::int from goodjob_executions where job_id = :'j'), 1,
          'its earlier execution is kept (the running attempt is recorded when it ends)');

select goodjob_test.job_in_state('discarded', :'p', max_attempts => 1) as j \gset
select goodjob_retry_job(:'j');
select results_eq(format($$select state, attempts, max_attempts from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', 1, 2)$$,
                  'a discarded job out of attempts gets one more attempt');

-- scheduled, retrying, queued
select goodjob_test.job_in_state('scheduled', :'p') as j \gset
select goodjob_retry_job(:'j');
select results_eq(format($$select state, run_at from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', now())$$, 'a job scheduled for later is queued now');
select goodjob_test.job_in_state('retrying', :'p') as j \gset
select goodjob_retry_job(:'j');
select results_eq(format($$select state, run_at, attempts, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', now(), 1, 'Error: failed once')$$,
                  'a job waiting for its next attempt after a failure is queued now');
select goodjob_test.job_in_state('queued', :'p') as j \gset
update goodjob_jobs set run_at = now() - interval '1 day' where id = :'j';
select goodjob_retry_job(:'j');
select results_eq(format($$select state, run_at, max_attempts from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', now(), 3)$$, 'a queued job stays queued with run_at now');

-- refused
select goodjob_test.job_in_state('running', :'p') as running \gset
select goodjob_test.job_in_state('succeeded', :'p') as succeeded \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select throws_ok(format('select goodjob_retry_job(%L)', :'running'), 'GJ011',
                 format('cannot retry job %s: it is running', :'running'), 'a running job cannot be retried');
select is(goodjob_test.error_field(format('select goodjob_retry_job(%L)', :'running'), 'hint'),
          'Only discarded, scheduled or queued jobs can be retried.', 'the hint says which jobs can be retried');
select throws_ok(format('select goodjob_retry_job(%L)', :'succeeded'), 'GJ011',
                 format('cannot retry job %s: it is succeeded', :'succeeded'), 'a succeeded job cannot be retried');
select throws_ok($$select goodjob_retry_job('00000000-0000-0000-0000-000000000404')$$, 'GJ010',
                 'job 00000000-0000-0000-0000-000000000404 not found', 'an unknown job is reported as not found');
select throws_ok($$select goodjob_retry_job(null)$$, 'GJ010', 'job null not found', 'a null id is reported as not found');
select is(goodjob_test.snapshot(), :'before', 'refused retries changed nothing');

select * from finish();
rollback;
