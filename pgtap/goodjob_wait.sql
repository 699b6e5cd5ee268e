-- goodjob_wait / goodjob_unwait: the rows of goodjob_waiting_pools that
-- turn enqueue notifications on. Waiting and unwaiting are idempotent, per
-- (process, pool); an unknown process (GJ009) or a null pool (GJ013) is
-- refused. The wake-up gate, advisory lock (goodjob__lock_class(), -1): an enqueue
-- holds it shared until commit (when free), goodjob_wait tries to take it
-- exclusively; nobody ever waits for it. goodjob_wait returns true and
-- records its row when it got the gate, false (recording nothing) while
-- another session's enqueue is in flight; an enqueue while a pool is
-- starting to wait goes on at once (shown with other sessions, through
-- dblink). Deregistering a process deletes its rows; a rescue deletes the
-- rows of processes that are gone.
-- Whether enqueues notify is in notify.sql (NOTIFY needs commits).
begin;
select plan(43);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

-- The gate modes this session holds, and the sessions waiting for the gate
-- (none ever should).
create function pg_temp.gate_modes() returns text[]
language sql as $$
  select coalesce(array_agg(l.mode::text order by l.mode), '{}') from pg_locks l
  where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted
    and l.classid = goodjob__lock_class() and l.objid = 4294967295 and l.objsubid = 2;
$$;
create function pg_temp.gate_waiters() returns int[]
language sql as $$
  select coalesce(array_agg(l.pid order by l.pid), '{}') from pg_locks l
  where l.locktype = 'advisory' and not l.granted
    and l.classid = goodjob__lock_class() and l.objid = 4294967295 and l.objsubid = 2;
$$;

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset

-- The wake-up gate -------------------------------------------------------------------------

-- Two more sessions: 'peer', a worker with a committed process of its own
-- (this transaction's processes are invisible to it), and 'enqueuer'.
-- Neither may wait for a lock: a statement that would fails after 2 s
-- instead of hanging the test.
select goodjob_test.connect('peer');
select goodjob_test.connect('enqueuer');
select dblink_exec('peer', 'set lock_timeout = ''2s''') as lock_timeout \gset
select dblink_exec('enqueuer', 'set lock_timeout = ''2s''') as lock_timeout \gset
select t.id as peer from dblink('peer', $$select goodjob_register_process('pgtap-peer', 1, '*')$$) as t(id uuid) \gset
select 'tapw' || substr(md5(random()::text), 1, 8) as peer_queue \gset

select is(pg_temp.gate_modes(), '{}'::text[], 'before anything, this session does not hold the gate');

-- An enqueue in flight in another session: goodjob_wait gives up at once.
select dblink_exec('enqueuer', 'begin') as begun \gset
select t.id as in_flight from dblink('enqueuer', format('select goodjob_enqueue(%L, queue => %L)',
                                                         'pgtap.task', :'peer_queue' || '-e')) as t(id uuid) \gset
select is((select t.ok from dblink('peer', format('select goodjob_wait(%L)', :'peer')) as t(ok boolean)), false,
          'goodjob_wait returns false at once while another session''s enqueue is in flight (not committed)');
select is((select t.n from dblink('peer', 'select count(*) from goodjob_waiting_pools') as t(n bigint)), 0::bigint,
          'and records nothing');
select is(pg_temp.gate_waiters(), '{}'::int[], 'nobody waits for the gate (no lock convoy can form)');
select lives_ok(format($$select * from dblink('peer', %L) as t(id uuid)$$,
                       format('select goodjob_enqueue(%L, queue => %L)', 'pgtap.task', :'peer_queue' || '-b')),
                'an unrelated enqueue meanwhile does not wait either');
select dblink_exec('enqueuer', 'commit') as committed \gset
select is((select t.ok from dblink('peer', format('select goodjob_wait(%L)', :'peer')) as t(ok boolean)), true,
          'once that enqueue committed, goodjob_wait returns true');
select results_eq($$select * from dblink('peer', 'select process_id, pool from goodjob_waiting_pools')
                      as t(process_id uuid, pool int)$$,
                  format($$values (%L::uuid, 0)$$, :'peer'),
                  'and records its pool as waiting');
select t.x as unwaited from dblink('peer', format('select goodjob_unwait(%L)', :'peer')) as t(x text) \gset

-- This session's own enqueue in flight.
select goodjob_enqueue('pgtap.task');
select is(pg_temp.gate_modes(), array['ShareLock'], 'an enqueue takes the gate shared, until its transaction ends');
select is((select t.ok from dblink('peer', format('select goodjob_wait(%L)', :'peer')) as t(ok boolean)), false,
          'another session''s goodjob_wait returns false while it is in flight');

-- A pool starting to wait: this session, between goodjob_wait and commit.
select is(goodjob_wait(:'p'), true, 'goodjob_wait returns true here: this session''s own enqueue does not conflict');
select is(pg_temp.gate_modes(), array['ExclusiveLock', 'ShareLock'],
          'goodjob_wait takes the gate exclusively, until its transaction ends');
select lives_ok(format($$select * from dblink('peer', %L) as t(id uuid)$$,
                       format('select goodjob_enqueue(%L, queue => %L)', 'pgtap.task', :'peer_queue')),
                'another session''s enqueue while a pool starts waiting does not wait for the gate');
select is((select t.n from dblink('peer', format('select count(*) from goodjob_jobs where queue = %L', :'peer_queue'))
             as t(n bigint)), 1::bigint,
          'and commits its job (notifying, since the gate was busy: notify.sql)');

select lives_ok(format('select goodjob_enqueue(%L)', 'pgtap.task'),
                'this session enqueues on while it holds the gate exclusively (its own locks do not conflict)');
select dblink_exec('peer', format($sql$
  delete from goodjob_jobs where queue like %1$L;
  delete from goodjob_queues where name like %1$L$sql$, :'peer_queue' || '%')) as cleanup \gset
select t.n as peer_jobs from dblink('peer', format('select goodjob_deregister_process(%L)', :'peer')) as t(n int) \gset
select goodjob_test.disconnect('enqueuer');
select goodjob_test.disconnect('peer');

-- Start again from an empty queue (the gate stays held until the rollback).
select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset

-- goodjob_wait / goodjob_unwait ------------------------------------------------------------

select is_empty('select * from goodjob_waiting_pools', 'at first no pool waits');
select is(goodjob_wait(:'p'), true, 'goodjob_wait returns true when nothing is in flight');
select results_eq('select process_id, pool, since from goodjob_waiting_pools',
                  format($$values (%L::uuid, 0, now())$$, :'p'),
                  'goodjob_wait records the process''s pool 0 (the default), waiting since now');
update goodjob_waiting_pools set since = now() - interval '1 minute';
select is(goodjob_wait(:'p', 0), true, 'waiting again is accepted (true)');
select results_eq('select process_id, pool, since from goodjob_waiting_pools',
                  format($$values (%L::uuid, 0, now() - interval '1 minute')$$, :'p'),
                  'waiting again changes nothing: one row, its since kept');

select goodjob_wait(:'p', 1);
select goodjob_wait(:'other', 0);
select goodjob_wait(:'other', -3);
select results_eq('select process_id, pool from goodjob_waiting_pools order by process_id, pool',
                  format($$select * from (values (%L::uuid, 0), (%L, 1), (%L, -3), (%L, 0)) as v(id, pool)
                           order by id, pool$$, :'p', :'p', :'other', :'other'),
                  'each pool of each process waits on its own (any pool number)');

select goodjob_unwait(:'p', 1);
select results_eq('select process_id, pool from goodjob_waiting_pools order by process_id, pool',
                  format($$select * from (values (%L::uuid, 0), (%L, -3), (%L, 0)) as v(id, pool)
                           order by id, pool$$, :'p', :'other', :'other'),
                  'goodjob_unwait deletes that pool''s row only');
select lives_ok(format('select goodjob_unwait(%L, 1)', :'p'), 'unwaiting a pool that does not wait is accepted');
select goodjob_unwait(:'p');
select results_eq('select process_id, pool from goodjob_waiting_pools order by process_id, pool',
                  format($$select * from (values (%L::uuid, -3), (%L, 0)) as v(id, pool) order by id, pool$$,
                         :'other', :'other'),
                  'goodjob_unwait without a pool unwaits pool 0');
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select lives_ok(format('select goodjob_unwait(%L, 0)', '00000000-0000-0000-0000-00000000dead'),
                'unwaiting for an unknown process is accepted');
select lives_ok('select goodjob_unwait(null, null)', 'unwaiting with nulls is accepted');
select is(goodjob_test.snapshot(), :'before', 'and changes nothing');

-- Errors: nothing changes -------------------------------------------------------------------

select throws_ok(format('select goodjob_wait(%L)', '00000000-0000-0000-0000-00000000dead'),
                 'GJ009', 'unknown process 00000000-0000-0000-0000-00000000dead',
                 'an unregistered process cannot wait');
select throws_ok('select goodjob_wait(null)', 'GJ009', 'unknown process null', 'a null process cannot wait');
select is(goodjob_test.error_field('select goodjob_wait(null)', 'hint'),
          'Call goodjob_register_process first (or again, after a rescue).',
          'the unknown process error says what to do');
select throws_ok(format('select goodjob_wait(%L, null)', :'p'), 'GJ013', 'invalid pool null: pass the pool number',
                 'a null pool is refused');
select throws_ok('select goodjob_wait(null, null)', 'GJ013', 'invalid pool null: pass the pool number',
                 'the pool is checked before the process');
select is(goodjob_test.snapshot(), :'before', 'refused waits recorded nothing');

-- Deregistering a process deletes its rows ------------------------------------------------

select goodjob_wait(:'p', 0);
select goodjob_wait(:'p', 1);
select goodjob_deregister_process(:'p');
select results_eq('select process_id, pool from goodjob_waiting_pools order by process_id, pool',
                  format($$select * from (values (%L::uuid, -3), (%L, 0)) as v(id, pool) order by id, pool$$,
                         :'other', :'other'),
                  'deregistering a process deletes the rows of all its pools, and only its');
select throws_ok(format('select goodjob_wait(%L)', :'p'), 'GJ009', format('unknown process %s', :'p'),
                 'a deregistered process cannot wait');

-- A rescue deletes the rows of processes that are gone --------------------------------------

select goodjob_test.dead_process() as dead \gset
select goodjob_wait(:'dead', 0);
select goodjob_wait(:'dead', 2);
insert into goodjob_waiting_pools (process_id, pool) values ('00000000-0000-0000-0000-0000000000ff', 0);
select is(goodjob_rescue_dead_processes(), 0, 'a rescue of a dead process without jobs rescues no job');
select results_eq('select process_id, pool from goodjob_waiting_pools order by process_id, pool',
                  format($$select * from (values (%L::uuid, -3), (%L, 0)) as v(id, pool) order by id, pool$$,
                         :'other', :'other'),
                  'but deletes the rows of the dead process and of a process never registered; a live one''s stay');
select throws_ok(format('select goodjob_wait(%L)', :'dead'), 'GJ009', format('unknown process %s', :'dead'),
                 'a rescued process cannot wait until it registers again');

insert into goodjob_waiting_pools (process_id, pool) values ('00000000-0000-0000-0000-0000000000ff', 0);
select is(goodjob_rescue_dead_processes(), 0, 'a rescue with no dead process at all returns 0');
select is((select count(*)::int from goodjob_waiting_pools where process_id = '00000000-0000-0000-0000-0000000000ff'),
          0, 'and still deletes the rows of processes that do not exist');

select goodjob_test.dead_process() as dead \gset
select goodjob_test.running_job(:'dead') as dead_job \gset
select goodjob_wait(:'dead');
select is(goodjob_rescue_dead_processes(), 1, 'a dead process with a running job: its job is rescued');
select is((select count(*)::int from goodjob_waiting_pools where process_id = :'dead'), 0,
          'and its waiting row is deleted in the same call');
select set_eq('select process_id from goodjob_waiting_pools', array[:'other']::uuid[],
              'the live process still waits');

-- A process that registers again (same id) waits again.
select goodjob_register_process('pgtap-host', 4242, '*', id => :'dead');
select lives_ok(format('select goodjob_wait(%L)', :'dead'), 'a rescued process that registers again can wait again');

select * from finish();
rollback;
