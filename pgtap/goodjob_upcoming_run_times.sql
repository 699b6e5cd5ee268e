-- goodjob_upcoming_run_times: the earliest run times of scheduled jobs (new
-- or waiting for a retry) with their queues, for a worker's wake-up cache.
begin;
select plan(6);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_enqueue('app.x', queue => 'qa', run_at => now() + interval '3 hours');
select goodjob_enqueue('app.x', queue => 'qb', run_at => now() + interval '1 hour');
select goodjob_enqueue('app.x', queue => 'qa', run_at => now() + interval '2 hours');
select goodjob_test.job_in_state('retrying', :'p', queue => 'qr');
select goodjob_test.job_in_state(s, :'p') from unnest(array['queued', 'running', 'succeeded', 'discarded']) as s;

select results_eq($$select queue, run_at from goodjob_upcoming_run_times()$$,
                  $$values ('qr', now() + interval '3 seconds'), ('qb', now() + interval '1 hour'),
                           ('qa', now() + interval '2 hours'), ('qa', now() + interval '3 hours')$$,
                  'every scheduled job, earliest first, with its queue; a failed job waiting for its retry included');
select results_eq($$select queue, run_at from goodjob_upcoming_run_times(2)$$,
                  $$values ('qr', now() + interval '3 seconds'), ('qb', now() + interval '1 hour')$$,
                  'max_rows keeps the earliest ones');
select is_empty($$select * from goodjob_upcoming_run_times(0)$$, 'max_rows 0 returns nothing');
select is_empty($$select * from goodjob_upcoming_run_times(-5)$$, 'a negative max_rows returns nothing');
select goodjob_fetch_and_lock(:'p', 'qb', 1, now() + interval '1 hour');
select results_eq($$select queue, run_at from goodjob_upcoming_run_times()$$,
                  $$values ('qa', now() + interval '2 hours'), ('qa', now() + interval '3 hours')$$,
                  'jobs promoted by a fetch at as_of (claimed or not) are no longer upcoming');
select goodjob_test.reset();
select is_empty($$select * from goodjob_upcoming_run_times()$$, 'nothing scheduled, nothing upcoming');

select * from finish();
rollback;
