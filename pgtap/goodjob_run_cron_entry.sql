-- goodjob_run_cron_entry: enqueue an entry's job now, enabled or not,
-- without using up a tick; computed arguments must be given; errors.
begin;
select plan(8);
\ir helpers/goodjob_test.psql
delete from goodjob_cron_entries;

select goodjob_define_cron_entry(key => 'weekly', schedule => '@weekly', task => 'app.cleanup',
                                 args => '["all"]', kwargs => '{}', labels => '{maintenance}',
                                 enabled_by_default => false);
select goodjob_run_cron_entry('weekly') as j \gset
select results_eq(format($$select task, args, labels, state, run_at, cron_key, cron_at from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('app.cleanup', '["all"]'::jsonb, '{maintenance}'::text[], 'queued', now(), 'weekly', null::timestamptz)$$,
                  'a disabled entry runs now with its stored values; cron_at stays null');
select results_eq($$select last_run_at, last_tick_at, last_job_state from goodjob_cron_status$$,
                  $$values (now(), null::timestamptz, 'queued')$$,
                  'the run shows as the last run, and no tick was used up');
select isnt(goodjob_run_cron_entry('weekly'), :'j'::uuid, 'running again enqueues another job');
select goodjob_run_cron_entry('weekly', args => '["some"]', priority => -3) as j2 \gset
select results_eq(format($$select args, priority from goodjob_jobs where id = %L$$, :'j2'),
                  $$values ('["some"]'::jsonb, -3)$$, 'given values replace the stored ones');

select goodjob_define_cron_entry(key => 'computed', schedule => '<callable>', task => 'app.cleanup');
select throws_ok($$select goodjob_run_cron_entry('computed')$$, 'GJ016',
                 'cron entry ''computed'' computes its arguments in Python', 'computed arguments must be given');
select throws_ok($$select goodjob_run_cron_entry('nope')$$, 'GJ014', 'cron entry ''nope'' not found',
                 'an unknown entry is refused');
select throws_ok($$select goodjob_run_cron_entry('weekly', args => '{}')$$, 'GJ002',
                 'invalid args {}: must be a JSON array', 'bad arguments are refused');
select is((select count(*)::int from goodjob_jobs), 3, 'refused runs enqueued nothing');

select * from finish();
rollback;
