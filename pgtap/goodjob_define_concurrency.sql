-- goodjob_define_concurrency: sets and clears a task's limits, keeps its
-- other defaults (and goodjob_define_task keeps the limits), and refuses bad
-- limits with GJ020 (bad names with GJ001) without writing anything.
begin;
select plan(17);
\ir helpers/goodjob_test.psql

select has_function('goodjob_define_concurrency',
  array['text', 'integer', 'integer', 'integer', 'integer', 'interval', 'integer', 'interval'],
  'goodjob_define_concurrency(task, total_limit, enqueue_limit, perform_limit, enqueue_throttle_limit, enqueue_throttle_period, perform_throttle_limit, perform_throttle_period) exists');
select is(pg_get_function_arguments('goodjob_define_concurrency(text,int,int,int,int,interval,int,interval)'::regprocedure),
  'task text, total_limit integer DEFAULT NULL::integer, enqueue_limit integer DEFAULT NULL::integer, perform_limit integer DEFAULT NULL::integer, enqueue_throttle_limit integer DEFAULT NULL::integer, enqueue_throttle_period interval DEFAULT NULL::interval, perform_throttle_limit integer DEFAULT NULL::integer, perform_throttle_period interval DEFAULT NULL::interval',
  'its arguments are named for named notation, every limit defaulting to null');
select isnt(obj_description('goodjob_define_concurrency(text,int,int,int,int,interval,int,interval)'::regprocedure), null,
  'it has a comment for \df+');

-- Setting limits ------------------------------------------------------------------

select goodjob_define_concurrency(task => 'app.limited', total_limit => 5, enqueue_limit => 4, perform_limit => 2,
                                  enqueue_throttle_limit => 10, enqueue_throttle_period => '1 minute',
                                  perform_throttle_limit => 100, perform_throttle_period => '1 hour');
select results_eq(
  $$select total_limit, enqueue_limit, perform_limit, enqueue_throttle_limit, enqueue_throttle_period,
           perform_throttle_limit, perform_throttle_period, queue from goodjob_tasks where name = 'app.limited'$$,
  $$values (5, 4, 2, 10, interval '1 minute', 100, interval '1 hour', null::text)$$,
  'a task without a definition gets one holding just the limits');

select goodjob_define_task(name => 'app.limited', queue => 'mice', max_attempts => 3);
select results_eq(
  $$select total_limit, perform_limit, queue, max_attempts from goodjob_tasks where name = 'app.limited'$$,
  $$values (5, 2, 'mice', 3)$$,
  'goodjob_define_task changes the other defaults and keeps the limits');

select goodjob_define_concurrency(task => 'app.limited', perform_limit => 1);
select results_eq(
  $$select total_limit, enqueue_limit, perform_limit, enqueue_throttle_limit, perform_throttle_limit, queue, max_attempts
      from goodjob_tasks where name = 'app.limited'$$,
  $$values (null::int, null::int, 1, null::int, null::int, 'mice', 3)$$,
  'defining again replaces every limit (nulls clear) and keeps queue and max_attempts');

select goodjob_define_concurrency(task => 'app.limited');
select is((select coalesce(total_limit, enqueue_limit, perform_limit, enqueue_throttle_limit, perform_throttle_limit)
             from goodjob_tasks where name = 'app.limited'), null,
          'with no limits given, the task has no concurrency control');

-- Errors: nothing written --------------------------------------------------------

select goodjob_test.snapshot() as before \gset
select (select string_agg(t::text, ',' order by t.name) from goodjob_tasks t) as tasks_before \gset

select throws_ok($$select goodjob_define_concurrency(task => '', perform_limit => 1)$$, 'GJ001',
  $$invalid task name '': must be 1 to 255 characters$$, 'an empty task name is GJ001');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', perform_limit => 0)$$, 'GJ020',
  'invalid perform_limit 0: must be at least 1', 'a perform_limit of 0 is GJ020, naming the limit and the value');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', total_limit => -1)$$, 'GJ020',
  'invalid total_limit -1: must be at least 1', 'a negative total_limit is GJ020');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', enqueue_limit => 0)$$, 'GJ020',
  'invalid enqueue_limit 0: must be at least 1', 'an enqueue_limit of 0 is GJ020');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', enqueue_throttle_limit => 0,
                                                     enqueue_throttle_period => '1 minute')$$, 'GJ020',
  'invalid enqueue_throttle_limit 0: must be at least 1', 'a throttle of 0 jobs is GJ020');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', perform_throttle_limit => 3)$$, 'GJ020',
  $$invalid throttle for task 'app.limited': give both the number of jobs and the period, or neither$$,
  'a perform throttle without its period is GJ020');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', enqueue_throttle_period => '1 minute')$$, 'GJ020',
  $$invalid throttle for task 'app.limited': give both the number of jobs and the period, or neither$$,
  'an enqueue throttle period without its number is GJ020');
select throws_ok($$select goodjob_define_concurrency(task => 'app.limited', perform_throttle_limit => 3,
                                                     perform_throttle_period => '0 seconds')$$, 'GJ020',
  'invalid throttle period 00:00:00: must be positive', 'a zero throttle period is GJ020');

select is(goodjob_test.snapshot(), :'before', 'the refused calls changed no job, process or queue');
select is((select string_agg(t::text, ',' order by t.name) from goodjob_tasks t), :'tasks_before',
          'the refused calls changed no task definition');

select * from finish();
rollback;
