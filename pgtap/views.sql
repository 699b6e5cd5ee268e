-- The psql views: goodjob_queue_stats (per-queue counts, latency, paused),
-- goodjob_running_jobs (running jobs with their process) and
-- goodjob_process_status (processes, heartbeat age, whether their lease is
-- held, running job count).
begin;
select plan(11);
\ir helpers/goodjob_test.psql
create extension if not exists dblink;

create function pg_temp.columns(rel regclass) returns text[]
language sql as $$
  select array_agg(a.attname::text order by a.attnum) from pg_attribute a where a.attrelid = rel and a.attnum > 0;
$$;

select is(pg_temp.columns('goodjob_queue_stats'),
          array['queue', 'scheduled', 'queued', 'running', 'retrying', 'discarded', 'succeeded_last_hour',
                'oldest_ready_age', 'paused'],
          'goodjob_queue_stats has its documented columns');
select is(pg_temp.columns('goodjob_running_jobs'),
          array['id', 'task', 'queue', 'priority', 'attempts', 'max_attempts', 'started_at', 'running_for',
                'process_id', 'hostname', 'pid'],
          'goodjob_running_jobs has its documented columns');
select is(pg_temp.columns('goodjob_process_status'),
          array['id', 'hostname', 'pid', 'queues', 'started_at', 'heartbeat_at', 'heartbeat_age', 'alive',
                'running_jobs', 'state'],
          'goodjob_process_status has its documented columns');

-- One queue with a job in every state -------------------------------------------------------

select goodjob_test.process() as p \gset
select goodjob_test.running_job(:'p', queue => 'vq', as_of => now() - interval '5 minutes') as running \gset
select goodjob_test.job_in_state('retrying', :'p', queue => 'vq');
select goodjob_test.job_in_state('discarded', :'p', queue => 'vq');
select goodjob_test.job_in_state('succeeded', :'p', queue => 'vq');
select goodjob_test.running_job(:'p', queue => 'vq') as old_success \gset
select goodjob_report_results(:'p', goodjob_test.result(:'old_success', 1, 'succeeded'), now() - interval '2 hours');
select goodjob_enqueue('app.x', queue => 'vq', run_at => now() + interval '1 hour');
select goodjob_enqueue('app.x', queue => 'vq', run_at => now() - interval '10 minutes');
select goodjob_enqueue('app.x', queue => 'vq', run_at => now() - interval '5 minutes');
select goodjob_pause(queue => 'vq');
insert into goodjob_queues (name) values ('idle');

select results_eq(
  $$select queue, scheduled, queued, running, retrying, discarded, succeeded_last_hour, oldest_ready_age, paused
    from goodjob_queue_stats order by queue$$,
  $$values ('idle', 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, null::interval, false),
           ('vq', 1, 2, 1, 1, 1, 1, interval '10 minutes', true)$$,
  'goodjob_queue_stats counts scheduled, ready, running, retrying (scheduled after a failure), discarded and recent successes, the oldest ready job''s age, and shows pauses; a known queue without jobs shows zeros');

-- Running jobs and processes ------------------------------------------------------------------

select goodjob_test.dead_process() as dead \gset
select goodjob_test.running_job(:'dead', 'app.dead') as dead_job \gset
select goodjob_test.dead_process() as vanished \gset
select goodjob_test.running_job(:'vanished', 'app.orphan') as orphan \gset
delete from goodjob_processes where id = :'vanished';
select goodjob_test.dead_process() as elsewhere \gset
select goodjob_test.hold_lease_elsewhere('holder', goodjob_test.lease_key(:'elsewhere'));
update goodjob_processes set heartbeat_at = now() - interval '30 seconds', state = '{"threads": 2}' where id = :'p';

select results_eq(
  format($$select id, task, queue, priority, attempts, max_attempts, started_at, running_for, process_id, hostname, pid
           from goodjob_running_jobs where id = %L$$, :'running'),
  format($$values (%L::uuid, 'pgtap.task', 'vq', 0, 1, 25, now() - interval '5 minutes', interval '5 minutes',
                   %L::uuid, 'pgtap-host', 4242)$$, :'running', :'p'),
  'goodjob_running_jobs shows a running job with how long it has run and its process''s host and pid');
select results_eq(
  format($$select process_id, hostname, pid from goodjob_running_jobs where id = %L$$, :'orphan'),
  format($$values (%L::uuid, null::text, null::int)$$, :'vanished'),
  'a running job whose process row is gone is still listed, without host and pid');
select set_eq($$select task from goodjob_running_jobs$$, array['pgtap.task', 'app.dead', 'app.orphan'],
              'goodjob_running_jobs lists running jobs only');

select results_eq(
  format($$select hostname, pid, queues, started_at, heartbeat_at, heartbeat_age, alive, running_jobs, state
           from goodjob_process_status where id = %L$$, :'p'),
  $$values ('pgtap-host', 4242, '*', now(), now() - interval '30 seconds', interval '30 seconds', true, 1::bigint,
            '{"threads": 2}'::jsonb)$$,
  'goodjob_process_status shows a live process with its heartbeat age and running job count');
select results_eq(
  format($$select alive, running_jobs from goodjob_process_status where id = %L$$, :'dead'),
  $$values (false, 1::bigint)$$, 'a process whose lease is free is shown as not alive');
select results_eq(
  format($$select alive, running_jobs from goodjob_process_status where id = %L$$, :'elsewhere'),
  $$values (true, 0::bigint)$$, 'a process whose lease another session holds is alive');
select goodjob_test.disconnect('holder');
select is((select alive from goodjob_process_status where id = :'elsewhere'), false,
          'and is shown as not alive once that session ends');

select * from finish();
rollback;
