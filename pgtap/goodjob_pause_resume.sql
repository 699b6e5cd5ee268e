-- goodjob_pause and goodjob_resume: pause a queue, a task and/or a label
-- (fetch skips their ready jobs; enqueue and running jobs carry on), resume
-- them, and refuse a call without a target or with a bad name.
begin;
select plan(25);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

select goodjob_test.running_job(:'p', queue => 'mice') as running \gset
select goodjob_pause(queue => 'mice');
select results_eq($$select kind, name, paused_at from goodjob_pauses$$, $$values ('queue', 'mice', now())$$,
                  'pausing a queue records it');
select lives_ok($$select goodjob_pause(queue => 'mice')$$, 'pausing it again is fine');
select is((select count(*)::int from goodjob_pauses), 1, 'and records it once');
select goodjob_pause(queue => 'elephants', task => 'app.slow', label => 'heavy');
select set_eq($$select kind, name from goodjob_pauses$$,
              $$values ('queue', 'mice'), ('queue', 'elephants'), ('task', 'app.slow'), ('label', 'heavy')$$,
              'one call can pause a queue, a task and a label');
select goodjob_pause(task => 'mice');
select is((select count(*)::int from goodjob_pauses where name = 'mice'), 2, 'a task may share a name with a paused queue');

-- Effects
select ok((select paused from goodjob_queue_stats where queue = 'mice'), 'goodjob_queue_stats shows the queue paused');
select lives_ok($$select goodjob_enqueue('app.x', queue => 'mice')$$, 'enqueueing into a paused queue still works');
select is((select state from goodjob_jobs where queue = 'mice' and id <> :'running'), 'queued',
          'the job waits as queued');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'mice', 10)$$, :'p'),
                'fetch skips the paused queue');
select is(goodjob_succeed_job(:'running', :'p', 1), true, 'a job that was already running still reports its result');

-- resume
select goodjob_resume(queue => 'mice');
select set_eq($$select kind, name from goodjob_pauses$$,
              $$values ('queue', 'elephants'), ('task', 'app.slow'), ('label', 'heavy'), ('task', 'mice')$$,
              'resuming a queue removes only that queue''s pause, not a task of the same name');
select is((select count(*)::int from goodjob_fetch_and_lock(:'p', 'mice', 10)), 1, 'the resumed queue is fetched again');
select ok(not (select paused from goodjob_queue_stats where queue = 'mice'), 'goodjob_queue_stats shows it not paused');
select goodjob_resume(task => 'app.slow', label => 'heavy');
select set_eq($$select kind, name from goodjob_pauses$$, $$values ('queue', 'elephants'), ('task', 'mice')$$,
              'one call can resume a task and a label');
select lives_ok($$select goodjob_resume(queue => 'never-paused', task => 'nope', label => 'none')$$,
                'resuming what is not paused is fine');
select is((select count(*)::int from goodjob_pauses), 2, 'and changes nothing');

-- Errors: nothing is paused
select (select string_agg(kind || ':' || name, ',' order by kind, name) from goodjob_pauses) as before \gset
select throws_ok($$select goodjob_pause()$$, 'GJ013', 'nothing to pause: pass queue, task or label',
                 'pause without a target is refused');
select throws_ok($$select goodjob_pause(null, null, null)$$, 'GJ013', 'nothing to pause: pass queue, task or label',
                 'pause with only nulls is refused');
select throws_ok($$select goodjob_resume()$$, 'GJ013', 'nothing to resume: pass queue, task or label',
                 'resume without a target is refused');
select throws_ok($$select goodjob_pause(queue => '')$$, 'GJ004', 'invalid queue name ''''', 'an empty queue name is refused');
select throws_ok($$select goodjob_pause(queue => 'a,b')$$, 'GJ004', 'invalid queue name ''a,b''',
                 'a queue list is not a queue name');
select throws_ok($$select goodjob_pause(task => '')$$, 'GJ001', 'invalid task name '''': must be 1 to 255 characters',
                 'an empty task name is refused');
select throws_ok($$select goodjob_pause(label => '')$$, 'GJ006', 'invalid label '''': must be 1 to 128 characters',
                 'an empty label is refused');
select throws_ok($$select goodjob_pause(queue => 'fine', task => 'fine', label => '')$$, 'GJ006',
                 'invalid label '''': must be 1 to 128 characters', 'one bad target refuses the whole call');
select is((select string_agg(kind || ':' || name, ',' order by kind, name) from goodjob_pauses), :'before',
          'refused calls paused nothing');

select * from finish();
rollback;
