-- goodjob_report_results: the four outcomes (succeeded, failed, discarded,
-- retry), the retry policy with the task's backoff at a pinned as_of,
-- discarding at max_attempts, executions closed with their outcome and
-- error, fencing (a result for the wrong attempt or process is refused and
-- changes nothing), preservation policies, and malformed results (GJ013).
begin;
select plan(62);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset
\set t0 '''2030-01-01T00:00:00Z'''

-- succeeded -----------------------------------------------------------------------------

select goodjob_test.running_job(:'p') as j \gset
select results_eq(
  format($$select * from goodjob_report_results(%L, goodjob_test.result(%L, 1, 'succeeded'), %L)$$, :'p', :'j', :t0),
  format($$values (%L::uuid, true, 'succeeded', null::timestamptz)$$, :'j'),
  'a success is accepted and reported as succeeded, with no next run time');
select results_eq(
  format($$select state, finished_at, locked_by, last_error, attempts from goodjob_jobs where id = %L$$, :'j'),
  format($$values ('succeeded', %L::timestamptz, null::uuid, null::text, 1)$$, :t0),
  'the job is succeeded, finished at as_of, no longer locked, without an error');
select results_eq(
  format($$select attempt, finished_at, outcome, error_class, error_message, error_backtrace
           from goodjob_executions where job_id = %L$$, :'j'),
  format($$values (1, %L::timestamptz, 'succeeded', null::text, null::text, null::text)$$, :t0),
  'its execution is closed as succeeded at as_of');

-- failed, attempts left: retry after the default backoff -------------------------------

select goodjob_test.running_job(:'p', max_attempts => 3) as j \gset
select results_eq(
  format($$select * from goodjob_report_results(%L,
             goodjob_test.result(%L, 1, 'failed', '{"error_class": "ValueError", "error_message": "bad input",
                                                   "error_backtrace": "line 1\nline 2"}'), %L)$$, :'p', :'j', :t0),
  format($$values (%L::uuid, true, 'scheduled', %L::timestamptz + interval '3 seconds')$$, :'j', :t0),
  'a failure with attempts left is scheduled again after the default (polynomial) backoff: 1^4 + 2 = 3 s');
select results_eq(
  format($$select state, run_at, finished_at, locked_by, last_error, attempts from goodjob_jobs where id = %L$$, :'j'),
  format($$values ('scheduled', %L::timestamptz + interval '3 seconds', null::timestamptz, null::uuid,
                   'ValueError: bad input', 1)$$, :t0),
  'the job waits as scheduled, unlocked, with last_error "class: message"');
select results_eq(
  format($$select outcome, finished_at, error_class, error_message, error_backtrace from goodjob_executions
           where job_id = %L and attempt = 1$$, :'j'),
  format($$values ('failed', %L::timestamptz, 'ValueError', 'bad input', E'line 1\nline 2')$$, :t0),
  'the execution is closed as failed with the error class, message and backtrace');

-- The second attempt: claimed at its run_at, fails again ---------------------------------

select is((select attempts from goodjob_fetch_and_lock(:'p', (goodjob_test.job(:'j')).queue, 1,
                                                       :t0::timestamptz + interval '3 seconds')),
          2, 'the retried job is claimed again once due, as attempt 2');
select results_eq(
  format($$select state, run_at from goodjob_report_results(%L,
             goodjob_test.result(%L, 2, 'failed', '{"error_class": "ValueError"}'), %L::timestamptz + interval '1 minute')$$,
         :'p', :'j', :t0),
  format($$values ('scheduled', %L::timestamptz + interval '1 minute' + interval '18 seconds')$$, :t0),
  'attempt 2 fails: the backoff is 2^4 + 2 = 18 s after as_of');
select is((goodjob_test.job(:'j')).last_error, 'ValueError', 'an error without a message is recorded as its class');

-- failed at max_attempts: discarded -----------------------------------------------------

select is((select attempts from goodjob_fetch_and_lock(:'p', (goodjob_test.job(:'j')).queue, 1,
                                                       :t0::timestamptz + interval '1 hour')),
          3, 'the last attempt is claimed');
select results_eq(
  format($$select * from goodjob_report_results(%L,
             goodjob_test.result(%L, 3, 'failed', '{"error_message": "still bad"}'), %L::timestamptz + interval '1 hour')$$,
         :'p', :'j', :t0),
  format($$values (%L::uuid, true, 'discarded', null::timestamptz)$$, :'j'),
  'a failure of the last attempt discards the job');
select results_eq(
  format($$select state, finished_at, locked_by, last_error, attempts from goodjob_jobs where id = %L$$, :'j'),
  format($$values ('discarded', %L::timestamptz + interval '1 hour', null::uuid, 'still bad', 3)$$, :t0),
  'the discarded job is finished at as_of and keeps its last error');
select results_eq(
  format($$select attempt, outcome, error_message from goodjob_executions where job_id = %L order by attempt$$, :'j'),
  $$values (1, 'failed', 'bad input'), (2, 'failed', null), (3, 'discarded', 'still bad')$$,
  'one execution per attempt, the last one closed as discarded');

-- discarded: final now, attempts left or not -----------------------------------------------

select goodjob_test.running_job(:'p', max_attempts => 10) as j \gset
select results_eq(
  format($$select state, run_at from goodjob_report_results(%L,
             goodjob_test.result(%L, 1, 'discarded', '{"error_class": "Fatal", "error_message": "no such user"}'), %L)$$,
         :'p', :'j', :t0),
  $$values ('discarded', null::timestamptz)$$,
  'a discarded outcome discards the job even with attempts left');
select results_eq(
  format($$select j.state, j.last_error, e.outcome, e.error_class from goodjob_jobs j
           join goodjob_executions e on e.job_id = j.id where j.id = %L$$, :'j'),
  $$values ('discarded', 'Fatal: no such user', 'discarded', 'Fatal')$$,
  'the job and its execution record the discard and the error');

-- retry: again now or at run_at, counting the attempt ----------------------------------

select goodjob_test.running_job(:'p', max_attempts => 2) as j \gset
select results_eq(
  format($$select * from goodjob_report_results(%L, goodjob_test.result(%L, 1, 'retry'), %L)$$, :'p', :'j', :t0),
  format($$values (%L::uuid, true, 'queued', %L::timestamptz)$$, :'j', :t0),
  'retry without run_at makes the job ready again at as_of');
select results_eq(
  format($$select state, run_at, locked_by, last_error, attempts from goodjob_jobs where id = %L$$, :'j'),
  format($$values ('queued', %L::timestamptz, null::uuid, null::text, 1)$$, :t0),
  'the job is queued, unlocked, the attempt counted, and no error is invented');
select is((goodjob_test.execution(:'j', 1)).outcome, 'failed', 'the retried attempt''s execution is closed as failed');
select is((select attempts from goodjob_fetch_and_lock(:'p', (goodjob_test.job(:'j')).queue)), 2,
          'the next claim is attempt 2');
select results_eq(
  format($$select state, run_at from goodjob_report_results(%L, goodjob_test.result(%L, 2, 'retry'), %L)$$, :'p', :'j', :t0),
  $$values ('discarded', null::timestamptz)$$,
  'retry of the last attempt discards the job');

select goodjob_test.running_job(:'p') as j \gset
select results_eq(
  format($$select * from goodjob_report_results(%L,
             goodjob_test.result(%L, 1, 'retry', jsonb_build_object('run_at', %L::timestamptz + interval '10 minutes',
                                                                    'error_class', 'Snoozed')), %L)$$,
         :'p', :'j', :t0, :t0),
  format($$values (%L::uuid, true, 'scheduled', %L::timestamptz + interval '10 minutes')$$, :'j', :t0),
  'retry with a future run_at schedules the job at that time');
select is((goodjob_test.job(:'j')).last_error, 'Snoozed', 'a retry with an error records it');
select goodjob_test.running_job(:'p') as j \gset
select results_eq(
  format($$select state, run_at from goodjob_report_results(%L,
             goodjob_test.result(%L, 1, 'retry', jsonb_build_object('run_at', %L::timestamptz - interval '1 day')), %L)$$,
         :'p', :'j', :t0, :t0),
  format($$values ('queued', %L::timestamptz)$$, :t0),
  'retry with a past run_at makes the job ready at as_of');
select goodjob_test.running_job(:'p') as j \gset
select results_eq(
  format($$select state, run_at from goodjob_report_results(%L,
             goodjob_test.result(%L, 1, 'failed', jsonb_build_object('run_at', %L::timestamptz + interval '2 days')), %L)$$,
         :'p', :'j', :t0, :t0),
  format($$values ('scheduled', %L::timestamptz + interval '2 days')$$, :t0),
  'a failure may name its own next run_at instead of the backoff');

-- The task's backoff -------------------------------------------------------------------------

select goodjob_define_task('app.constant', backoff => 'constant', backoff_base => 10);
select goodjob_define_task('app.linear', backoff => 'linear', backoff_base => 7);
select goodjob_define_task('app.exponential', backoff => 'exponential', backoff_base => 4);
select goodjob_define_task('app.polynomial', backoff => 'polynomial');

select goodjob_test.running_job(:'p', 'app.constant') as j \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select is((select run_at from goodjob_report_results(:'p', goodjob_test.result(:'j', 2, 'failed'), :t0)),
          :t0::timestamptz + interval '10 seconds', 'constant backoff: attempt 2 waits backoff_base = 10 s');
select goodjob_test.running_job(:'p', 'app.linear') as j \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select is((select run_at from goodjob_report_results(:'p', goodjob_test.result(:'j', 3, 'failed'), :t0)),
          :t0::timestamptz + interval '21 seconds', 'linear backoff: attempt 3 waits 3 * 7 = 21 s');
select goodjob_test.running_job(:'p', 'app.polynomial') as j \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select is((select run_at from goodjob_report_results(:'p', goodjob_test.result(:'j', 3, 'failed'), :t0)),
          :t0::timestamptz + interval '83 seconds', 'polynomial backoff: attempt 3 waits 3^4 + 2 = 83 s');
select goodjob_test.running_job(:'p', 'app.exponential') as j \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select goodjob_test.next_attempt(:'j', :'p') as attempt \gset
select run_at - :t0::timestamptz as waited
from goodjob_report_results(:'p', goodjob_test.result(:'j', 3, 'failed'), :t0) \gset
select ok(:'waited'::interval between interval '16 seconds' and interval '18.4 seconds',
          format('exponential backoff: attempt 3 waits 4 * 2^2 = 16 s plus at most 15%% jitter (waited %s)', :'waited'));

-- Fencing: a result for the wrong attempt or process changes nothing -------------------------

select goodjob_test.running_job(:'p') as fenced \gset
select goodjob_test.next_attempt(:'fenced', :'p') as attempt \gset
select goodjob_test.running_job(:'p') as queued_job \gset
select goodjob_report_results(:'p', goodjob_test.result(:'queued_job', 1, 'retry'), :t0);
select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select results_eq(
  format($$select * from goodjob_report_results(%L, goodjob_test.result(%L, 1, 'succeeded'))$$, :'p', :'fenced'),
  format($$values (%L::uuid, false, null::text, null::timestamptz)$$, :'fenced'),
  'a result for an earlier attempt is refused');
select results_eq(
  format($$select accepted from goodjob_report_results(%L, goodjob_test.result(%L, 3, 'failed'))$$, :'p', :'fenced'),
  $$values (false)$$, 'a result for a later attempt is refused');
select results_eq(
  format($$select accepted from goodjob_report_results(%L, goodjob_test.result(%L, 2, 'succeeded'))$$, :'other', :'fenced'),
  $$values (false)$$, 'a result from another process is refused');
select results_eq(
  format($$select accepted from goodjob_report_results(%L, goodjob_test.result(%L, 2, 'discarded'))$$,
         '00000000-0000-0000-0000-00000000dead', :'fenced'),
  $$values (false)$$, 'a result from an unregistered process is refused');
select results_eq(
  format($$select accepted from goodjob_report_results(%L, goodjob_test.result(%L, 1, 'succeeded'))$$, :'p', :'queued_job'),
  $$values (false)$$, 'a result for a job that is no longer running is refused');
select results_eq(
  format($$select accepted from goodjob_report_results(%L, goodjob_test.result(%L, 1, 'succeeded'))$$,
         :'p', '00000000-0000-0000-0000-000000000404'),
  $$values (false)$$, 'a result for a job that does not exist is refused');
select is(goodjob_test.snapshot(), :'before', 'refused results changed no job and no execution');

select goodjob_test.running_job(:'p') as ok_job \gset
select results_eq(
  format($$select id, accepted, state from goodjob_report_results(%L, jsonb_build_array(
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'succeeded'),
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'succeeded'),
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'succeeded')))$$,
         :'p', :'fenced', :'ok_job', :'queued_job'),
  format($$values (%L::uuid, false, null::text), (%L::uuid, true, 'succeeded'), (%L::uuid, false, null)$$,
         :'fenced', :'ok_job', :'queued_job'),
  'a batch reports each result in input order; refused ones do not stop accepted ones');
select is((goodjob_test.job(:'fenced')).state, 'running', 'the fenced job is still running for its attempt 2');
select is_empty($$select * from goodjob_report_results(gen_random_uuid(), '[]')$$, 'an empty batch reports nothing');

-- Preservation -------------------------------------------------------------------------------

update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as s \gset
select goodjob_test.running_job(:'p') as d \gset
select goodjob_test.running_job(:'p', max_attempts => 2) as f \gset
select results_eq(
  format($$select id, accepted, state from goodjob_report_results(%L, jsonb_build_array(
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'succeeded'),
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'discarded'),
             jsonb_build_object('id', %L, 'attempt', 1, 'outcome', 'failed')))$$, :'p', :'s', :'d', :'f'),
  format($$values (%L::uuid, true, 'succeeded'), (%L::uuid, true, 'discarded'), (%L::uuid, true, 'scheduled')$$,
         :'s', :'d', :'f'),
  'with preserve_job_records "never" the outcomes are still reported');
select is((select count(*)::int from goodjob_jobs where id in (:'s', :'d')), 0,
          'never: succeeded and discarded jobs are deleted');
select is((select count(*)::int from goodjob_executions where job_id in (:'s', :'d')), 0,
          'never: their executions are deleted too');
select is((goodjob_test.job(:'f')).state, 'scheduled', 'never: a job waiting for a retry is kept');
select is((goodjob_test.execution(:'f', 1)).outcome, 'failed', 'never: its failed execution is kept');

update goodjob_settings set value = '"on_discard"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as s \gset
select goodjob_test.running_job(:'p') as d \gset
select goodjob_report_results(:'p', jsonb_build_array(
  jsonb_build_object('id', :'s', 'attempt', 1, 'outcome', 'succeeded'),
  jsonb_build_object('id', :'d', 'attempt', 1, 'outcome', 'discarded')));
select is((goodjob_test.job(:'s')).id, null, 'on_discard: a succeeded job is deleted');
select is((goodjob_test.job(:'d')).state, 'discarded', 'on_discard: a discarded job is kept');
select is((goodjob_test.execution(:'d', 1)).outcome, 'discarded', 'on_discard: with its execution');

update goodjob_settings set value = '"always"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as s \gset
select goodjob_report_results(:'p', goodjob_test.result(:'s', 1, 'succeeded'));
select is((goodjob_test.job(:'s')).state, 'succeeded', 'always: a succeeded job is kept');

select goodjob_define_task('app.keep', preserve => 'always');
select goodjob_define_task('app.drop', preserve => 'never');
update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p', 'app.keep') as s \gset
select goodjob_report_results(:'p', goodjob_test.result(:'s', 1, 'succeeded'));
select is((goodjob_test.job(:'s')).state, 'succeeded', 'a task''s preserve "always" overrides the global "never"');
update goodjob_settings set value = '"always"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p', 'app.drop') as d \gset
select goodjob_report_results(:'p', goodjob_test.result(:'d', 1, 'discarded'));
select is((goodjob_test.job(:'d')).id, null, 'a task''s preserve "never" overrides the global "always"');
delete from goodjob_settings where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as s \gset
select goodjob_report_results(:'p', goodjob_test.result(:'s', 1, 'succeeded'));
select is((goodjob_test.job(:'s')).state, 'succeeded', 'without a global setting, jobs are preserved');

-- Malformed results: GJ013, nothing changes -----------------------------------------------

select goodjob_test.running_job(:'p') as j \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset
select throws_ok(format('select goodjob_report_results(%L, %L)', :'p', r), 'GJ013',
                 format('invalid results %s', coalesce(left(r::text, 120), 'null')),
                 format('results %s are refused', why))
from (values ('{"id": 1}'::jsonb, 'that are an object'),
             (null, 'that are null'),
             ('[1]', 'holding a number'),
             (format('[{"attempt": 1, "outcome": "succeeded"}]')::jsonb, 'without an id'),
             (format('[{"id": 5, "attempt": 1, "outcome": "succeeded"}]')::jsonb, 'with a numeric id'),
             (format('[{"id": "%s", "outcome": "succeeded"}]', :'j')::jsonb, 'without an attempt'),
             (format('[{"id": "%s", "attempt": "1", "outcome": "succeeded"}]', :'j')::jsonb, 'with a string attempt'),
             (format('[{"id": "%s", "attempt": 1}]', :'j')::jsonb, 'without an outcome'),
             (format('[{"id": "%s", "attempt": 1, "outcome": "done"}]', :'j')::jsonb, 'with an unknown outcome'),
             (format('[{"id": "%s", "attempt": 1, "outcome": "succeeded"}, {"id": "%s", "attempt": 1, "outcome": "failed"}]',
                     :'j', :'j')::jsonb, 'naming the same job twice'))
  as v(r, why);
select is(goodjob_test.error_field(format('select goodjob_report_results(%L, %L)', :'p', '{}'), 'detail'),
          'Expected a JSON array of objects with a unique id, an attempt number and an outcome of succeeded, failed, discarded or retry.',
          'the error detail describes the expected shape');
select is(goodjob_test.snapshot(), :'before', 'a malformed batch changes nothing, not even its valid results');

select * from finish();
rollback;
