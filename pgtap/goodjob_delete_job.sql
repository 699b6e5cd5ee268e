-- goodjob_delete_job: finished jobs (succeeded, discarded) are deleted with
-- their executions; waiting and running jobs are refused with GJ011 and
-- unknown ids with GJ010, and a refusal changes nothing.
begin;
select plan(8);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

select goodjob_test.job_in_state('succeeded', :'p') as j \gset
select is(goodjob_delete_job(:'j'), :'j'::uuid, 'deleting returns the job id');
select is_empty(format($$select 1 from goodjob_jobs where id = %L$$, :'j'), 'a succeeded job is deleted');
select is_empty(format($$select 1 from goodjob_executions where job_id = %L$$, :'j'),
                'its executions are deleted with it');

select goodjob_test.job_in_state('discarded', :'p') as j \gset
select goodjob_delete_job(:'j');
select is_empty(format($$select 1 from goodjob_jobs where id = %L$$, :'j'), 'a discarded job is deleted');

select goodjob_test.job_in_state('queued', :'p') as j \gset
select throws_ok(format($$select goodjob_delete_job(%L)$$, :'j'), 'GJ011',
                 format('cannot delete job %s: it is queued', :'j'), 'a queued job is refused');
select goodjob_test.job_in_state('running', :'p') as j \gset
select throws_ok(format($$select goodjob_delete_job(%L)$$, :'j'), 'GJ011',
                 format('cannot delete job %s: it is running', :'j'), 'a running job is refused');
select is((goodjob_test.job(:'j')).state, 'running', 'a refused delete leaves the job as it was');
select throws_ok($$select goodjob_delete_job('00000000-0000-0000-0000-000000000000')$$, 'GJ010',
                 'job 00000000-0000-0000-0000-000000000000 not found', 'an unknown id is refused');

select * from finish();
rollback;
