-- goodjob_create_batch: a new open batch with its callbacks and options;
-- an existing id returns that batch unchanged; bad properties, callback
-- names and queues are refused with GJ031 and write nothing.
begin;
select plan(9);
\ir helpers/goodjob_test.psql

select goodjob_create_batch(description => 'nightly', properties => '{"user": 7}', on_finish => 'cb.finish',
                            on_success => 'cb.success', on_discard => 'cb.discard', callback_queue => 'cbq',
                            callback_priority => -3) as b \gset
select results_eq(
  format($$select description, properties, on_finish, on_success, on_discard, callback_queue, callback_priority,
                  jobs, succeeded, discarded, created_at, enqueued_at, discarded_at, finished_at
             from goodjob_batches where id = %L$$, :'b'),
  $$values ('nightly', '{"user": 7}'::jsonb, 'cb.finish', 'cb.success', 'cb.discard', 'cbq', -3, 0, 0, 0,
            now(), null::timestamptz, null::timestamptz, null::timestamptz)$$,
  'a batch is created open, with its callbacks, options and no jobs');
select is((select state from goodjob_batch_status where id = :'b'), 'open', 'a new batch is open in goodjob_batch_status');

select goodjob_create_batch() as e \gset
select results_eq(format($$select properties, on_finish from goodjob_batches where id = %L$$, :'e'),
                  $$values ('{}'::jsonb, null::text)$$, 'every argument is optional');

select is(goodjob_create_batch(id => :'b', description => 'other'), :'b'::uuid,
          'an existing id returns that batch');
select is((select description from goodjob_batches where id = :'b'), 'nightly', '... unchanged');

select goodjob_test.snapshot() || (select string_agg(b::text, ',' order by id) from goodjob_batches b) as before \gset
select throws_ok($$select goodjob_create_batch(properties => '[1]')$$, 'GJ031',
                 'invalid batch properties [1]: must be a JSON object', 'properties must be an object');
select throws_ok($$select goodjob_create_batch(on_discard => '')$$, 'GJ031',
                 'invalid batch on_discard '''': a task name is 1 to 255 characters', 'a callback must be a task name');
select throws_ok($$select goodjob_create_batch(callback_queue => 'a b')$$, 'GJ031',
                 'invalid batch callback_queue ''a b''', 'the callback queue must be a valid queue name');
select is(goodjob_test.snapshot() || (select string_agg(b::text, ',' order by id) from goodjob_batches b), :'before',
          'a refused call writes nothing');

select * from finish();
rollback;
