-- goodjob_define_cron_entry: creates an entry, updates its definition while
-- keeping the operator's enable/disable choice and the run history, and
-- refuses bad keys, schedules, tasks, arguments, queues and labels.
begin;
select plan(15);
\ir helpers/goodjob_test.psql
delete from goodjob_cron_entries;

select lives_ok($$select goodjob_define_cron_entry(key => 'nightly', schedule => '0 3 * * *', task => 'app.report',
                                                     args => '[2026]', kwargs => '{"full": true}', queue => 'reports',
                                                     priority => -1, labels => '{ops,ops,cron}',
                                                     description => 'the nightly report')$$,
                'an entry is defined');
select results_eq($$select schedule, task, args, kwargs, queue, priority, labels, description, enabled_by_default,
                           enabled, last_tick_at from goodjob_cron_entries$$,
                  $$values ('0 3 * * *', 'app.report', '[2026]'::jsonb, '{"full": true}'::jsonb, 'reports', -1,
                            '{ops,cron}'::text[], 'the nightly report', true, null::boolean, null::timestamptz)$$,
                  'with its definition; labels keep their order without duplicates; no operator choice, no history');
select goodjob_define_cron_entry(key => 'computed', schedule => '<callable f>', task => 'app.f');
select results_eq($$select args, kwargs, queue, labels, enabled_by_default from goodjob_cron_entries where key = 'computed'$$,
                  $$values (null::jsonb, null::jsonb, null::text, null::text[], true)$$,
                  'null arguments and options mean "computed by Python at each tick"');

-- Redefinition keeps the operator's choice and the history.
select goodjob_disable_cron_entry('nightly');
update goodjob_cron_entries set last_tick_at = '2026-01-01T03:00:00Z', last_run_at = '2026-01-01T03:00:01Z'
 where key = 'nightly';
select goodjob_define_cron_entry(key => 'nightly', schedule => '0 4 * * *', task => 'app.report2',
                                 enabled_by_default => true, next_run_at => '2026-01-02T04:00:00Z');
select results_eq($$select schedule, task, args, enabled, last_tick_at, last_run_at, next_run_at from goodjob_cron_entries
                    where key = 'nightly'$$,
                  $$values ('0 4 * * *', 'app.report2', null::jsonb, false, '2026-01-01T03:00:00Z'::timestamptz,
                            '2026-01-01T03:00:01Z'::timestamptz, '2026-01-02T04:00:00Z'::timestamptz)$$,
                  'a new definition replaces the old one but keeps enabled, last_tick_at and last_run_at');
select goodjob_define_cron_entry(key => 'nightly', schedule => '0 4 * * *', task => 'app.report2');
select is((select next_run_at from goodjob_cron_entries where key = 'nightly'), '2026-01-02T04:00:00Z'::timestamptz,
          'a definition without next_run_at keeps the recorded one');

-- Errors, and nothing changes
select (select count(*) from goodjob_cron_entries) as before \gset
select throws_ok($$select goodjob_define_cron_entry(key => null, schedule => '@hourly', task => 't')$$, 'GJ015',
                 'invalid cron key null: must be 1 to 255 characters', 'a null key is refused');
select throws_ok($$select goodjob_define_cron_entry(key => '', schedule => '@hourly', task => 't')$$, 'GJ015',
                 'invalid cron key '''': must be 1 to 255 characters', 'an empty key is refused');
select throws_ok(format($$select goodjob_define_cron_entry(key => %L, schedule => '@hourly', task => 't')$$, repeat('k', 256)),
                 'GJ015', format('invalid cron key %L: must be 1 to 255 characters', repeat('k', 256)), 'a long key is refused');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '  ', task => 't')$$, 'GJ015',
                 'invalid schedule ''  '' for cron entry ''k'': pass the cron expression', 'a blank schedule is refused');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '@hourly', task => '')$$, 'GJ001',
                 'invalid task name '''': must be 1 to 255 characters', 'an empty task is refused');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '@hourly', task => 't', args => '{}')$$,
                 'GJ002', 'invalid args {}: must be a JSON array', 'args must be an array');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '@hourly', task => 't', kwargs => '[]')$$,
                 'GJ003', 'invalid kwargs []: must be a JSON object', 'kwargs must be an object');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '@hourly', task => 't', queue => 'a b')$$,
                 'GJ004', 'invalid queue name ''a b''', 'a bad queue is refused');
select throws_ok($$select goodjob_define_cron_entry(key => 'k', schedule => '@hourly', task => 't', labels => '{""}')$$,
                 'GJ006', 'invalid label '''': must be 1 to 128 characters', 'a bad label is refused');
select is((select count(*) from goodjob_cron_entries), :'before'::bigint, 'refused definitions wrote nothing');

select * from finish();
rollback;
