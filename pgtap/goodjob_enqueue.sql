-- goodjob_enqueue: defaults, every option, scheduled vs queued, task
-- definition defaults, idempotent ids, and every validation error (after
-- which nothing was written).
begin;
select plan(47);
\ir helpers/goodjob_test.psql
-- Jobs may join only a batch that exists (migration 0006).
select goodjob_create_batch(id => '00000000-0000-0000-0000-0000000000b1');

-- Defaults ----------------------------------------------------------------------

select goodjob_enqueue('app.plain') as plain \gset

select results_eq(
  format($$select task, args, kwargs, queue, priority, run_at, state, attempts, max_attempts, labels,
                  concurrency_key, batch_id, cron_key, cron_at, created_at, started_at, finished_at,
                  last_error, locked_by
           from goodjob_jobs where id = %L$$, :'plain'),
  $$values ('app.plain', '[]'::jsonb, '{}'::jsonb, 'default', 0, now(), 'queued', 0, 25, '{}'::text[],
            null::text, null::uuid, null::text, null::timestamptz, now(), null::timestamptz, null::timestamptz,
            null::text, null::uuid)$$,
  'with only a task, a job is queued now in queue default with priority 0, 25 attempts and no labels');
select ok(exists (select 1 from goodjob_queues where name = 'default'),
          'the queue of a new job is recorded in goodjob_queues');

-- Every option --------------------------------------------------------------------

select goodjob_enqueue(
  task => 'app.full', args => '[1, "two", {"three": 3}]', kwargs => '{"to": "a@example.com"}',
  queue => 'mice', priority => -10, run_at => now() - interval '1 minute',
  labels => array['red', 'blue', 'red', 'green'], concurrency_key => 'user-1',
  batch_id => '00000000-0000-0000-0000-0000000000b1', max_attempts => 3,
  id => '00000000-0000-0000-0000-00000000f011') as full \gset

select is(:'full'::uuid, '00000000-0000-0000-0000-00000000f011'::uuid, 'a given id is the id of the new job');
select results_eq(
  format($$select task, args, kwargs, queue, priority, run_at, state, attempts, max_attempts, labels,
                  concurrency_key, batch_id
           from goodjob_jobs where id = %L$$, :'full'),
  $$values ('app.full', '[1, "two", {"three": 3}]'::jsonb, '{"to": "a@example.com"}'::jsonb, 'mice', -10,
            now() - interval '1 minute', 'queued', 0, 3, array['red', 'blue', 'green'],
            'user-1', '00000000-0000-0000-0000-0000000000b1'::uuid)$$,
  'every option is stored; labels keep their first-seen order without duplicates');

-- Scheduled vs queued -----------------------------------------------------------

select is((goodjob_test.job(goodjob_enqueue('app.later', run_at => now() + interval '1 second'))).state,
          'scheduled', 'a run_at in the future makes the job scheduled');
select is((goodjob_test.job(goodjob_enqueue('app.now', run_at => now()))).state,
          'queued', 'a run_at equal to now makes the job queued (ready)');
select is((goodjob_test.job(goodjob_enqueue('app.past', run_at => now() - interval '1 day'))).state,
          'queued', 'a run_at in the past makes the job queued and keeps that run_at for ordering');

-- Task definition defaults ----------------------------------------------------

select goodjob_define_task('app.defined', queue => 'elephants', priority => 7, max_attempts => 4,
                           labels => array['heavy']);

select results_eq(
  format($$select queue, priority, max_attempts, labels from goodjob_jobs where id = %L$$,
         goodjob_enqueue('app.defined')),
  $$values ('elephants', 7, 4, array['heavy'])$$,
  'null options take the task definition''s queue, priority, max_attempts and labels');
select results_eq(
  format($$select queue, priority, max_attempts, labels from goodjob_jobs where id = %L$$,
         goodjob_enqueue('app.defined', queue => 'mice', priority => -1, max_attempts => 1,
                         labels => array['light'])),
  $$values ('mice', -1, 1, array['light'])$$,
  'explicit options override the task definition');
select is((goodjob_test.job(goodjob_enqueue('app.defined', labels => '{}'))).labels, '{}'::text[],
          'an explicit empty label list overrides the task definition''s labels');
select goodjob_define_task('app.partly', priority => 3);
select results_eq(
  format($$select queue, priority, max_attempts, labels from goodjob_jobs where id = %L$$,
         goodjob_enqueue('app.partly')),
  $$values ('default', 3, 25, '{}'::text[])$$,
  'what the definition leaves null falls back to the global defaults');

-- Idempotent id -------------------------------------------------------------------

select is(goodjob_enqueue('app.other', args => '[99]', queue => 'other', id => :'full'), :'full'::uuid,
          'enqueueing an existing id returns that id');
select results_eq(
  format($$select task, args, queue, priority, max_attempts from goodjob_jobs where id = %L$$, :'full'),
  $$values ('app.full', '[1, "two", {"three": 3}]'::jsonb, 'mice', -10, 3)$$,
  'the existing job is left unchanged');
select is((select count(*)::int from goodjob_jobs where id = :'full'), 1, 'no second row was written');
select ok(not exists (select 1 from goodjob_queues where name = 'other'),
          'the ignored duplicate did not register its queue');

-- Lengths at the limits are accepted ----------------------------------------------

select lives_ok(format('select goodjob_enqueue(%L, queue => %L, labels => array[%L])',
                       repeat('t', 255), repeat('q', 128), repeat('l', 128)),
                'a 255-character task, a 128-character queue and a 128-character label are accepted');
select lives_ok($$select goodjob_enqueue('app.chars', queue => 'a-b_c.d/e@f')$$,
                'a queue may contain -, _, ., / and @ when it does not start with -');

-- Validation: task -------------------------------------------------------------------

select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select throws_ok($$select goodjob_enqueue('')$$, 'GJ001',
                 'invalid task name '''': must be 1 to 255 characters', 'an empty task name is refused');
select throws_ok(format('select goodjob_enqueue(%L)', repeat('t', 256)), 'GJ001',
                 format('invalid task name %L: must be 1 to 255 characters', repeat('t', 256)),
                 'a 256-character task name is refused');
select throws_ok($$select goodjob_enqueue(null)$$, 'GJ001',
                 'invalid task name null: must be 1 to 255 characters', 'a null task name is refused');
select is(goodjob_test.error_field($$select goodjob_enqueue('')$$, 'hint'),
          'Pass the registered task name, e.g. ''app.tasks.send_email''.',
          'the task name error carries a hint');

-- Validation: args and kwargs ----------------------------------------------------

select throws_ok($$select goodjob_enqueue('app.bad', args => '{"a": 1}')$$, 'GJ002',
                 'invalid args {"a": 1}: must be a JSON array', 'args that are an object are refused');
select throws_ok($$select goodjob_enqueue('app.bad', args => '"x"')$$, 'GJ002',
                 'invalid args "x": must be a JSON array', 'args that are a string are refused');
select throws_ok($$select goodjob_enqueue('app.bad', args => null)$$, 'GJ002',
                 'invalid args null: must be a JSON array', 'null args are refused');
select throws_ok($$select goodjob_enqueue('app.bad', kwargs => '[1]')$$, 'GJ003',
                 'invalid kwargs [1]: must be a JSON object', 'kwargs that are an array are refused');
select throws_ok($$select goodjob_enqueue('app.bad', kwargs => '3')$$, 'GJ003',
                 'invalid kwargs 3: must be a JSON object', 'kwargs that are a number are refused');
select throws_ok($$select goodjob_enqueue('app.bad', kwargs => null)$$, 'GJ003',
                 'invalid kwargs null: must be a JSON object', 'null kwargs are refused');
select throws_ok(format('select goodjob_enqueue(%L, args => %L)', 'app.bad', '{"k": "' || repeat('x', 100) || '"}'),
                 'GJ002', format('invalid args %s: must be a JSON array', left('{"k": "' || repeat('x', 100) || '"}', 80)),
                 'the args error quotes at most 80 characters of the value');

-- Validation: queue --------------------------------------------------------------

select throws_ok(format('select goodjob_enqueue(%L, queue => %L)', 'app.bad', q), 'GJ004',
                 format('invalid queue name %L', q), format('a queue name with %s is refused', why))
from (values ('', 'no characters'), (repeat('q', 129), '129 characters'), ('a,b', 'a comma'),
             ('a;b', 'a semicolon'), ('a:b', 'a colon'), ('a*', 'an asterisk'), ('a+b', 'a plus'),
             ('a b', 'a space'), (E'a\tb', 'a tab'), (E'a\nb', 'a newline'), ('-a', 'a leading -'),
             ('*', 'only *')) as v(q, why);
select is(goodjob_test.error_field($$select goodjob_enqueue('app.bad', queue => '')$$, 'detail'),
          'A queue name is 1 to 128 characters without spaces or any of , ; : * + and does not start with -.',
          'the queue name error explains the rule in its detail');

-- Validation: max_attempts and labels ---------------------------------------------

select throws_ok($$select goodjob_enqueue('app.bad', max_attempts => 0)$$, 'GJ005',
                 'invalid max_attempts 0: must be at least 1', 'max_attempts 0 is refused');
select throws_ok($$select goodjob_enqueue('app.bad', max_attempts => -3)$$, 'GJ005',
                 'invalid max_attempts -3: must be at least 1', 'a negative max_attempts is refused');
select throws_ok($$select goodjob_enqueue('app.bad', labels => array['ok', ''])$$, 'GJ006',
                 'invalid label '''': must be 1 to 128 characters', 'an empty label is refused');
select throws_ok($$select goodjob_enqueue('app.bad', labels => array['ok', null])$$, 'GJ006',
                 'invalid label null: must be 1 to 128 characters', 'a null label is refused');
select throws_ok(format('select goodjob_enqueue(%L, labels => array[%L])', 'app.bad', repeat('l', 129)), 'GJ006',
                 format('invalid label %L: must be 1 to 128 characters', repeat('l', 129)),
                 'a 129-character label is refused');

select is(goodjob_test.snapshot(), :'before', 'no refused call wrote a job or registered a queue');

select * from finish();
rollback;
