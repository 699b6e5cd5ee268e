-- goodjob_fetch_and_lock: what a claim stamps, the order of claims
-- (priority, then run_at, then id, across queues too), the queue selectors
-- *, a,b, +a,b and -a,b (* and -a,b walk the queues named in
-- goodjob_queues one by one and merge them), promotion of due scheduled
-- jobs at as_of, paused queues, tasks and labels, max_jobs bounds, and the
-- argument errors.
begin;
select plan(74);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

-- What a claim stamps ---------------------------------------------------------------------

select goodjob_enqueue('app.stamp', queue => 'stamp', max_attempts => 3) as stamp \gset
create temp table claimed as
select * from goodjob_fetch_and_lock(:'p', 'stamp', 1, now() + interval '5 seconds');

select results_eq($$select id, state, attempts, locked_by, started_at from claimed$$,
                  format($$values (%L::uuid, 'running', 1, %L::uuid, now() + interval '5 seconds')$$, :'stamp', :'p'),
                  'the claimed job is returned running, attempt 1, locked by the process, started at as_of');
select results_eq($$select * from claimed$$, format($$select * from goodjob_jobs where id = %L$$, :'stamp'),
                  'the returned row is the job row as stored');
select is_empty(format($$select * from goodjob_executions where job_id = %L$$, :'stamp'),
                'the claim writes no execution: the running attempt is the job row');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'stamp', 10)$$, :'p'),
                'a running job is not claimed again');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'nothing-here', 10)$$, :'p'),
                'an empty queue returns no rows');

-- Order: priority, then run_at, then id -------------------------------------------------

select goodjob_enqueue('app.o', queue => 'o', priority => 1, run_at => now() - interval '10 minutes',
                       id => '00000000-0000-0000-0000-000000000001');
select goodjob_enqueue('app.o', queue => 'o', priority => 0, run_at => now() - interval '5 minutes',
                       id => '00000000-0000-0000-0000-000000000002');
select goodjob_enqueue('app.o', queue => 'o', priority => 0, run_at => now() - interval '10 minutes',
                       id => '00000000-0000-0000-0000-000000000004');
select goodjob_enqueue('app.o', queue => 'o', priority => 0, run_at => now() - interval '10 minutes',
                       id => '00000000-0000-0000-0000-000000000003');
select goodjob_enqueue('app.o', queue => 'o', priority => -1, run_at => now(),
                       id => '00000000-0000-0000-0000-000000000005');

select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'o', 2)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-000000000005'::uuid), ('00000000-0000-0000-0000-000000000003')$$,
                  'the smallest priority comes first (even when newest), then the earliest run_at, then the smallest id');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'o', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-000000000004'::uuid), ('00000000-0000-0000-0000-000000000002'),
                           ('00000000-0000-0000-0000-000000000001')$$,
                  'the next claim continues in the same order and returns its rows in that order');

-- max_jobs -------------------------------------------------------------------------------

select goodjob_enqueue_many('[{"task": "app.m", "queue": "m"}, {"task": "app.m", "queue": "m"}, {"task": "app.m", "queue": "m"}]');
select is((select count(*)::int from goodjob_fetch_and_lock(:'p', 'm', 2)), 2, 'at most max_jobs jobs are claimed');
select is((select count(*)::int from goodjob_fetch_and_lock(:'p', 'm', 1000)), 1,
          'max_jobs 1000 is accepted and fewer jobs are returned when fewer are ready');
select is((select count(*)::int from goodjob_fetch_and_lock(:'p')), 0,
          'the defaults are queues * and max_jobs 1');

-- Selector * --------------------------------------------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => 'qa', priority => 0, id => '00000000-0000-0000-0000-00000000000a');
select goodjob_enqueue('app.s', queue => 'qb', priority => -1, id => '00000000-0000-0000-0000-00000000000b');
select goodjob_enqueue('app.s', queue => 'qc', priority => 1, id => '00000000-0000-0000-0000-00000000000c');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-00000000000b'::uuid), ('00000000-0000-0000-0000-00000000000a'),
                           ('00000000-0000-0000-0000-00000000000c')$$,
                  '* claims from every queue, in priority order across queues');

-- * walks each known queue's ready jobs and merges them: priority, then
-- run_at, then id decide across queues, and a batch may take several jobs
-- from one queue and none from another.
select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => q, priority => pr, run_at => now() - ago, id => i::uuid)
from (values ('qa', 0, interval '10 minutes', '00000000-0000-0000-0000-0000000000a1'),
             ('qa', 1, interval '20 minutes', '00000000-0000-0000-0000-0000000000a2'),
             ('qb', 0, interval '10 minutes', '00000000-0000-0000-0000-0000000000b0'),
             ('qc', 0, interval '30 minutes', '00000000-0000-0000-0000-0000000000c1'),
             ('qc', -1, interval '0 minutes', '00000000-0000-0000-0000-0000000000c2'),
             ('qd', 0, interval '10 minutes', '00000000-0000-0000-0000-000000000001')) as v(q, pr, ago, i);
select goodjob_enqueue('app.s', queue => 'qe', priority => -9, run_at => now() + interval '1 hour');
select results_eq(format($$select queue, id from goodjob_fetch_and_lock(%L, '*', 4)$$, :'p'),
                  $$values ('qc', '00000000-0000-0000-0000-0000000000c2'::uuid),
                           ('qc', '00000000-0000-0000-0000-0000000000c1'),
                           ('qd', '00000000-0000-0000-0000-000000000001'),
                           ('qa', '00000000-0000-0000-0000-0000000000a1')$$,
                  '* merges the queues: smallest priority, then earliest run_at, then smallest id, whatever the queue');
select results_eq(format($$select queue, id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('qb', '00000000-0000-0000-0000-0000000000b0'::uuid),
                           ('qa', '00000000-0000-0000-0000-0000000000a2')$$,
                  '* then claims the rest in the same order, and no job that is not due yet');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                '* claims nothing once every queue is empty or only scheduled');

-- * skips a paused queue before taking max_jobs: its better jobs neither
-- come back nor use up the batch.
select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => q, priority => pr, id => i::uuid)
from (values ('paused', -5, '00000000-0000-0000-0000-0000000000f1'),
             ('paused', -4, '00000000-0000-0000-0000-0000000000f2'),
             ('qa', 0, '00000000-0000-0000-0000-0000000000a1'),
             ('qb', 1, '00000000-0000-0000-0000-0000000000b1')) as v(q, pr, i);
select goodjob_pause(queue => 'paused');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 1)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000a1'::uuid)$$,
                  '* with a paused queue holding the best jobs claims the best job of the other queues');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000b1'::uuid)$$,
                  '* claims the rest, never from the paused queue');
select results_eq($$select id, state from goodjob_jobs where queue = 'paused' order by id$$,
                  $$values ('00000000-0000-0000-0000-0000000000f1'::uuid, 'queued'),
                           ('00000000-0000-0000-0000-0000000000f2', 'queued')$$,
                  'the paused queue''s jobs wait, ready');
select goodjob_resume(queue => 'paused');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000f1'::uuid), ('00000000-0000-0000-0000-0000000000f2')$$,
                  '* claims them once the queue is resumed');

-- Selector a,b -----------------------------------------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => 'qa', priority => 0, id => '00000000-0000-0000-0000-00000000000a');
select goodjob_enqueue('app.s', queue => 'qb', priority => -1, id => '00000000-0000-0000-0000-00000000000b');
select goodjob_enqueue('app.s', queue => 'qc', priority => -2, id => '00000000-0000-0000-0000-00000000000c');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'qa,qb', 1)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-00000000000b'::uuid)$$,
                  'a,b merges the listed queues by priority: the first job may come from the second queue');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, ' qa , qb,qa ', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-00000000000a'::uuid)$$,
                  'a,b tolerates spaces around names and repeated names');
select is((goodjob_test.job('00000000-0000-0000-0000-00000000000c')).state, 'queued',
          'a,b never claims from a queue not listed, whatever its priority');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'unknown-queue', 10)$$, :'p'),
                'a list naming only an unknown queue claims nothing');

-- Selector +a,b --------------------------------------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => 'qa', priority => 5, id => '00000000-0000-0000-0000-0000000000a1');
select goodjob_enqueue('app.s', queue => 'qa', priority => 6, id => '00000000-0000-0000-0000-0000000000a2');
select goodjob_enqueue('app.s', queue => 'qb', priority => -5, id => '00000000-0000-0000-0000-0000000000b1');
select goodjob_enqueue('app.s', queue => 'qb', priority => -4, id => '00000000-0000-0000-0000-0000000000b2');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '+qa,qb', 1)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000a1'::uuid)$$,
                  '+a,b claims from a while a has a ready job, even when b holds better priorities');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '+qa,qb', 2)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000a2'::uuid), ('00000000-0000-0000-0000-0000000000b1')$$,
                  '+a,b fills the batch from b only after a, and returns the rows in that claim order');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '+qa,qb', 5)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000b2'::uuid)$$,
                  '+a,b claims from b once a is empty');
select goodjob_enqueue('app.s', queue => 'qa', priority => 9, id => '00000000-0000-0000-0000-0000000000a3');
select goodjob_enqueue('app.s', queue => 'qb', priority => 0, id => '00000000-0000-0000-0000-0000000000b3');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '+qb,qa', 1)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000b3'::uuid)$$,
                  'the order of +b,a is b first');

-- Selector -a,b ----------------------------------------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.s', queue => q, priority => pr)
from (values ('qa', -9), ('qb', -8), ('qc', 1), ('qd', 0)) as v(q, pr);
select results_eq(format($$select queue from goodjob_fetch_and_lock(%L, '-qa,qb', 10)$$, :'p'),
                  $$values ('qd'), ('qc')$$,
                  '-a,b claims from every other queue, in priority order');
select results_eq($$select queue, state from goodjob_jobs where queue in ('qa', 'qb') order by queue$$,
                  $$values ('qa', 'queued'), ('qb', 'queued')$$,
                  '-a,b leaves the excluded queues alone');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, '-qa,qb,qc,qd', 10)$$, :'p'),
                '-a,b excluding every known queue claims nothing');

-- Promotion of due scheduled jobs at as_of ---------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.later', queue => 'qs', run_at => now() + interval '1 hour') as s1 \gset
select goodjob_enqueue('app.later', queue => 'qt', run_at => now() + interval '3 hours') as s2 \gset
select goodjob_enqueue('app.now', queue => 'qs', priority => 1) as now1 \gset

select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'qs', 10)$$, :'p'),
                  format($$values (%L::uuid)$$, :'now1'),
                  'a job scheduled in the future is not claimed before its run_at');
select is((goodjob_test.job(:'s1')).state, 'scheduled', 'and it stays scheduled');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'elsewhere', 10, now() + interval '2 hours')$$, :'p'),
                'a fetch from another queue at as_of + 2 hours claims nothing');
select results_eq(format($$select state, run_at from goodjob_jobs where id in (%L, %L) order by run_at$$, :'s1', :'s2'),
                  $$values ('queued', now() + interval '1 hour'), ('scheduled', now() + interval '3 hours')$$,
                  'but every scheduled job due at as_of was promoted to queued (keeping its run_at), and no other');
select results_eq(format($$select id, started_at from goodjob_fetch_and_lock(%L, 'qs', 10, now() + interval '2 hours')$$, :'p'),
                  format($$values (%L::uuid, now() + interval '2 hours')$$, :'s1'),
                  'the promoted job is then claimed, started at as_of');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'qt', 10, now() + interval '3 hours')$$, :'p'),
                  format($$values (%L::uuid)$$, :'s2'),
                  'a job whose run_at equals as_of is due');

-- One fetch promotes at most 1,000 due jobs, earliest first; the next fetch goes on.
select goodjob_test.reset();
select goodjob_test.process() as p \gset
select count(*) from goodjob_enqueue_many(
  (select jsonb_agg(jsonb_build_object('task', 'app.bulk', 'queue', 'bulk',
                                       'run_at', now() + interval '1 minute' + n * interval '1 second'))
   from generate_series(1, 1001) as n)) \gset
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'elsewhere', 1, now() + interval '1 day')$$, :'p'),
                'a fetch from another queue claims nothing');
select results_eq($$select state, count(*)::int, max(run_at) from goodjob_jobs group by state order by state$$,
                  $$values ('queued', 1000, now() + interval '1 minute' + interval '1000 seconds'),
                           ('scheduled', 1, now() + interval '1 minute' + interval '1001 seconds')$$,
                  'but promoted the 1,000 earliest due jobs, leaving the last one scheduled');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'elsewhere', 1, now() + interval '1 day')$$, :'p'),
                'the next fetch claims nothing either');
select is((select count(*)::int from goodjob_jobs where state = 'queued'), 1001, 'and promotes the rest');

-- Paused queues, tasks and labels --------------------------------------------------------

select goodjob_test.reset();
select goodjob_test.process() as p \gset
select goodjob_enqueue('app.x', queue => 'pq', id => '00000000-0000-0000-0000-0000000000e1');
select goodjob_enqueue('app.paused', queue => 'other', id => '00000000-0000-0000-0000-0000000000e2');
select goodjob_enqueue('app.x', queue => 'other', labels => array['fast', 'slow'],
                       id => '00000000-0000-0000-0000-0000000000e3');
select goodjob_enqueue('app.x', queue => 'other', priority => 5, id => '00000000-0000-0000-0000-0000000000e4');
select goodjob_pause(queue => 'pq');
select goodjob_pause(task => 'app.paused');
select goodjob_pause(label => 'slow');

select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000e4'::uuid)$$,
                  '* skips paused queues, paused tasks and jobs with any paused label');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, 'pq,other', 10)$$, :'p'),
                'a,b skips them too');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, '+pq,other', 10)$$, :'p'),
                '+a,b skips them too');
select is_empty(format($$select * from goodjob_fetch_and_lock(%L, '-nothing', 10)$$, :'p'),
                '-a,b skips them too');
select goodjob_resume(queue => 'pq');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '*', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000e1'::uuid)$$,
                  'a resumed queue is fetched again');
select goodjob_resume(task => 'app.paused');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, 'other', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000e2'::uuid)$$,
                  'a resumed task is fetched again');
select goodjob_resume(label => 'slow');
select results_eq(format($$select id from goodjob_fetch_and_lock(%L, '-pq', 10)$$, :'p'),
                  $$values ('00000000-0000-0000-0000-0000000000e3'::uuid)$$,
                  'a resumed label is fetched again');

-- Errors: nothing changes -----------------------------------------------------------------

select goodjob_enqueue('app.err', queue => 'err');
select goodjob_enqueue('app.err', queue => 'err', run_at => now() + interval '1 minute');
select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select throws_ok(format('select goodjob_fetch_and_lock(%L, %L, %s, now() + interval ''1 hour'')', :'p', 'err', n),
                 'GJ008', format('invalid max_jobs %s: must be between 1 and 1000', n),
                 format('max_jobs %s is refused', n))
from unnest(array['0', '-1', '1001', 'null']) as n;
select throws_ok(format('select goodjob_fetch_and_lock(%L, ''err'', 1, now() + interval ''1 hour'')',
                        '00000000-0000-0000-0000-00000000dead'),
                 'GJ009', 'unknown process 00000000-0000-0000-0000-00000000dead', 'an unregistered process is refused');
select throws_ok(format('select goodjob_fetch_and_lock(%L, ''err'', 1, %L::timestamptz)', :'p', t),
                 'GJ013', format('invalid as_of %s: pass a finite time or omit it', coalesce(t::text, 'null')),
                 format('as_of %s is refused', coalesce(t::text, 'null')))
from unnest(array['infinity', '-infinity', null]::timestamptz[]) as t;
select throws_ok($$select goodjob_fetch_and_lock(null, 'err', 1)$$, 'GJ009', 'unknown process null',
                 'a null process is refused');
select is(goodjob_test.error_field($$select goodjob_fetch_and_lock(null)$$, 'hint'),
          'Call goodjob_register_process first (or again, after a rescue).',
          'the unknown process error says what to do');
select throws_ok(format('select goodjob_fetch_and_lock(%L, %L, 1, now() + interval ''1 hour'')', :'p', s),
                 'GJ007', format('invalid queue selector %s', coalesce(quote_literal(s), 'null')),
                 format('the selector %s is refused (%s)', coalesce(quote_literal(s), 'null'), why))
from (values (''::text, 'empty'), (null, 'null'), ('  ', 'blank'), ('+', 'a lone +'), ('-', 'a lone -'),
             ('a,,b', 'an empty name'), ('a,', 'a trailing comma'), ('a b', 'a space inside a name'),
             ('*,a', '* in a list'), ('a:2', 'a thread count'), ('a;b', 'several pools'), ('-a,-b', 'a name starting with -'),
             ('+-a', 'a name starting with -'), ('a,+b', 'a + inside a list'), (repeat('q', 129), 'a 129-character name'))
  as v(s, why);
select is(goodjob_test.error_field(format('select goodjob_fetch_and_lock(%L, %L)', :'p', 'a,,b'), 'hint'),
          'Use *, a,b (only these), +a,b (these, in order) or -a,b (all but these).',
          'the selector error shows the syntax');
select is(goodjob_test.snapshot(), :'before', 'no refused fetch claimed or promoted anything');
select lives_ok(format('select goodjob_fetch_and_lock(%L, %L)', :'p', ' * '), 'a * with spaces around it is accepted');

select * from finish();
rollback;
