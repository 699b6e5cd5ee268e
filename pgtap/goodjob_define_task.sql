-- goodjob_define_task: create or replace a task's defaults, refuse bad
-- values with GJ001, GJ004, GJ005, GJ006 or GJ012 and write nothing then.
begin;
select plan(25);
\ir helpers/goodjob_test.psql

select goodjob_define_task('app.full', queue => 'mice', priority => -3, max_attempts => 7, backoff => 'linear',
                           backoff_base => 2.5, preserve => 'on_discard', labels => array['a', 'b', 'a']);
select results_eq(
  $$select name, queue, priority, max_attempts, backoff, backoff_base, preserve, labels, updated_at
    from goodjob_tasks where name = 'app.full'$$,
  $$values ('app.full', 'mice', -3, 7, 'linear', 2.5::float8, 'on_discard', array['a', 'b'], now())$$,
  'a definition stores every value; labels lose duplicates and keep their order');

select goodjob_define_task('app.bare');
select results_eq(
  $$select queue, priority, max_attempts, backoff, backoff_base, preserve, labels from goodjob_tasks where name = 'app.bare'$$,
  $$values (null::text, null::int, null::int, null::text, null::float8, null::text, '{}'::text[])$$,
  'with only a name every default is left to the global ones');

select ctid as full_ctid from goodjob_tasks where name = 'app.full' \gset
select goodjob_define_task('app.full', queue => 'mice', priority => -3, max_attempts => 7, backoff => 'linear',
                           backoff_base => 2.5, preserve => 'on_discard', labels => array['a', 'b']);
select is((select ctid::text from goodjob_tasks where name = 'app.full'), :'full_ctid',
          'defining a task again with the same values does not rewrite its row');

select goodjob_define_task('app.full', queue => 'elephants', backoff => 'exponential');
select results_eq(
  $$select queue, priority, max_attempts, backoff, backoff_base, preserve, labels from goodjob_tasks where name = 'app.full'$$,
  $$values ('elephants', null::int, null::int, 'exponential', null::float8, null::text, '{}'::text[])$$,
  'defining a task again replaces the whole definition: values not given become null');
select is((select count(*)::int from goodjob_tasks where name = 'app.full'), 1, 'one row per task');

select lives_ok($$select goodjob_define_task(k, backoff => k) from unnest(array['constant', 'linear', 'exponential', 'polynomial']) k$$,
                'the four backoff kinds are accepted');
select lives_ok($$select goodjob_define_task('p-' || k, preserve => k) from unnest(array['always', 'on_discard', 'never']) k$$,
                'the three preservation policies are accepted');
select lives_ok($$select goodjob_define_task('app.zero', backoff => 'constant', backoff_base => 0, max_attempts => 1)$$,
                'backoff_base 0 and max_attempts 1 are accepted');

-- Errors --------------------------------------------------------------------------------------

select (select string_agg(t::text, E'\n' order by t.name) from goodjob_tasks t) as before \gset

select throws_ok($$select goodjob_define_task('')$$, 'GJ001',
                 'invalid task name '''': must be 1 to 255 characters', 'an empty name is refused');
select throws_ok(format('select goodjob_define_task(%L)', repeat('n', 256)), 'GJ001',
                 format('invalid task name %L: must be 1 to 255 characters', repeat('n', 256)),
                 'a 256-character name is refused');
select throws_ok($$select goodjob_define_task(null)$$, 'GJ001',
                 'invalid task name null: must be 1 to 255 characters', 'a null name is refused');
select throws_ok($$select goodjob_define_task('app.full', queue => 'a b')$$, 'GJ004',
                 'invalid queue name ''a b''', 'a bad default queue is refused');
select throws_ok($$select goodjob_define_task('app.full', queue => '-x')$$, 'GJ004',
                 'invalid queue name ''-x''', 'a default queue starting with - is refused');
select throws_ok($$select goodjob_define_task('app.full', max_attempts => 0)$$, 'GJ005',
                 'invalid max_attempts 0: must be at least 1', 'max_attempts 0 is refused');
select throws_ok($$select goodjob_define_task('app.full', backoff => 'fast')$$, 'GJ012',
                 'invalid backoff ''fast''', 'an unknown backoff kind is refused');
select is(goodjob_test.error_field($$select goodjob_define_task('app.full', backoff => 'fast')$$, 'hint'),
          'Use constant, linear, exponential or polynomial.', 'the backoff error lists the kinds');
select throws_ok(format('select goodjob_define_task(%L, backoff_base => %L::float8)', 'app.full', b), 'GJ012',
                 format('invalid backoff_base %s: must be a finite number of seconds >= 0', b),
                 format('backoff_base %s is refused', b))
from unnest(array['-1', '-0.5', 'NaN', 'Infinity', '-Infinity']) as b;
select throws_ok($$select goodjob_define_task('app.full', preserve => 'sometimes')$$, 'GJ012',
                 'invalid preserve ''sometimes''', 'an unknown preservation policy is refused');
select is(goodjob_test.error_field($$select goodjob_define_task('app.full', preserve => 'sometimes')$$, 'hint'),
          'Use always, on_discard or never.', 'the preserve error lists the policies');
select throws_ok($$select goodjob_define_task('app.full', labels => array['ok', ''])$$, 'GJ006',
                 'invalid label '''': must be 1 to 128 characters', 'an empty label is refused');

select is((select string_agg(t::text, E'\n' order by t.name) from goodjob_tasks t), :'before',
          'no refused definition changed goodjob_tasks');

select * from finish();
rollback;
