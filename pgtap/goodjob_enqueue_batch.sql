-- goodjob_enqueue_batch: arms a batch (merges properties, sets enqueued_at,
-- clears finished_at); an empty or already finished batch fires at once, a
-- discard before arming fires on_discard at arming; re-arming fires again.
begin;
select plan(12);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
-- the batch's callback jobs, by event name
create function pg_temp.callbacks(batch uuid) returns text language sql as $$
  select coalesce(string_agg(j.task || ':' || (j.args -> 1 ->> 'event') || ':' || j.queue || ':' || j.priority, ',' order by j.args -> 1 ->> 'event', j.task), '')
  from goodjob_jobs j where j.batch_callback_id = batch $$;

-- An empty batch fires at once.
select goodjob_create_batch(properties => '{"a": 1}', on_finish => 'cb.fin', on_success => 'cb.ok',
                            on_discard => 'cb.dis', callback_queue => 'cbq', callback_priority => 5) as b \gset
select is(goodjob_enqueue_batch(:'b', properties => '{"b": 2}'), :'b'::uuid, 'enqueueing returns the id');
select results_eq(format($$select properties, enqueued_at, finished_at from goodjob_batches where id = %L$$, :'b'),
                  $$values ('{"a": 1, "b": 2}'::jsonb, now(), now())$$,
                  'properties are merged; an empty batch is enqueued and finished at once');
select is(pg_temp.callbacks(:'b'), 'cb.fin:finish:cbq:5,cb.ok:success:cbq:5',
          'an empty batch enqueues on_success and on_finish on the callback queue and priority');
select results_eq(format($$select args, kwargs, state from goodjob_jobs where batch_callback_id = %L and task = 'cb.fin'$$, :'b'),
                  format($$values (jsonb_build_array(%L::uuid, '{"event": "finish"}'::jsonb), '{}'::jsonb, 'queued')$$, :'b'),
                  'a callback job is task(batch_id, {"event": ...}), ready to run');
select is(goodjob_batch_status.state, 'succeeded', 'the view shows the empty batch succeeded')
  from goodjob_batch_status where id = :'b';

-- Re-arming a finished batch with nothing pending fires again.
select goodjob_enqueue_batch(:'b');
select is(pg_temp.callbacks(:'b'), 'cb.fin:finish:cbq:5,cb.fin:finish:cbq:5,cb.ok:success:cbq:5,cb.ok:success:cbq:5',
          're-enqueueing a finished batch fires its finish callbacks again');

-- A pending job holds the callbacks until its result.
select goodjob_create_batch(on_finish => 'cb.fin', on_discard => 'cb.dis') as b \gset
select goodjob_test.fresh_queue() as q \gset
select goodjob_enqueue('w', queue => :'q', batch_id => :'b') as j \gset
select goodjob_enqueue_batch(:'b');
select results_eq(format($$select enqueued_at, finished_at, %L from goodjob_batches where id = %L$$, pg_temp.callbacks(:'b'), :'b'),
                  $$values (now(), null::timestamptz, '')$$, 'with a pending job the armed batch waits');

-- A discard before arming: on_discard fires when the batch is enqueued.
select goodjob_create_batch(on_finish => 'cb.fin', on_discard => 'cb.dis', on_success => 'cb.ok') as b \gset
select goodjob_enqueue('w', queue => :'q', batch_id => :'b') as j1 \gset
select goodjob_enqueue('w', queue => :'q', batch_id => :'b') as j2 \gset
select goodjob_discard_job(:'j1');
select is(pg_temp.callbacks(:'b'), '', 'nothing fires before the batch is enqueued');
select goodjob_enqueue_batch(:'b');
select is(pg_temp.callbacks(:'b'), 'cb.dis:discard:default:0', 'arming after a discard fires on_discard at once');
select goodjob_discard_job(:'j2');
select is(pg_temp.callbacks(:'b'), 'cb.dis:discard:default:0,cb.fin:finish:default:0',
          'the last discard fires on_finish only: no second on_discard, no on_success');

select throws_ok($$select goodjob_enqueue_batch('00000000-0000-0000-0000-000000000002')$$, 'GJ030',
                 'batch 00000000-0000-0000-0000-000000000002 not found', 'an unknown batch is refused');
select throws_ok(format($$select goodjob_enqueue_batch(%L, properties => '[]')$$, :'b'), 'GJ031',
                 'invalid batch properties []: must be a JSON object', 'properties must be an object');

select * from finish();
rollback;
