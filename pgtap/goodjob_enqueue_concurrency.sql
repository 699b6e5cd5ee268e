-- goodjob_enqueue with concurrency limits: the default key, total_limit,
-- enqueue_limit and enqueue_throttle refuse with NULL and write nothing, an
-- existing id stays idempotent, the key lock, and GJ021 for a bad key.
begin;
select plan(23);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as pid \gset

-- Keys ------------------------------------------------------------------------------

select goodjob_enqueue('app.free') as free \gset
select is((goodjob_test.job(:'free')).concurrency_key, null, 'a job of a task without limits has no key');
select goodjob_enqueue('app.free', concurrency_key => 'k-free') as free_keyed \gset
select is((goodjob_test.job(:'free_keyed')).concurrency_key, 'k-free',
          'a task without limits keeps the key it is given, and no limit applies');

select goodjob_define_task(name => 'app.total', queue => 'totq');
select goodjob_define_concurrency(task => 'app.total', total_limit => 2);
select goodjob_enqueue('app.total') as t1 \gset
select is((goodjob_test.job(:'t1')).concurrency_key, 'app.total',
          'a job of a limited task enqueued without a key is keyed by the task name');
select ok(exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.pid = pg_backend_pid()
                  and l.classid = (goodjob__lock_class() + 1)::oid and l.objid::int = hashtext('app.total') and l.granted),
          'the enqueue holds the key''s enqueue lock (goodjob__lock_class() + 1, hashtext(key)) until commit');

-- total_limit ----------------------------------------------------------------------

select goodjob_enqueue('app.total', run_at => now() + interval '1 hour') as t2 \gset
select goodjob_test.snapshot() as before \gset
select is(goodjob_enqueue('app.total'), null, 'the third unfinished job of a key with total_limit 2 is refused: null');
select is(goodjob_test.snapshot(), :'before', 'a refused enqueue writes nothing');
select isnt(goodjob_enqueue('app.total', concurrency_key => 'other'), null,
            'another key of the same task has its own limit');

select goodjob_fetch_and_lock(:'pid', 'totq', 1) is not null as claimed \gset
select is((goodjob_test.job(:'t1')).state, 'running', 'the first job is now running');
select is(goodjob_enqueue('app.total'), null, 'running jobs count toward total_limit');
select goodjob_succeed_job(:'t1', :'pid', 1);
select isnt(goodjob_enqueue('app.total'), null, 'a finished job frees its place under total_limit');
select is(goodjob_enqueue('app.total'), null, 'and the key is full again');

select is(goodjob_enqueue('app.total', id => :'t2'), :'t2'::uuid,
          'enqueueing an existing id over the limit returns that id (idempotent), not null');
select is(goodjob_enqueue('app.total', id => '00000000-0000-0000-0000-00000000e001'), null,
          'a new id over the limit is refused');
select ok(not exists (select 1 from goodjob_jobs where id = '00000000-0000-0000-0000-00000000e001'),
          'and not written');

-- enqueue_limit -----------------------------------------------------------------------

select goodjob_define_concurrency(task => 'app.waiting', enqueue_limit => 1);
select goodjob_enqueue('app.waiting', queue => 'waitq') as w1 \gset
select is(goodjob_enqueue('app.waiting', queue => 'waitq'), null,
          'with enqueue_limit 1 a second waiting job is refused');
select goodjob_fetch_and_lock(:'pid', 'waitq', 1) is not null as claimed \gset
select isnt(goodjob_enqueue('app.waiting', queue => 'waitq'), null,
            'a running job does not count toward enqueue_limit: one may wait behind it');
select is(goodjob_enqueue('app.waiting', queue => 'waitq', run_at => now() + interval '1 day'), null,
          'scheduled jobs count as waiting');

-- enqueue_throttle ---------------------------------------------------------------------

select goodjob_define_task(name => 'app.throttled', queue => 'throttleq');
select goodjob_define_concurrency(task => 'app.throttled', enqueue_throttle_limit => 2,
                                  enqueue_throttle_period => '1 minute');
select goodjob_enqueue('app.throttled') as e1 \gset
select goodjob_enqueue('app.throttled') as e2 \gset
select goodjob_succeed_job(f.id, :'pid', 1) from goodjob_fetch_and_lock(:'pid', 'throttleq', 10) f;
select is(goodjob_enqueue('app.throttled'), null,
          'a third job within the period is refused, though the first two already finished');
update goodjob_jobs set created_at = now() - interval '61 seconds' where id = :'e1';
select isnt(goodjob_enqueue('app.throttled'), null,
            'once the first job was enqueued longer ago than the period, one more is allowed');
select is(goodjob_enqueue('app.throttled'), null, 'and then the window is full again');

-- Bad keys ------------------------------------------------------------------------------

select goodjob_test.snapshot() as before \gset
select throws_ok($$select goodjob_enqueue('app.free', concurrency_key => '')$$, 'GJ021',
  $$invalid concurrency_key '': must be 1 to 255 characters$$, 'an empty concurrency key is GJ021');
select throws_ok(format('select goodjob_enqueue(%L, concurrency_key => %L)', 'app.total', repeat('k', 256)), 'GJ021',
  format('invalid concurrency_key %L: must be 1 to 255 characters', repeat('k', 256)),
  'a key over 255 characters is GJ021');
select is(goodjob_test.snapshot(), :'before', 'the refused calls wrote nothing');

select * from finish();
rollback;
