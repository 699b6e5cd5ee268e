-- goodjob_register_process: a new process row and its lease (a session
-- advisory lock held by the calling session), re-taking the lease of a
-- registered process whose lease is free (a reconnect), and GJ009 when the
-- lease is held by another session (simulated with dblink).
begin;
select plan(19);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

select goodjob_register_process('host-a', 100, 'mice,elephants', '{"threads": 5}') as p \gset
select results_eq(
  format($$select hostname, pid, queues, state, started_at, heartbeat_at from goodjob_processes where id = %L$$, :'p'),
  $$values ('host-a', 100, 'mice,elephants', '{"threads": 5}'::jsonb, now(), now())$$,
  'registration stores hostname, pid, queues and state, started and heartbeat now');
select ok(goodjob_test.holds_lease(goodjob_test.lease_key(:'p')), 'this session holds the new process''s lease');

select goodjob_register_process('host-b', 101, '*') as p2 \gset
select is((select state from goodjob_processes where id = :'p2'), '{}'::jsonb, 'state defaults to {}');
select isnt(goodjob_test.lease_key(:'p2'), goodjob_test.lease_key(:'p'), 'each process has its own lease key');
select ok(goodjob_test.holds_lease(goodjob_test.lease_key(:'p2')), 'and both leases are held');
select goodjob_register_process('h', 1, '*', null) as p3 \gset
select is((select state from goodjob_processes where id = :'p3'), '{}'::jsonb, 'a null state is stored as {}');
select is(goodjob_register_process('h', 1, '*', id => '00000000-0000-0000-0000-0000000000a1'),
          '00000000-0000-0000-0000-0000000000a1'::uuid, 'a given new id is used');

-- Reconnect: the id of a registered process whose lease is free -------------------------

select goodjob_test.dead_process('00000000-0000-0000-0000-0000000000d1') as dead \gset
update goodjob_processes set heartbeat_at = now() - interval '1 hour', started_at = now() - interval '2 hours'
 where id = :'dead';
select goodjob_test.lease_key(:'dead') as dead_lease \gset
select goodjob_test.running_job(:'dead') as dead_job \gset
select ok(not goodjob_test.holds_lease(:dead_lease), 'the dead process''s lease is free');

select is(goodjob_register_process('host-c', 200, 'mice', '{"v": 2}', id => :'dead'), :'dead'::uuid,
          're-registering a process whose lease is free returns its id');
select results_eq(
  format($$select hostname, pid, queues, state, lease_key, started_at, heartbeat_at from goodjob_processes where id = %L$$, :'dead'),
  format($$values ('host-c', 200, 'mice', '{"v": 2}'::jsonb, %s, now() - interval '2 hours', now())$$, :dead_lease),
  'it updates hostname, pid, queues, state and heartbeat, keeps its lease key and start time');
select ok(goodjob_test.holds_lease(:dead_lease), 'and this session now holds that lease');
select results_eq(format($$select state, locked_by from goodjob_jobs where id = %L$$, :'dead_job'),
                  format($$values ('running', %L::uuid)$$, :'dead'),
                  'its running jobs stay its own');

-- Registering again on the session that already holds the lease -------------------------

select goodjob_test.process() as again \gset
select goodjob_test.lease_key(:'again') as again_lease \gset
select is(goodjob_register_process('host-d', 300, '*', id => :'again'), :'again'::uuid,
          're-registering on the session that holds the lease returns the id');
select goodjob_deregister_process(:'again');
select ok(not goodjob_test.holds_lease(:again_lease),
          'one deregister then releases the lease (registering again did not stack the lock)');

-- GJ009: the lease is held by another session --------------------------------------------

select goodjob_test.dead_process('00000000-0000-0000-0000-0000000000e1') as elsewhere \gset
select goodjob_test.hold_lease_elsewhere('holder', goodjob_test.lease_key(:'elsewhere'));
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select throws_ok(format('select goodjob_register_process(%L, 1, %L, id => %L)', 'h', '*', :'elsewhere'), 'GJ009',
                 format('process %s is alive in another session', :'elsewhere'),
                 'the id of a process alive in another session is refused');
select ok(not goodjob_test.holds_lease(goodjob_test.lease_key(:'elsewhere')), 'this session did not get that lease');

select nextval('goodjob_processes_lease_key_seq') + 1 as next_key \gset
select goodjob_test.hold_lease_elsewhere('squatter', :next_key);
select throws_ok(format('select goodjob_register_process(%L, 1, %L, id => %L)', 'h', '*', '00000000-0000-0000-0000-0000000000f1'),
                 'GJ009', format('lease key %s is already held', :next_key),
                 'a new process whose lease key is held elsewhere (after the sequence wrapped) is refused');
select is(goodjob_test.snapshot(), :'before', 'refused registrations wrote nothing');

select goodjob_test.disconnect('holder');
select is(goodjob_register_process('h', 1, '*', id => :'elsewhere'), :'elsewhere'::uuid,
          'once the other session ends, the process can be registered again');
select goodjob_test.disconnect('squatter');

select * from finish();
rollback;
