-- goodjob_enqueue_many with concurrency limits: refused elements come back
-- as NULL in their position and are not written, the first elements of a
-- key in input order take its free slots, existing ids stay idempotent, and
-- jobs of tasks without limits are untouched.
begin;
select plan(9);
\ir helpers/goodjob_test.psql

select goodjob_define_concurrency(task => 'app.unique', total_limit => 1);
select goodjob_define_concurrency(task => 'app.perform', perform_limit => 1);
select goodjob_enqueue('app.unique', concurrency_key => 'k1') as existing \gset

create temp table result as
select row_number() over () as pos, id
from goodjob_enqueue_many(format($$[
  {"task": "app.unique", "concurrency_key": "k1"},
  {"task": "app.unique", "concurrency_key": "k2"},
  {"task": "app.free"},
  {"task": "app.unique", "concurrency_key": "k2"},
  {"task": "app.unique", "concurrency_key": "k3"},
  {"task": "app.unique", "concurrency_key": "k1", "id": "%s"},
  {"task": "app.perform"}
]$$, :'existing')::jsonb) as id;

select is((select count(*)::int from result), 7, 'one result per element');
select is(array(select pos from result where id is null order by pos), array[1, 4]::bigint[],
          'the elements over total_limit 1 (k1 has a job, k2''s second) are null in their positions');
select is((select id from result where pos = 6), :'existing'::uuid,
          'an element with an existing id returns that id, limit or not');
select is((select count(*)::int from goodjob_jobs), 5,
          'besides the existing job, four were written: k2 and k3 once, the free job and the perform-limited one');
select is((select concurrency_key from goodjob_jobs j join result r on r.id = j.id where r.pos = 2), 'k2',
          'the first k2 element took the free slot');
select is((select concurrency_key from goodjob_jobs j join result r on r.id = j.id where r.pos = 3), null,
          'a job of a task without limits has no key');
select is((select concurrency_key from goodjob_jobs j join result r on r.id = j.id where r.pos = 7), 'app.perform',
          'a job of a task with only perform limits is keyed by its task name and always written');

select goodjob_test.snapshot() as before \gset
select is(array(select x from goodjob_enqueue_many('[{"task": "app.unique", "concurrency_key": "k3"}]') x),
          array[null::uuid], 'a single refused element returns one null');
select is(goodjob_test.snapshot(), :'before', 'and writes nothing');

select * from finish();
rollback;
