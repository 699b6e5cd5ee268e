-- goodjob_fail_job: the one-failure form of goodjob_report_results for psql
-- users. Returns the new state (scheduled or discarded), or null when the
-- result is refused.
begin;
select plan(14);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset

-- Refused: null, nothing changes
select goodjob_test.running_job(:'p', max_attempts => 2) as j \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select is(goodjob_fail_job(:'j', :'p', 2, 'E', 'm'), null, 'a failure for the wrong attempt is refused (null)');
select is(goodjob_fail_job(:'j', :'other', 1, 'E', 'm'), null, 'a failure from another process is refused (null)');
select is(goodjob_fail_job(:'j', :'other', 1, 'E', 'm', discard => true), null,
          'a discard from another process is refused (null)');
select is(goodjob_test.snapshot(), :'before', 'refused failures changed nothing');

-- Retry policy
select is(goodjob_fail_job(:'j', :'p', 1, 'KeyError', 'missing key', E'Traceback\n  line 3'), 'scheduled',
          'a failure with attempts left returns scheduled');
select results_eq(format($$select state, run_at, locked_by, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('scheduled', now() + interval '3 seconds', null::uuid, 'KeyError: missing key')$$,
                  'the job waits for the default backoff (3 s after attempt 1) with its last error');
select results_eq(format($$select outcome, error_class, error_message, error_backtrace from goodjob_executions
                           where job_id = %L$$, :'j'),
                  $$values ('failed', 'KeyError', 'missing key', E'Traceback\n  line 3')$$,
                  'the execution records class, message and backtrace');
select is((select attempts from goodjob_fetch_and_lock(:'p', (goodjob_test.job(:'j')).queue, 1, now() + interval '3 seconds')),
          2, 'the job is claimed again when due');
select is(goodjob_fail_job(:'j', :'p', 2, 'KeyError', 'again'), 'discarded',
          'a failure of the last attempt returns discarded');
select results_eq(format($$select state, finished_at, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('discarded', now(), 'KeyError: again')$$, 'the job is discarded and finished now');
select is((goodjob_test.execution(:'j', 2)).error_backtrace, null, 'the backtrace defaults to null');

-- discard => true
select goodjob_test.running_job(:'p', max_attempts => 5) as j \gset
select is(goodjob_fail_job(:'j', :'p', 1, 'Fatal', 'give up', discard => true), 'discarded',
          'discard => true discards at once, attempts left or not');
select results_eq(format($$select j.state, j.last_error, e.outcome from goodjob_jobs j
                           join goodjob_executions e on e.job_id = j.id where j.id = %L$$, :'j'),
                  $$values ('discarded', 'Fatal: give up', 'discarded')$$,
                  'the job and its execution record the discard');
select is(goodjob_fail_job(:'j', :'p', 1, 'Fatal', 'twice'), null, 'a second report for the same attempt is refused');

select * from finish();
rollback;
