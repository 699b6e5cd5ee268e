-- goodjob_reschedule_job on every state: scheduled and queued jobs move to
-- the new run_at (scheduled when it is in the future, queued otherwise);
-- running and finished jobs are refused with GJ011, unknown ones with GJ010,
-- a null run_at with GJ013, and a refusal changes nothing.
begin;
select plan(13);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

select goodjob_test.job_in_state('queued', :'p') as j \gset
select is(goodjob_reschedule_job(:'j', now() + interval '2 hours'), :'j'::uuid, 'rescheduling returns the job id');
select results_eq(format($$select state, run_at from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('scheduled', now() + interval '2 hours')$$,
                  'a queued job moved to the future becomes scheduled');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, %L)$$, :'p', (goodjob_test.job(:'j')).queue),
                'and is not fetched before its new time');
select goodjob_reschedule_job(:'j', now() + interval '3 hours');
select results_eq(format($$select state, run_at from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('scheduled', now() + interval '3 hours')$$,
                  'a scheduled job moved to another future time stays scheduled');
select goodjob_reschedule_job(:'j', now() - interval '1 hour');
select results_eq(format($$select state, run_at from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', now() - interval '1 hour')$$,
                  'a scheduled job moved to the past is queued, keeping that run_at for ordering');

select goodjob_test.job_in_state('retrying', :'p') as j \gset
select goodjob_reschedule_job(:'j', now());
select results_eq(format($$select state, run_at, attempts, last_error from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('queued', now(), 1, 'Error: failed once')$$,
                  'a job waiting for a retry moved to now is queued, keeping its attempts and error');

-- refused
select goodjob_test.job_in_state('running', :'p') as running \gset
select goodjob_test.job_in_state('succeeded', :'p') as succeeded \gset
select goodjob_test.job_in_state('discarded', :'p') as discarded \gset
select goodjob_test.job_in_state('queued', :'p') as queued \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select throws_ok(format('select goodjob_reschedule_job(%L, now())', s), 'GJ011',
                 format('cannot reschedule job %s: it is %s', s, (goodjob_test.job(s)).state),
                 format('a %s job cannot be rescheduled', (goodjob_test.job(s)).state))
from unnest(array[:'running', :'succeeded', :'discarded']::uuid[]) as s;
select is(goodjob_test.error_field(format('select goodjob_reschedule_job(%L, now())', :'running'), 'hint'),
          'Only scheduled or queued jobs can be rescheduled.', 'the hint says which jobs can be rescheduled');
select throws_ok(format('select goodjob_reschedule_job(%L, null)', :'queued'), 'GJ013',
                 'invalid run_at null: pass the new run time', 'a null run_at is refused');
select throws_ok($$select goodjob_reschedule_job('00000000-0000-0000-0000-000000000404', now())$$, 'GJ010',
                 'job 00000000-0000-0000-0000-000000000404 not found', 'an unknown job is reported as not found');
select is(goodjob_test.snapshot(), :'before', 'refused reschedules changed nothing');

select * from finish();
rollback;
