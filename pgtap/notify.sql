-- NOTIFY on goodjob__channel(). Notifications are sent at commit, which a
-- pgTAP transaction never reaches, so the jobs here are written by a second
-- session ('sender', through dblink, autocommit) while a third ('listener')
-- LISTENs. After each step the sender sends a sentinel notification; the
-- listener's notifications before it are that step's (NOTIFY delivers in
-- commit order). The listener is also the worker that waits: it registers a
-- process and calls goodjob_wait / goodjob_unwait, as a worker pool does
-- around its LISTEN. Everything the two sessions write uses queue names and
-- process ids unique to this run and is deleted at the end.
--
-- Covered: enqueues notify only while some pool waits (none at first, none
-- again after goodjob_unwait; one waiting pool of any process is enough);
-- the statement-level insert trigger (one notification per queue per
-- statement; {"queue"} when ready jobs arrived, {"queue", "run_at"} with the
-- earliest run time when only future ones did; identical payloads folded
-- within a transaction); no notification on claims, results or pauses; and
-- the operator functions, which notify whether or not a pool waits:
-- goodjob_resume, goodjob_retry_job, goodjob_reschedule_job, and the
-- requeued jobs of goodjob_deregister_process and
-- goodjob_rescue_dead_processes. Where the insert trigger cannot tell
-- safely that no pool waits, it notifies anyway: while a pool is starting
-- to wait (another session holds the wake-up gate, its row not yet
-- committed), and at REPEATABLE READ (its snapshot may predate a pool's
-- goodjob_wait); neither makes the enqueue wait.
begin;
select plan(29);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

select 'tapn' || substr(md5(random()::text), 1, 8) as px \gset
select gen_random_uuid() as proc \gset
select gen_random_uuid() as waiter \gset
select gen_random_uuid() as dead \gset
select goodjob_test.connect('listener');
select goodjob_test.connect('sender');
select dblink_exec('listener', format('listen %I', goodjob__channel())) as listening \gset
select dblink_exec('sender', 'set timezone = ''UTC''') as utc \gset
select t.id as waiter from dblink('listener', format($$select goodjob_register_process('pgtap-waiter', 1, '*', id => %L)$$,
                                                     :'waiter')) as t(id uuid) \gset

-- Run sql in the sender (its own transaction, or the transactions it
-- spells out; its last statement returns one column or none), then return
-- the payloads the listener received for it, in order.
create function pg_temp.sent(sql text) returns setof jsonb
language plpgsql as $$
declare
  v_sentinel text := 'sentinel-' || md5(random()::text);
  v_payloads text[] := '{}';
  v_payload text;
begin
  -- dblink, not dblink_exec: the statement may return rows (of one column).
  perform * from dblink('sender', sql) as t(result text);
  perform dblink_exec('sender', format('notify %I, %L', goodjob__channel(), v_sentinel));
  for i in 1..1000 loop
    for v_payload in select n.extra from dblink_get_notify('listener') as n where n.notify_name = goodjob__channel() loop
      if v_payload = v_sentinel then
        return query select p::jsonb from unnest(v_payloads) as p;
        return;
      end if;
      v_payloads := v_payloads || v_payload;
    end loop;
    perform pg_sleep(0.01);
  end loop;
  raise exception 'pg_temp.sent: no sentinel after 10 s (payloads so far: %)', v_payloads;
end
$$;

-- Run sql in the listener (the waiting worker), autocommit.
create function pg_temp.in_listener(sql text) returns void
language plpgsql as $$
begin
  perform * from dblink('listener', sql) as t(result text);
end
$$;

-- No pool waits: enqueues send nothing -----------------------------------------------------------

select is((select t.n from dblink('sender', 'select count(*) from goodjob_waiting_pools') as t(n bigint)), 0::bigint,
          'at first no pool waits');
select is_empty(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_enqueue(%L, queue => %L)', 't', :'px' || '-n')),
  'while no pool waits, goodjob_enqueue of a ready job sends nothing');
select is_empty(
  format($$select * from pg_temp.sent(format('select goodjob_enqueue_many(%%L)', %L::jsonb))$$,
         jsonb_build_array(jsonb_build_object('task', 't', 'queue', :'px' || '-n'),
                           jsonb_build_object('task', 't', 'queue', :'px' || '-m', 'run_at', '2999-01-01T01:00:00Z'))),
  'nor does goodjob_enqueue_many of ready and future jobs');
select is((select t.n from dblink('sender', format('select count(*) from goodjob_queues where name in (%L, %L)',
                                                    :'px' || '-n', :'px' || '-m')) as t(n bigint)),
          2::bigint, 'the trigger still records the new queue names');

-- A pool waits: the insert trigger notifies --------------------------------------------------

select pg_temp.in_listener(format('select goodjob_wait(%L)', :'waiter'));
select results_eq(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_enqueue(%L, queue => %L)', 't', :'px' || '-n')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-n')),
  'once a pool waits (goodjob_wait committed), goodjob_enqueue notifies');

select bag_eq(
  format($$select * from pg_temp.sent(format('select goodjob_enqueue_many(%%L)', %L::jsonb))$$,
         jsonb_build_array(
           jsonb_build_object('task', 't', 'queue', :'px' || '-a'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-a'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-a'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-b', 'run_at', '2999-01-01T02:00:00Z'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-b', 'run_at', '2999-01-01T01:00:00Z'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-c', 'run_at', '2999-01-01T01:00:00Z'),
           jsonb_build_object('task', 't', 'queue', :'px' || '-c'))),
  format($$values (%L::jsonb), (%L), (%L)$$,
         jsonb_build_object('queue', :'px' || '-a'),
         jsonb_build_object('queue', :'px' || '-b', 'run_at', '2999-01-01T01:00:00+00:00'),
         jsonb_build_object('queue', :'px' || '-c')),
  'a bulk insert sends one notification per queue: {"queue"} where ready jobs arrived, else {"queue", "run_at"} with the earliest run time');

select results_eq(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_enqueue(%L, queue => %L)', 't', :'px' || '-d')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-d')),
  'goodjob_enqueue of a ready job sends {"queue": q}');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('begin; select goodjob_enqueue(%L, queue => %L); select goodjob_enqueue(%L, queue => %L); commit',
                't', :'px' || '-d', 't', :'px' || '-d')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-d')),
  'two enqueues into one queue in one transaction send one notification (identical payloads are folded)');
select is_empty(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_enqueue(%L, queue => %L, id => (select id from goodjob_jobs where queue = %L limit 1))',
                't', :'px' || '-z', :'px' || '-d')),
  'an enqueue of an existing id writes nothing and sends nothing');

-- Waiting is per pool: another pool of the process waits too, and one of
-- the two stopping leaves the other waiting.
select pg_temp.in_listener(format('select goodjob_wait(%L, 1)', :'waiter'));
select pg_temp.in_listener(format('select goodjob_unwait(%L, 0)', :'waiter'));
select results_eq(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_enqueue(%L, queue => %L)', 't', :'px' || '-e')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-e')),
  'while any pool still waits (pool 1 after pool 0 unwaited), enqueues notify');

-- Claims, results and pauses are silent -----------------------------------------------------------

select is_empty(
  format($$select * from pg_temp.sent(%L)$$, format($sql$
    select goodjob_register_process('pgtap-notify', 1, '*', id => %L);
    do $do$
    declare
      r goodjob_jobs;
      n int := 0;
    begin
      for r in select * from goodjob_fetch_and_lock(%L, %L, 10) loop
        n := n + 1;
        if n = 1 then
          perform goodjob_succeed_job(r.id, r.locked_by, r.attempts);
        elsif n = 2 then
          perform goodjob_fail_job(r.id, r.locked_by, r.attempts, 'E', 'retry later');
        else
          perform goodjob_fail_job(r.id, r.locked_by, r.attempts, 'E', 'give up', discard => true);
        end if;
      end loop;
      if n <> 3 then raise exception 'claimed %% jobs, expected 3', n; end if;
    end
    $do$$sql$, :'proc', :'proc', :'px' || '-d')),
  'claiming jobs, reporting success, failure with retry and discard send nothing');
select is_empty(format($$select * from pg_temp.sent(%L)$$, format('select goodjob_pause(queue => %L)', :'px' || '-d')),
                'pausing a queue sends nothing');

-- The last pool stops waiting: enqueues are silent again -----------------------------------------

select pg_temp.in_listener(format('select goodjob_unwait(%L, 1)', :'waiter'));
select is((select t.n from dblink('sender', 'select count(*) from goodjob_waiting_pools') as t(n bigint)), 0::bigint,
          'after goodjob_unwait of its last waiting pool no pool waits');
select is_empty(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_enqueue(%L, queue => %L)', 't', :'px' || '-e')),
  'after goodjob_unwait, goodjob_enqueue sends nothing again');
select is_empty(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_enqueue(%L, queue => %L, run_at => %L)', 't', :'px' || '-e', '2999-01-01T00:00:00Z')),
  'nor does an enqueue of a future job');

-- A pool starting to wait: another session ('pool') has called
-- goodjob_wait and not committed yet, so its row is invisible to the
-- sender, but it holds the wake-up gate exclusively. The pool's catch-up
-- fetch may already have run, so the enqueue must notify; it cannot take
-- the gate shared and does not wait for it (lock_timeout would end it).
select goodjob_test.connect('pool');
select dblink_exec('pool', 'begin') as pool_begun \gset
select t.ok as pool_waits from dblink('pool', format('select goodjob_wait(%L, 7)', :'waiter')) as t(ok boolean) \gset
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('set lock_timeout = %L; select goodjob_enqueue(%L, queue => %L); reset lock_timeout',
                '2s', 't', :'px' || '-w')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-w')),
  'an enqueue while a pool is starting to wait (gate taken, its row uncommitted) notifies at once');
select dblink_exec('pool', 'rollback') as pool_rolled_back \gset
select goodjob_test.disconnect('pool');

-- An enqueue in a REPEATABLE READ (or SERIALIZABLE) transaction whose
-- snapshot was taken before a pool's goodjob_wait committed cannot see
-- that pool, although the pool's catch-up fetch ran before the enqueue
-- committed: it notifies whether or not a pool waits.
select dblink_exec('sender', 'begin isolation level repeatable read') as rr \gset
select t.n as snapshot_taken from dblink('sender', 'select count(*) from goodjob_jobs') as t(n bigint) \gset
select pg_temp.in_listener(format('select goodjob_wait(%L)', :'waiter'));
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_enqueue(%L, queue => %L); commit', 't', :'px' || '-r')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-r')),
  'an enqueue in a REPEATABLE READ transaction begun before the pool waited notifies');
select pg_temp.in_listener(format('select goodjob_unwait(%L)', :'waiter'));
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('begin isolation level repeatable read; select goodjob_enqueue(%L, queue => %L); commit',
                't', :'px' || '-r')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-r')),
  'a REPEATABLE READ enqueue notifies even while no pool waits (its snapshot cannot tell)');

-- Operator functions notify whether or not a pool waits (none does now) -------------------------

select results_eq(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_resume(queue => %L)', :'px' || '-d')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-d')),
  'resuming a paused queue sends {"queue": q}');
select is_empty(format($$select * from pg_temp.sent(%L)$$, format('select goodjob_resume(queue => %L)', :'px' || '-d')),
                'resuming a queue that is not paused sends nothing');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_retry_job(id) from goodjob_jobs where queue = %L and state = %L', :'px' || '-d', 'discarded')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-d')),
  'goodjob_retry_job sends {"queue": q}');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_reschedule_job(id, %L) from goodjob_jobs where queue = %L and run_at = %L',
                '2999-06-01T00:00:00Z', :'px' || '-b', '2999-01-01T01:00:00Z')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-b', 'run_at', '2999-06-01T00:00:00+00:00')),
  'goodjob_reschedule_job to a future time sends {"queue": q, "run_at": t}');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_reschedule_job(id, now()) from goodjob_jobs where queue = %L and run_at = %L',
                :'px' || '-b', '2999-06-01T00:00:00Z')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-b')),
  'goodjob_reschedule_job to now sends {"queue": q}');
select is_empty(
  format($$select * from pg_temp.sent(%L)$$,
         format('select goodjob_discard_job(id) from goodjob_jobs where queue = %L and state = %L', :'px' || '-a', 'queued')),
  'goodjob_discard_job sends nothing');

-- A process leaving with a running job -------------------------------------------------------------

select is_empty(
  format($$select * from pg_temp.sent(%L)$$, format(
    'begin; select goodjob_enqueue(%L, queue => %L); commit; select id from goodjob_fetch_and_lock(%L, %L)',
    't', :'px' || '-g', :'proc', :'px' || '-g')),
  'a job is enqueued and claimed (nothing: no pool waits, and claims are silent)');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$, format('select goodjob_deregister_process(%L)', :'proc')),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-g')),
  'deregistering the process requeues its running job and sends {"queue": q}');

-- A dead process's running job, rescued ------------------------------------------------------------

select is_empty(
  format($$select * from pg_temp.sent(%L)$$, format($sql$
    insert into goodjob_processes (id, hostname, pid, queues) values (%1$L, 'pgtap-dead', 1, '*');
    select goodjob_enqueue('t', queue => %2$L);
    select id from goodjob_fetch_and_lock(%1$L, %2$L)$sql$, :'dead', :'px' || '-h')),
  'a process that never held its lease claims a job (nothing)');
select results_eq(
  format($$select * from pg_temp.sent(%L)$$, 'select goodjob_rescue_dead_processes()'),
  format($$values (%L::jsonb)$$, jsonb_build_object('queue', :'px' || '-h')),
  'the rescue requeues the dead process''s job and sends {"queue": q}');

-- Clean up what the sender committed -------------------------------------------------------------

select dblink_exec('sender', format($sql$
  delete from goodjob_processes where id in (%2$L, %3$L, %4$L);
  delete from goodjob_waiting_pools where process_id in (%2$L, %3$L, %4$L);
  delete from goodjob_executions where job_id in (select id from goodjob_jobs where queue like %1$L);
  delete from goodjob_jobs where queue like %1$L;
  delete from goodjob_queues where name like %1$L;
  delete from goodjob_pauses where name like %1$L$sql$, :'px' || '-%', :'proc', :'waiter', :'dead')) as cleanup \gset
select is((select t.n from dblink('sender', format('select count(*) from goodjob_jobs where queue like %L', :'px' || '-%'))
             as t(n bigint)), 0::bigint,
          'the sender''s jobs were cleaned up');
select goodjob_test.disconnect('listener');
select goodjob_test.disconnect('sender');

select * from finish();
rollback;
