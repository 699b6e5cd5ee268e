-- goodjob_enqueue_many: ids in input order, the same defaults and
-- validation as goodjob_enqueue, idempotent ids, and all or nothing: a
-- malformed element anywhere means no job is written.
begin;
select plan(48);
\ir helpers/goodjob_test.psql
-- Jobs may join only a batch that exists (migration 0006).
select goodjob_create_batch(id => '00000000-0000-0000-0000-0000000000b1');

select goodjob_define_task('app.defined', queue => 'elephants', priority => 7, max_attempts => 4,
                           labels => array['heavy']);

-- Ids in input order, fields stored ---------------------------------------------------

create temp table many_ids as
select ord, id from goodjob_enqueue_many($$[
  {"task": "app.a", "id": "00000000-0000-0000-0000-0000000000a1", "args": [1], "kwargs": {"k": "v"},
   "queue": "mice", "priority": -5, "labels": ["x", "y", "x"], "concurrency_key": "ck",
   "batch_id": "00000000-0000-0000-0000-0000000000b1", "max_attempts": 2},
  {"task": "app.b"},
  {"task": "app.c", "id": "00000000-0000-0000-0000-0000000000c1", "run_at": "2999-01-01T00:00:00Z"},
  {"task": "app.defined", "id": "00000000-0000-0000-0000-0000000000d1"},
  {"task": "app.defined", "id": "00000000-0000-0000-0000-0000000000d2", "queue": "mice", "priority": 0,
   "max_attempts": 9, "labels": []},
  {"task": "app.nulls", "id": "00000000-0000-0000-0000-0000000000e1", "args": null, "kwargs": null,
   "queue": null, "priority": null, "run_at": null, "labels": null, "concurrency_key": null,
   "batch_id": null, "max_attempts": null}
]$$) with ordinality as r(id, ord);

select is((select count(*)::int from many_ids), 6, 'one id per element');
select is((select array_agg(id order by ord) filter (where ord in (1, 3, 4, 5, 6)) from many_ids),
          array['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1',
                '00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000d2',
                '00000000-0000-0000-0000-0000000000e1']::uuid[],
          'the given ids come back in input order');
select is((select task from goodjob_jobs where id = (select id from many_ids where ord = 2)), 'app.b',
          'an element without an id gets a new id, returned at its position');
select is((select count(*)::int from goodjob_jobs), 6, 'one row per element');

select results_eq(
  $$select task, args, kwargs, queue, priority, state, max_attempts, labels, concurrency_key, batch_id, run_at
    from goodjob_jobs where id = '00000000-0000-0000-0000-0000000000a1'$$,
  $$values ('app.a', '[1]'::jsonb, '{"k": "v"}'::jsonb, 'mice', -5, 'queued', 2, array['x', 'y'], 'ck',
            '00000000-0000-0000-0000-0000000000b1'::uuid, now())$$,
  'every key is stored like goodjob_enqueue''s argument of the same name; run_at defaults to now');
select results_eq(
  $$select task, args, kwargs, queue, priority, state, max_attempts, labels
    from goodjob_jobs where id = (select id from many_ids where ord = 2)$$,
  $$values ('app.b', '[]'::jsonb, '{}'::jsonb, 'default', 0, 'queued', 25, '{}'::text[])$$,
  'missing keys take the global defaults');
select results_eq(
  $$select state, run_at from goodjob_jobs where id = '00000000-0000-0000-0000-0000000000c1'$$,
  $$values ('scheduled', '2999-01-01T00:00:00Z'::timestamptz)$$,
  'a run_at in the future makes that element scheduled');
select results_eq(
  $$select queue, priority, max_attempts, labels from goodjob_jobs where id = '00000000-0000-0000-0000-0000000000d1'$$,
  $$values ('elephants', 7, 4, array['heavy'])$$,
  'missing keys take the task definition''s defaults');
select results_eq(
  $$select queue, priority, max_attempts, labels from goodjob_jobs where id = '00000000-0000-0000-0000-0000000000d2'$$,
  $$values ('mice', 0, 9, '{}'::text[])$$,
  'given keys override the task definition');
select results_eq(
  $$select args, kwargs, queue, priority, state, max_attempts, labels, concurrency_key, batch_id
    from goodjob_jobs where id = '00000000-0000-0000-0000-0000000000e1'$$,
  $$values ('[]'::jsonb, '{}'::jsonb, 'default', 0, 'queued', 25, '{}'::text[], null::text, null::uuid)$$,
  'JSON null values mean the same as missing keys');
select set_eq($$select name from goodjob_queues$$, array['mice', 'default', 'elephants'],
              'every queue written to is recorded in goodjob_queues');

-- Idempotent ids --------------------------------------------------------------------

select results_eq(
  $$select * from goodjob_enqueue_many('[{"task": "app.z", "id": "00000000-0000-0000-0000-0000000000a1", "queue": "zz"},
                                       {"task": "app.new", "id": "00000000-0000-0000-0000-0000000000f1"},
                                       {"task": "app.dup", "id": "00000000-0000-0000-0000-0000000000f1"}]')$$,
  $$values ('00000000-0000-0000-0000-0000000000a1'::uuid), ('00000000-0000-0000-0000-0000000000f1'),
           ('00000000-0000-0000-0000-0000000000f1')$$,
  'existing and repeated ids are returned at their positions');
select results_eq(
  $$select task, queue from goodjob_jobs where id in ('00000000-0000-0000-0000-0000000000a1',
                                                      '00000000-0000-0000-0000-0000000000f1') order by id$$,
  $$values ('app.a', 'mice'), ('app.new', 'default')$$,
  'an existing job is unchanged and a repeated id is written once, by its first element');
select ok(not exists (select 1 from goodjob_queues where name = 'zz'),
          'the ignored element did not register its queue');

select is((select count(*)::int from goodjob_enqueue_many('[]')), 0, 'an empty array enqueues nothing');

select lives_ok($$select goodjob_enqueue_many('[{"task": "app.range", "priority": -2147483648, "max_attempts": 2147483647}]')$$,
                'priority and max_attempts at the limits of the int range are accepted');

-- Validation: nothing is written -----------------------------------------------------

select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select throws_ok($$select goodjob_enqueue_many('{"task": "app.a"}')$$, 'GJ006',
                 'invalid jobs {"task": "app.a"}: must be a JSON array of job objects',
                 'jobs that are an object, not an array, are refused');
select throws_ok($$select goodjob_enqueue_many(null)$$, 'GJ006',
                 'invalid jobs null: must be a JSON array of job objects', 'null jobs are refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, 3]')$$, 'GJ006',
                 'invalid job at position 2: 3 is not a JSON object',
                 'an element that is not an object is refused, named by its position');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, ["app.a"]]')$$, 'GJ006',
                 'invalid job at position 2: ["app.a"] is not a JSON object',
                 'an element that is an array is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok", "colour": "red"}]')$$, 'GJ006',
                 'invalid job at position 1: key ''colour'' has unsupported value "red"',
                 'an unknown key is refused');
select is(goodjob_test.error_field($$select goodjob_enqueue_many('[{"task": "app.ok", "colour": "red"}]')$$, 'hint'),
          'Keys: task, args, kwargs, queue, priority, run_at, labels, concurrency_key, batch_id, max_attempts, id.',
          'the hint lists the keys an element may have');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok", "queue": 1}, {"nope": 1}]')$$, 'GJ006',
                 'invalid job at position 1: key ''queue'' has unsupported value 1',
                 'the first malformed element is the one reported');

select throws_ok(format('select goodjob_enqueue_many(%L)', jsonb_build_array(jsonb_build_object('task', 'app.ok', k, v))),
                 'GJ006', format('invalid job at position 1: key %L has unsupported value %s', k, v::text),
                 format('%s as %s is refused', k, why))
from (values ('task', '1'::jsonb, 'a number'), ('args', '{}', 'an object'), ('args', '"[]"', 'a string'),
             ('kwargs', '[]', 'an array'), ('queue', '["q"]', 'an array'), ('priority', '"1"', 'a string'),
             ('priority', '1.5', 'a fraction'), ('priority', 'true', 'a boolean'),
             ('max_attempts', '"3"', 'a string'), ('run_at', '5', 'a number'), ('labels', '"red"', 'a string'),
             ('labels', '[1]', 'an array of numbers'), ('labels', '["ok", null]', 'an array holding null'),
             ('concurrency_key', '1', 'a number'), ('batch_id', '{}', 'an object'), ('id', '1', 'a number'))
  as v(k, v, why);

select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok", "priority": 9999999999}]')$$, 'GJ006',
                 'invalid job at position 1: key ''priority'' has unsupported value 9999999999',
                 'a priority out of the int range is refused with GJ006');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok", "max_attempts": -2147483649}]')$$, 'GJ006',
                 'invalid job at position 1: key ''max_attempts'' has unsupported value -2147483649',
                 'a max_attempts out of the int range is refused with GJ006');

select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"task": ""}]')$$, 'GJ001',
                 'invalid task name '''': must be 1 to 255 characters', 'an empty task is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"args": [1]}]')$$, 'GJ001',
                 'invalid task name null: must be 1 to 255 characters', 'an element without a task is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"task": "app.ok", "queue": "a,b"}]')$$, 'GJ004',
                 'invalid queue name ''a,b''', 'a bad queue name is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"task": "app.ok", "queue": "-a"}]')$$, 'GJ004',
                 'invalid queue name ''-a''', 'a queue name with a leading - is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"task": "app.ok", "max_attempts": 0}]')$$, 'GJ005',
                 'invalid max_attempts 0: must be at least 1', 'max_attempts 0 is refused');
select throws_ok($$select goodjob_enqueue_many('[{"task": "app.ok"}, {"task": "app.ok", "labels": [""]}]')$$, 'GJ006',
                 'invalid label '''': must be 1 to 128 characters', 'an empty label is refused');

select is(goodjob_test.snapshot(), :'before',
          'no refused call wrote a job (not even the valid elements before the bad one) or a queue');

select * from finish();
rollback;
