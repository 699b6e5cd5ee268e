-- goodjob_enqueue_cron_tick: each tick becomes one job (cron_key, cron_at,
-- run_at = cron_at) with the stored or given values; a tick already handled,
-- an older one, or one of a disabled entry enqueues nothing; errors.
begin;
select plan(16);
\ir helpers/goodjob_test.psql
delete from goodjob_cron_entries;

select goodjob_define_task('app.report', queue => 'reports', labels => '{task-label}');
select goodjob_define_cron_entry(key => 'hourly', schedule => '@hourly', task => 'app.report',
                                 args => '[1]', kwargs => '{"k": 2}', priority => 5);
select goodjob_enqueue_cron_tick('hourly', '2026-01-01T10:00:00Z', next_run_at => '2026-01-01T11:00:00Z') as j \gset
select results_eq(format($$select task, args, kwargs, queue, priority, labels, run_at, state, cron_key, cron_at
                           from goodjob_jobs where id = %L$$, :'j'),
                  $$values ('app.report', '[1]'::jsonb, '{"k": 2}'::jsonb, 'reports', 5, '{task-label}'::text[],
                            '2026-01-01T10:00:00Z'::timestamptz, 'queued', 'hourly', '2026-01-01T10:00:00Z'::timestamptz)$$,
                  'a tick enqueues the stored arguments, task defaults for the rest, ready at the tick time');
select results_eq($$select last_tick_at, last_run_at, last_job_id, next_run_at from goodjob_cron_entries$$,
                  format($$values ('2026-01-01T10:00:00Z'::timestamptz, now(), %L::uuid, '2026-01-01T11:00:00Z'::timestamptz)$$, :'j'),
                  'the entry records the tick, the run, the job and the next run');
select is(goodjob_enqueue_cron_tick('hourly', '2026-01-01T10:00:00Z'), null, 'the same tick again enqueues nothing');
select is(goodjob_enqueue_cron_tick('hourly', '2026-01-01T09:00:00Z'), null, 'nor does an older tick');
select is((select count(*)::int from goodjob_jobs), 1, 'one job so far');

select goodjob_enqueue_cron_tick('hourly', '2026-01-01T11:00:00Z', args => '[99]', kwargs => '{}',
                                 queue => 'other', priority => 0, labels => '{cron}') as j2 \gset
select results_eq(format($$select args, kwargs, queue, priority, labels from goodjob_jobs where id = %L$$, :'j2'),
                  $$values ('[99]'::jsonb, '{}'::jsonb, 'other', 0, '{cron}'::text[])$$,
                  'given values (computed in Python for this tick) replace the stored ones');

-- A tick whose job still exists is not enqueued twice, even if the entry lost its history.
update goodjob_cron_entries set last_tick_at = null;
select is(goodjob_enqueue_cron_tick('hourly', '2026-01-01T11:00:00Z'), null,
          'a tick that already has a job is not enqueued again');
select is((select count(*)::int from goodjob_jobs where cron_key = 'hourly'), 2, 'still two jobs');

-- Disabled: the tick counts as handled, nothing is enqueued.
select goodjob_disable_cron_entry('hourly');
select is(goodjob_enqueue_cron_tick('hourly', '2026-01-01T12:00:00Z'), null, 'a disabled entry enqueues nothing');
select is((select last_tick_at from goodjob_cron_entries), '2026-01-01T12:00:00Z'::timestamptz,
          'but its tick counts as handled (enabling it later does not replay it)');
select goodjob_enable_cron_entry('hourly');

-- Computed arguments must be given.
select goodjob_define_cron_entry(key => 'computed', schedule => '<callable>', task => 'app.report');
select throws_ok($$select goodjob_enqueue_cron_tick('computed', '2026-01-01T10:00:00Z')$$, 'GJ016',
                 'cron entry ''computed'' computes its arguments in Python', 'an entry with computed arguments needs them');
select isnt(goodjob_enqueue_cron_tick('computed', '2026-01-01T10:00:00Z', args => '[]', kwargs => '{}'), null,
            'given them, it enqueues');

-- Errors change nothing
select (select count(*) from goodjob_jobs) as before \gset
select throws_ok($$select goodjob_enqueue_cron_tick('nope', now())$$, 'GJ014', 'cron entry ''nope'' not found',
                 'an unknown entry is refused');
select throws_ok($$select goodjob_enqueue_cron_tick('hourly', null)$$, 'GJ015',
                 'invalid cron_at null: pass the tick''s scheduled time', 'a null tick time is refused');
select throws_ok($$select goodjob_enqueue_cron_tick('hourly', '2026-01-01T13:00:00Z', queue => 'a,b')$$, 'GJ004',
                 'invalid queue name ''a,b''', 'a bad queue is refused');
select results_eq($$select count(*), max(last_tick_at) from goodjob_jobs, goodjob_cron_entries where key = 'hourly'$$,
                  format($$values (%s::bigint, '2026-01-01T12:00:00Z'::timestamptz)$$, :'before'),
                  'refused ticks enqueued nothing and did not move the entry''s last tick');

select * from finish();
rollback;
