-- goodjob_fetch_and_lock with perform limits: a job whose key is at its
-- perform_limit or perform_throttle is passed over, keeps its state,
-- attempts and place, and is claimed first once a slot frees; one fetch
-- never claims more of a key than its free slots; jobs without keys are
-- claimed around blocked ones; the key locks the claim takes.
begin;
select plan(21);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as pid \gset

-- No perform limits anywhere: the plain claim, no key locks ------------------------

select goodjob_enqueue('app.free', queue => 'q', concurrency_key => 'a') as pre \gset
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), array[:'pre'::uuid],
          'without perform limits defined, a keyed job is claimed like any other');
select ok(not exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.pid = pg_backend_pid()
                      and l.classid = (goodjob__lock_class() + 2)::oid),
          'and the fetch takes no key lock');
select goodjob_succeed_job(:'pre', :'pid', 1);

-- perform_limit 1 ------------------------------------------------------------------------

select goodjob_define_task(name => 'app.serial', queue => 'q');
select goodjob_define_concurrency(task => 'app.serial', perform_limit => 1);
-- Distinct run_at values give the jobs a known order (ids made in one
-- millisecond are not ordered).
select goodjob_enqueue('app.serial', concurrency_key => 'a', run_at => now() - interval '10 s') as s1 \gset
select goodjob_enqueue('app.serial', concurrency_key => 'a', run_at => now() - interval '9 s') as s2 \gset
select goodjob_enqueue('app.free', queue => 'q', run_at => now() - interval '8 s') as f1 \gset
select goodjob_enqueue('app.serial', concurrency_key => 'b', run_at => now() - interval '7 s') as s3 \gset

select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), array[:'s1', :'f1', :'s3']::uuid[],
          'one fetch claims the first job of key a, the free job and key b''s job, but not a second a');
select results_eq(format('select state, attempts, started_at from goodjob_jobs where id = %L', :'s2'),
                  $$values ('queued', 0, null::timestamptz)$$,
                  'the job passed over stays queued, with no attempt used and no start');
select ok(exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.pid = pg_backend_pid()
                  and l.classid = (goodjob__lock_class() + 2)::oid and l.objid::int = hashtext('a') and l.granted),
          'the claim held the key''s fetch lock (goodjob__lock_class() + 2, hashtext(key)) until commit');
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), '{}'::uuid[],
          'while a''s job runs, fetching again claims nothing');

select goodjob_enqueue('app.free', queue => 'q', run_at => now() - interval '6 s') as f2 \gset
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), array[:'f2'::uuid],
          'a later job without a key is claimed past the blocked one');

select goodjob_enqueue('app.serial', concurrency_key => 'a', run_at => now() - interval '5 s') as s4 \gset
select goodjob_succeed_job(:'s1', :'pid', 1);
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), array[:'s2'::uuid],
          'when a''s job finishes, the job that waited is claimed, before the one enqueued after it');
select is((goodjob_test.job(:'s2')).attempts, 1, 'its first attempt is attempt 1');
select is((goodjob_test.job(:'s4')).state, 'queued', 'the later job of a still waits');

select goodjob_succeed_job(:'s2', :'pid', 1);
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'q', 10)), array[:'s4'::uuid],
          'and it is claimed when that one finishes');

-- A batch cut short by a key's cap is filled from the jobs behind -----------------------

select goodjob_define_task(name => 'app.head', queue => 'headq');
select goodjob_define_concurrency(task => 'app.head', perform_limit => 1);
select goodjob_enqueue('app.head', concurrency_key => 'h', run_at => now() - interval '3 s') as h1 \gset
select goodjob_enqueue('app.head', concurrency_key => 'h', run_at => now() - interval '2 s') as h2 \gset
select goodjob_enqueue('app.free', queue => 'headq', run_at => now() - interval '1 s') as hf \gset
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'headq', 2)), array[:'h1', :'hf']::uuid[],
          'a fetch of 2 whose first two jobs share a full key claims the next job too, not just one');

-- perform_limit 2 within one batch -------------------------------------------------------

select goodjob_define_task(name => 'app.pair', queue => 'pairs');
select goodjob_define_concurrency(task => 'app.pair', perform_limit => 2);
select goodjob_enqueue('app.pair', concurrency_key => 'p') from generate_series(1, 5);
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'pairs', 10)), 2,
          'with perform_limit 2 one fetch of 10 claims two jobs of the key');
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'pairs', 10)), 0,
          'and a second fetch none');
select is((select count(*)::int from goodjob_jobs where concurrency_key = 'p' and state = 'queued' and attempts = 0), 3,
          'the other three wait untouched');

-- perform_throttle over a pinned window --------------------------------------------------

select goodjob_define_task(name => 'app.throttled', queue => 'tq');
select goodjob_define_concurrency(task => 'app.throttled', perform_throttle_limit => 2,
                                  perform_throttle_period => '1 minute');
select goodjob_enqueue('app.throttled', concurrency_key => 't') from generate_series(1, 3);
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'tq', 10, now())), 2,
          'perform_throttle 2 per minute: two of three jobs start now');
select goodjob_succeed_job(j.id, :'pid', 1) from goodjob_jobs j where j.concurrency_key = 't' and j.state = 'running';
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'tq', 10, now() + interval '30 seconds')), 0,
          'thirty seconds later the third still waits, although nothing runs');
select is((select count(*)::int from goodjob_jobs where concurrency_key = 't' and state = 'queued' and attempts = 0), 1,
          'the throttled job waits queued, with no attempt used');
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'tq', 10, now() + interval '61 seconds')), 1,
          'once the first starts are older than the period, the third starts');

-- Keys of tasks without limits, and jobs of limited tasks without keys -------------------

select goodjob_enqueue('app.free', queue => 'mixed', concurrency_key => 'p') as shared \gset
select is(array(select id from goodjob_fetch_and_lock(:'pid', 'mixed', 10)), array[:'shared'::uuid],
          'a job of a task without perform limits is claimed even when its key is another task''s full key');
update goodjob_jobs set concurrency_key = null where concurrency_key = 'p' and state = 'queued';
select is((select count(*)::int from goodjob_fetch_and_lock(:'pid', 'pairs', 10)), 3,
          'jobs of a limited task that have no key (enqueued before the limit) are not limited');

select * from finish();
rollback;
