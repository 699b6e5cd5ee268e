-- max_arguments_bytes (goodjob_settings): args and kwargs over the limit are
-- refused with GJ050 by every enqueue path and nothing is written; the limit
-- is exact, validated (GJ051) and re-applied when the setting changes.
begin;
select plan(14);
\ir helpers/goodjob_test.psql

select is((select value from goodjob_settings where key = 'max_arguments_bytes'), '1048576'::jsonb,
          'the default maximum is 1 MB');
select has_trigger('goodjob_jobs', 'goodjob_jobs_arguments_size', 'goodjob_jobs has the size trigger');
select matches(pg_get_triggerdef((select oid from pg_trigger where tgname = 'goodjob_jobs_arguments_size')),
               '> 1048576', 'the trigger''s WHEN clause holds the limit as a constant');

select throws_ok($$select goodjob_enqueue('t', args => jsonb_build_array(repeat('x', 1048576)))$$, 'GJ050',
                 'args of a t job are 1048588 bytes, over the maximum of 1048576 bytes',
                 'args over 1 MB are refused with both sizes named (GJ050)');
select throws_ok($$select goodjob_enqueue('t', kwargs => jsonb_build_object('k', repeat('x', 1048576)))$$, 'GJ050',
                 null, 'kwargs over the limit are refused (GJ050)');
select throws_ok($$select goodjob_enqueue_many(jsonb_build_array(jsonb_build_object('task', 'small'),
                    jsonb_build_object('task', 'big', 'args', jsonb_build_array(repeat('x', 1048576)))))$$,
                 'GJ050', null, 'goodjob_enqueue_many refuses the statement when one job is too big (GJ050)');
select is((select count(*) from goodjob_jobs), 0::bigint, 'nothing was written by the refused calls');

-- Exactness: set the limit to the size of one value, then one byte under it
-- (a value over 126 bytes: smaller ones are stored with a 1-byte header).
select pg_column_size(jsonb_build_array(repeat('x', 200))) as exact \gset
update goodjob_settings set value = to_jsonb(:exact) where key = 'max_arguments_bytes';
select lives_ok($$select goodjob_enqueue('t', args => jsonb_build_array(repeat('x', 200)))$$,
                'args of exactly the maximum are accepted');
update goodjob_settings set value = to_jsonb(:exact - 1) where key = 'max_arguments_bytes';
select throws_ok($$select goodjob_enqueue('t', args => jsonb_build_array(repeat('x', 200)))$$, 'GJ050', null,
                 'one byte over the maximum is refused');
select lives_ok($$select goodjob_enqueue('t', args => '[1]')$$, 'smaller args still pass');

select throws_ok($$update goodjob_settings set value = '"big"' where key = 'max_arguments_bytes'$$, 'GJ051',
                 'max_arguments_bytes must be a whole number of bytes from 1 to 1073741824, not "big"',
                 'a non-number setting is refused (GJ051)');
select throws_ok($$update goodjob_settings set value = '0' where key = 'max_arguments_bytes'$$, 'GJ051',
                 null, 'zero is refused (GJ051)');
select throws_ok($$update goodjob_settings set value = '1.5' where key = 'max_arguments_bytes'$$, 'GJ051',
                 null, 'a fraction is refused (GJ051)');

delete from goodjob_settings where key = 'max_arguments_bytes';
select matches(pg_get_triggerdef((select oid from pg_trigger where tgname = 'goodjob_jobs_arguments_size')),
               '> 1048576', 'deleting the setting restores the 1 MB default');

select * from finish();
rollback;
