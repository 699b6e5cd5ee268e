-- goodjob_discard_job on every state: scheduled (new or waiting after a
-- failure) and queued jobs are discarded with the reason as last_error and
-- kept; running and finished jobs are refused with GJ011, unknown ones with
-- GJ010, and a refusal changes nothing.
begin;
select plan(13);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

select goodjob_test.job_in_state('queued', :'p') as j \gset
select is(goodjob_discard_job(:'j'), :'j'::uuid, 'discarding returns the job id');
select results_eq(
  format($$select state, finished_at, locked_by, last_error, attempts from goodjob_jobs where id = %L$$, :'j'),
  $$values ('discarded', now(), null::uuid, 'discarded by an operator', 0)$$,
  'a queued job is discarded now with a default reason');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, %L)$$, :'p', (goodjob_test.job(:'j')).queue),
                'a discarded job is not fetched');

select goodjob_test.job_in_state('scheduled', :'p') as j \gset
select goodjob_discard_job(:'j', 'duplicate of another job');
select results_eq(format($$select state, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('discarded', 'duplicate of another job')$$,
                  'a scheduled job is discarded with the given reason');

select goodjob_test.job_in_state('retrying', :'p') as j \gset
select goodjob_discard_job(:'j');
select results_eq(format($$select state, attempts, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('discarded', 1, 'discarded by an operator')$$,
                  'a job waiting for a retry is discarded, its attempts kept');
select is((select string_agg(outcome, ',') from goodjob_executions where job_id = :'j'), 'failed',
          'discarding adds no execution and leaves the past ones');

update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_test.job_in_state('queued', :'p') as j \gset
select goodjob_discard_job(:'j');
select is((goodjob_test.job(:'j')).state, 'discarded', 'an operator''s discard keeps the row even with preservation "never"');
update goodjob_settings set value = '"always"' where key = 'preserve_job_records';

-- refused
select goodjob_test.job_in_state('running', :'p') as running \gset
select goodjob_test.job_in_state('succeeded', :'p') as succeeded \gset
select goodjob_test.job_in_state('discarded', :'p') as discarded \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select throws_ok(format('select goodjob_discard_job(%L)', :'running'), 'GJ011',
                 format('cannot discard job %s: it is running', :'running'),
                 'a running job cannot be discarded (it belongs to its worker)');
select is(goodjob_test.error_field(format('select goodjob_discard_job(%L)', :'running'), 'hint'),
          'Only scheduled or queued jobs can be discarded.', 'the hint says which jobs can be discarded');
select throws_ok(format('select goodjob_discard_job(%L, %L)', :'succeeded', 'why'), 'GJ011',
                 format('cannot discard job %s: it is succeeded', :'succeeded'), 'a succeeded job cannot be discarded');
select throws_ok(format('select goodjob_discard_job(%L)', :'discarded'), 'GJ011',
                 format('cannot discard job %s: it is discarded', :'discarded'), 'a discarded job cannot be discarded again');
select throws_ok($$select goodjob_discard_job('00000000-0000-0000-0000-000000000404')$$, 'GJ010',
                 'job 00000000-0000-0000-0000-000000000404 not found', 'an unknown job is reported as not found');
select is(goodjob_test.snapshot(), :'before', 'refused discards changed nothing');

select * from finish();
rollback;
