-- goodjob_succeed_job: the one-result form of goodjob_report_results for
-- psql users. True when accepted; false, changing nothing, when fenced off.
begin;
select plan(11);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset
select goodjob_test.running_job(:'p') as j \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select is(goodjob_succeed_job(:'j', :'p', 2), false, 'a success for the wrong attempt is refused (false)');
select is(goodjob_succeed_job(:'j', :'other', 1), false, 'a success from another process is refused (false)');
select is(goodjob_succeed_job('00000000-0000-0000-0000-000000000404', :'p', 1), false,
          'a success for an unknown job is refused (false)');
select throws_ok(format('select goodjob_succeed_job(null, %L, 1)', :'p'), 'GJ013',
                 'invalid results [{"id": null, "attempt": 1, "outcome": "succeeded"}]',
                 'a null job id is a malformed result (GJ013)');
select is(goodjob_test.snapshot(), :'before', 'refused successes changed nothing');

select is(goodjob_succeed_job(:'j', :'p', 1), true, 'the success of the running attempt is accepted (true)');
select results_eq(format($$select state, finished_at, locked_by, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('succeeded', now(), null::uuid, null::text)$$,
                  'the job is succeeded, finished now and unlocked');
select results_eq(format($$select outcome, finished_at from goodjob_executions where job_id = %L$$, :'j'),
                  $$values ('succeeded', now())$$, 'its execution is closed as succeeded');
select is(goodjob_succeed_job(:'j', :'p', 1), false, 'a second success for the same attempt is refused');

update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as j \gset
select is(goodjob_succeed_job(:'j', :'p', 1), true, 'with preservation "never" the success is accepted');
select is(goodjob_test.job(:'j'), null::goodjob_jobs, 'and the job row is deleted');

select * from finish();
rollback;
