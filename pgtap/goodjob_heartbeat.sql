-- goodjob_heartbeat: touches heartbeat_at (and state, when given); false
-- once the process row is gone (deregistered or rescued as dead).
begin;
select plan(9);
\ir helpers/goodjob_test.psql

select goodjob_register_process('h', 1, '*', '{"busy": 0}') as p \gset
update goodjob_processes set heartbeat_at = now() - interval '1 hour' where id = :'p';

select is(goodjob_heartbeat(:'p'), true, 'a registered process''s heartbeat returns true');
select results_eq(format($$select heartbeat_at, state from goodjob_processes where id = %L$$, :'p'),
                  $$values (now(), '{"busy": 0}'::jsonb)$$,
                  'heartbeat_at is now and, without a state, the state is kept');
select is(goodjob_heartbeat(:'p', '{"busy": 3}'), true, 'a heartbeat with a state returns true');
select is((select state from goodjob_processes where id = :'p'), '{"busy": 3}'::jsonb, 'the given state replaces the old one');

select is(goodjob_heartbeat('00000000-0000-0000-0000-000000000404'), false, 'an unknown process''s heartbeat returns false');
select is(goodjob_heartbeat(null), false, 'a null process''s heartbeat returns false');
select is((select count(*)::int from goodjob_processes where id = '00000000-0000-0000-0000-000000000404'), 0,
          'a heartbeat never creates a process row');

select goodjob_test.dead_process() as dead \gset
select goodjob_rescue_dead_processes();
select is(goodjob_heartbeat(:'dead'), false, 'after a rescue removed it as dead, the heartbeat returns false');
select goodjob_deregister_process(:'p');
select is(goodjob_heartbeat(:'p'), false, 'after deregistering, the heartbeat returns false');

select * from finish();
rollback;
