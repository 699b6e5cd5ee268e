-- goodjob_enable_cron_entry and goodjob_disable_cron_entry: the operator's
-- choice overrides enabled_by_default, is shown by goodjob_cron_status, and
-- an unknown key is refused with GJ014.
begin;
select plan(9);
\ir helpers/goodjob_test.psql
delete from goodjob_cron_entries;

select goodjob_define_cron_entry(key => 'off', schedule => '@hourly', task => 't', args => '[]', kwargs => '{}',
                                 enabled_by_default => false);
select results_eq($$select enabled, set_by_operator from goodjob_cron_status where key = 'off'$$,
                  $$values (false, false)$$, 'an entry disabled by default shows as disabled, not by an operator');
select lives_ok($$select goodjob_enable_cron_entry('off')$$, 'enabling works');
select results_eq($$select enabled, set_by_operator from goodjob_cron_status where key = 'off'$$,
                  $$values (true, true)$$, 'the operator''s choice wins over enabled_by_default');
select isnt(goodjob_enqueue_cron_tick('off', '2026-01-01T01:00:00Z'), null, 'an enabled entry enqueues its tick');
select lives_ok($$select goodjob_disable_cron_entry('off')$$, 'disabling works');
select lives_ok($$select goodjob_disable_cron_entry('off')$$, 'disabling twice is fine');
select is(goodjob_enqueue_cron_tick('off', '2026-01-01T02:00:00Z'), null, 'a disabled entry enqueues nothing');
select throws_ok($$select goodjob_enable_cron_entry('nope')$$, 'GJ014', 'cron entry ''nope'' not found',
                 'enabling an unknown entry is refused');
select throws_ok($$select goodjob_disable_cron_entry(null)$$, 'GJ014', 'cron entry null not found',
                 'disabling a null key is refused');

select * from finish();
rollback;
