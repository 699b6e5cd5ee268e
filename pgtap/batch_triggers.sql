-- The batch triggers: results (report, rescue, operator discard and retry)
-- keep a batch's counts; the result that finishes an armed batch enqueues
-- its callbacks in the same transaction, once; batch members are kept
-- whatever the preservation policy; batch-less jobs are not touched.
begin;
select plan(17);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.fresh_queue() as q \gset
-- the batch's callback jobs, by event name
create function pg_temp.callbacks(batch uuid) returns text language sql as $$
  select coalesce(string_agg(j.task || ':' || (j.args -> 1 ->> 'event'), ',' order by j.args -> 1 ->> 'event', j.task), '')
  from goodjob_jobs j where j.batch_callback_id = batch $$;
create function pg_temp.counts(batch uuid) returns text language sql as $$
  select format('%s/%s/%s', jobs, succeeded, discarded) from goodjob_batches where id = batch $$;
-- claim every ready job of the queue and report the given outcome for each, in id order
create function pg_temp.run_all(p uuid, q text, outcomes text[]) returns void language sql as $$
  with f as (select id, attempts from goodjob_fetch_and_lock(p, q, 1000) order by id)
  select from goodjob_report(p, (select array_agg(id order by id) from f), (select array_agg(attempts order by id) from f), outcomes) $$;

update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_create_batch(on_finish => 'cb.fin', on_success => 'cb.ok', on_discard => 'cb.dis') as b \gset
select count(*) from goodjob_add_batch_jobs(:'b', (select jsonb_agg(jsonb_build_object('task', 'w', 'queue', :'q')) from generate_series(1, 3)));
select goodjob_enqueue('plain', queue => :'q') as plain \gset
select goodjob_enqueue_batch(:'b');
select pg_temp.run_all(:'p', :'q', array['succeeded', 'succeeded', 'succeeded', 'succeeded']);
select is(pg_temp.counts(:'b'), '3/3/0', 'a report counts each succeeded member');
select is(pg_temp.callbacks(:'b'), 'cb.fin:finish,cb.ok:success', 'the last result enqueues on_success and on_finish');
select is((select count(*) from goodjob_jobs where batch_id = :'b' and state = 'succeeded'), 3::bigint,
          'members are kept with preservation "never" (their batch counts them)');
select is(goodjob_test.job(:'plain'), null, 'a job outside a batch is still deleted with "never"');
update goodjob_settings set value = '"always"' where key = 'preserve_job_records';

-- A failed attempt that will be retried changes nothing; a discard fires on_discard once.
select goodjob_create_batch(on_finish => 'cb.fin', on_success => 'cb.ok', on_discard => 'cb.dis') as b \gset
select goodjob_test.fresh_queue() as q \gset
select count(*) from goodjob_add_batch_jobs(:'b', (select jsonb_agg(jsonb_build_object('task', 'w', 'queue', :'q', 'max_attempts', 2)) from generate_series(1, 3)));
select goodjob_enqueue_batch(:'b');
select pg_temp.run_all(:'p', :'q', array['failed', 'discarded', 'succeeded']);
select is(pg_temp.counts(:'b'), '3/1/1', 'a failure with attempts left is not counted; a discard and a success are');
select is(pg_temp.callbacks(:'b'), 'cb.dis:discard', 'the first discard enqueues on_discard');
select ok((select discarded_at = now() and finished_at is null from goodjob_batches where id = :'b'),
          'discarded_at is set, the batch is not finished');
update goodjob_jobs set run_at = now() where batch_id = :'b' and state = 'scheduled';
select pg_temp.run_all(:'p', :'q', array['discarded']);
select is(pg_temp.callbacks(:'b'), 'cb.dis:discard,cb.fin:finish', 'the last discard finishes: on_finish, no second on_discard, no on_success');

-- Operator retry of a discarded member takes it out of the count; rescue discards count.
select id as d from goodjob_jobs where batch_id = :'b' and state = 'discarded' order by id limit 1 \gset
select goodjob_retry_job(:'d');
select is(pg_temp.counts(:'b'), '3/1/1', 'retrying a discarded member uncounts it');
select goodjob_create_batch(on_finish => 'cb.fin') as b2 \gset
select goodjob_test.fresh_queue() as q2 \gset
select goodjob_enqueue('w', queue => :'q2', batch_id => :'b2', max_attempts => 1) as r \gset
select goodjob_enqueue_batch(:'b2');
select goodjob_test.dead_process() as dead \gset
select count(*) from goodjob_fetch_and_lock(:'p', :'q2', 1);
update goodjob_jobs set locked_by = :'dead' where id = :'r';
select is(goodjob_rescue_dead_processes(), 1, 'the member of a dead process is rescued');
select results_eq(format($$select %L, %L, (select state from goodjob_jobs where id = %L)$$, pg_temp.counts(:'b2'), pg_temp.callbacks(:'b2'), :'r'),
                  $$values ('1/0/1', 'cb.fin:finish', 'discarded')$$,
                  'a rescue that discards a member out of attempts counts it and finishes the batch');

-- Adding to a finished batch does not re-arm it; enqueueing again does.
select goodjob_enqueue('w', queue => :'q2', batch_id => :'b2') as late \gset
select pg_temp.run_all(:'p', :'q2', array['succeeded']);
select is(pg_temp.callbacks(:'b2'), 'cb.fin:finish', 'a job added to a finished batch fires nothing');
select goodjob_enqueue_batch(:'b2');
select is(pg_temp.callbacks(:'b2'), 'cb.fin:finish,cb.fin:finish', 'enqueueing it again fires at once (nothing pending)');

-- A callback whose task's enqueue limit is full is enqueued all the same
-- (0014): it fires once and nothing would fire it again. It carries the
-- task's key, so perform limits still apply to it.
select goodjob_define_concurrency('cb.limited', total_limit => 1, perform_limit => 1);
select goodjob_test.fresh_queue() as q3 \gset
select goodjob_test.fresh_queue() as qh \gset
select goodjob_enqueue('cb.limited', queue => :'qh') as holder \gset
select is(goodjob_enqueue('cb.limited'), null, 'the callback task''s total_limit is full');
select goodjob_create_batch(on_finish => 'cb.limited', callback_queue => :'q3', callback_priority => 7) as b3 \gset
select goodjob_enqueue('w', queue => :'q3', batch_id => :'b3');
select goodjob_enqueue_batch(:'b3');
select pg_temp.run_all(:'p', :'q3', array['succeeded']);
select results_eq(format($$select task, queue, priority, state, concurrency_key, args -> 1 ->> 'event'
                            from goodjob_jobs where batch_callback_id = %L$$, :'b3'),
                  format($$values ('cb.limited', %L, 7, 'queued', 'cb.limited', 'finish')$$, :'q3'),
                  'the finish callback is enqueued past the full total_limit, keyed by its task');
select count(*) from goodjob_fetch_and_lock(:'p', :'qh', 1);  -- the holder runs
select is((select count(*)::int from goodjob_fetch_and_lock(:'p', :'q3', 10)), 0,
          'perform_limit 1 still holds the callback back while the other cb.limited job runs');

-- Jobs outside batches.
select is((select count(*) from goodjob_batches where jobs <> succeeded + discarded + (select count(*) from goodjob_jobs j where j.batch_id = goodjob_batches.id and j.state not in ('succeeded', 'discarded'))),
          0::bigint, 'every batch''s counts match its rows');

select * from finish();
rollback;
