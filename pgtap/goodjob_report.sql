-- goodjob_report: the worker's form of goodjob_report_results, results as
-- parallel arrays. Every outcome in one call (succeeded; failed with
-- attempts left or not; discarded; retry now, at a run_at, or of the last
-- attempt), results in input order (not id order), the error and run_at
-- arrays applied element by element, the optional arrays and as_of left
-- out, fencing (refused results change nothing and do not stop accepted
-- ones), preservation, empty arrays, and the GJ013 errors: arrays of
-- different lengths or of more than one dimension, a null or repeated id,
-- a null attempt, an unknown or null outcome. The retry policy and
-- backoffs in detail are in goodjob_report_results.sql, which goes through
-- this function.
begin;
select plan(44);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.process() as other \gset
\set t0 '''2030-01-01T00:00:00Z'''

-- Every outcome in one call -------------------------------------------------------------

-- Ids in a known order, so that the call below can list them in another.
select goodjob_test.running_job(:'p', job_id => '00000000-0000-0000-0000-0000000000a1') as s \gset
select goodjob_test.running_job(:'p', max_attempts => 3, job_id => '00000000-0000-0000-0000-0000000000a2') as f \gset
select goodjob_test.running_job(:'p', max_attempts => 1, job_id => '00000000-0000-0000-0000-0000000000a3') as f_last \gset
select goodjob_test.running_job(:'p', max_attempts => 10, job_id => '00000000-0000-0000-0000-0000000000a4') as d \gset
select goodjob_test.running_job(:'p', max_attempts => 3, job_id => '00000000-0000-0000-0000-0000000000a5') as r \gset
select goodjob_test.running_job(:'p', max_attempts => 3, job_id => '00000000-0000-0000-0000-0000000000a6') as r_later \gset
select goodjob_test.running_job(:'p', max_attempts => 1, job_id => '00000000-0000-0000-0000-0000000000a7') as r_last \gset

-- Input order: r_later, s, r_last, f, d, f_last, r.
select results_eq(
  format($$select * from goodjob_report(%L,
             array[%L, %L, %L, %L, %L, %L, %L]::uuid[],
             array[1, 1, 1, 1, 1, 1, 1],
             array['retry', 'succeeded', 'retry', 'failed', 'discarded', 'failed', 'retry'],
             array['Snoozed', 'Ignored', null, 'ValueError', 'Fatal', null, null],
             array[null, 'ignored', null, 'bad input', 'no such user', 'out of attempts', null],
             array[null, 'ignored', null, E'line 1\nline 2', null, 'trace', null],
             array[%L::timestamptz + interval '10 minutes', null, null, null, null, null, null]::timestamptz[],
             %L)$$,
         :'p', :'r_later', :'s', :'r_last', :'f', :'d', :'f_last', :'r', :t0, :t0),
  format($$values (%L::uuid, true, 'scheduled', %L::timestamptz + interval '10 minutes'),
                  (%L, true, 'succeeded', null),
                  (%L, true, 'discarded', null),
                  (%L, true, 'scheduled', %L::timestamptz + interval '3 seconds'),
                  (%L, true, 'discarded', null),
                  (%L, true, 'discarded', null),
                  (%L, true, 'queued', %L::timestamptz)$$,
         :'r_later', :t0, :'s', :'r_last', :'f', :t0, :'d', :'f_last', :'r', :t0),
  'one call records every outcome and reports each result in input order, with its state and next run time');

select results_eq(
  format($$select id, state, run_at, finished_at, locked_by, last_error, attempts from goodjob_jobs
           where id in (%L, %L, %L, %L) order by id$$, :'s', :'f', :'f_last', :'d'),
  format($$values (%L::uuid, 'succeeded', now(), %L::timestamptz, null::uuid, null::text, 1),
                  (%L, 'scheduled', %L::timestamptz + interval '3 seconds', null, null, 'ValueError: bad input', 1),
                  (%L, 'discarded', now(), %L, null, 'out of attempts', 1),
                  (%L, 'discarded', now(), %L, null, 'Fatal: no such user', 1)$$,
         :'s', :t0, :'f', :t0, :'f_last', :t0, :'d', :t0),
  'succeeded and discarded jobs finish at as_of; a failure with attempts left waits out the backoff; errors read "class: message"');
select results_eq(
  format($$select id, state, run_at, finished_at, locked_by, last_error, attempts from goodjob_jobs
           where id in (%L, %L, %L) order by id$$, :'r', :'r_later', :'r_last'),
  format($$values (%L::uuid, 'queued', %L::timestamptz, null::timestamptz, null::uuid, null::text, 1),
                  (%L, 'scheduled', %L::timestamptz + interval '10 minutes', null, null, 'Snoozed', 1),
                  (%L, 'discarded', now(), %L, null, null, 1)$$,
         :'r', :t0, :'r_later', :t0, :'r_last', :t0),
  'retry: queued at as_of, or scheduled at its run_ats element, or discarded at the last attempt');
select results_eq(
  format($$select job_id, outcome, finished_at, error_class, error_message, error_backtrace from goodjob_executions
           where job_id in (%L, %L, %L, %L, %L, %L, %L) order by job_id$$,
         :'s', :'f', :'f_last', :'d', :'r', :'r_later', :'r_last'),
  format($$values (%L::uuid, 'succeeded', %L::timestamptz, null::text, null::text, null::text),
                  (%L, 'failed', %L, 'ValueError', 'bad input', E'line 1\nline 2'),
                  (%L, 'discarded', %L, null, 'out of attempts', 'trace'),
                  (%L, 'discarded', %L, 'Fatal', 'no such user', null),
                  (%L, 'failed', %L, null, null, null),
                  (%L, 'failed', %L, 'Snoozed', null, null),
                  (%L, 'discarded', %L, null, null, null)$$,
         :'s', :t0, :'f', :t0, :'f_last', :t0, :'d', :t0, :'r', :t0, :'r_later', :t0, :'r_last', :t0),
  'each execution is closed at as_of with its own elements of the error arrays (a success keeps none)');

-- The optional arrays and as_of left out -----------------------------------------------------

select goodjob_test.running_job(:'p', max_attempts => 3) as f \gset
select goodjob_test.running_job(:'p') as s \gset
select results_eq(
  format($$select id, accepted, state, run_at from goodjob_report(process_id => %L, ids => array[%L, %L]::uuid[],
                                                                 attempts => array[1, 1], outcomes => array['failed', 'succeeded'])$$,
         :'p', :'f', :'s'),
  format($$values (%L::uuid, true, 'scheduled', now() + interval '3 seconds'), (%L, true, 'succeeded', null)$$,
         :'f', :'s'),
  'with only ids, attempts and outcomes (named notation), as_of is now()');
select results_eq(
  format($$select j.last_error, e.error_class, e.error_message, e.error_backtrace, e.finished_at
           from goodjob_jobs j join goodjob_executions e on e.job_id = j.id where j.id = %L$$, :'f'),
  $$values (null::text, null::text, null::text, null::text, now())$$,
  'a failure without error arrays records no error');

-- Fencing: refused results change nothing ------------------------------------------------

select goodjob_test.running_job(:'p') as fenced \gset
select goodjob_test.next_attempt(:'fenced', :'p') as attempt \gset
select goodjob_test.running_job(:'other') as theirs \gset
select goodjob_test.job_in_state('queued', :'p') as queued_job \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select results_eq(
  format($$select * from goodjob_report(%L, array[%L, %L, %L, %L]::uuid[], array[1, 1, 1, 1],
                                        array['succeeded', 'failed', 'discarded', 'retry'])$$,
         :'p', :'fenced', :'theirs', :'queued_job', '00000000-0000-0000-0000-000000000404'),
  format($$values (%L::uuid, false, null::text, null::timestamptz), (%L, false, null, null), (%L, false, null, null),
                  (%L, false, null, null)$$,
         :'fenced', :'theirs', :'queued_job', '00000000-0000-0000-0000-000000000404'),
  'refused, each in its place: an earlier attempt, another process''s job, a job not running, a job that does not exist');
select results_eq(
  format($$select accepted from goodjob_report(%L, array[%L]::uuid[], array[3], array['succeeded'])$$, :'p', :'fenced'),
  $$values (false)$$, 'a result for a later attempt is refused');
select results_eq(
  format($$select accepted from goodjob_report(%L, array[%L]::uuid[], array[2], array['succeeded'])$$, :'other', :'fenced'),
  $$values (false)$$, 'a result from another process for the right attempt is refused');
select results_eq(
  format($$select accepted from goodjob_report(%L, array[%L]::uuid[], array[2], array['succeeded'])$$,
         '00000000-0000-0000-0000-00000000dead', :'fenced'),
  $$values (false)$$, 'a result from an unregistered process is refused');
select is(goodjob_test.snapshot(), :'before', 'refused results changed no job and no execution');

select goodjob_test.running_job(:'p') as ok_job \gset
select results_eq(
  format($$select id, accepted, state from goodjob_report(%L, array[%L, %L, %L]::uuid[], array[1, 1, 1],
                                                          array['succeeded', 'succeeded', 'succeeded'])$$,
         :'p', :'fenced', :'ok_job', :'theirs'),
  format($$values (%L::uuid, false, null::text), (%L, true, 'succeeded'), (%L, false, null)$$,
         :'fenced', :'ok_job', :'theirs'),
  'refused results do not stop an accepted one in the same call');
select results_eq(
  format($$select id, state from goodjob_jobs where id in (%L, %L) order by id$$, :'fenced', :'theirs'),
  format($$select * from (values (%L::uuid, 'running'), (%L, 'running')) as v(id, state) order by id$$,
         :'fenced', :'theirs'),
  'the fenced jobs still run for their owners');

-- Preservation -----------------------------------------------------------------------------

update goodjob_settings set value = '"never"' where key = 'preserve_job_records';
select goodjob_test.running_job(:'p') as s \gset
select goodjob_test.running_job(:'p', max_attempts => 2) as f \gset
select results_eq(
  format($$select id, accepted, state from goodjob_report(%L, array[%L, %L]::uuid[], array[1, 1],
                                                          array['succeeded', 'failed'])$$, :'p', :'s', :'f'),
  format($$values (%L::uuid, true, 'succeeded'), (%L, true, 'scheduled')$$, :'s', :'f'),
  'with preserve_job_records "never" the outcomes are still reported');
select is((select count(*)::int from goodjob_jobs where id = :'s') + (select count(*)::int from goodjob_executions where job_id = :'s'),
          0, 'never: the succeeded job and its execution are deleted');
select is((goodjob_test.job(:'f')).state, 'scheduled', 'never: a job waiting for a retry is kept');
update goodjob_settings set value = '"always"' where key = 'preserve_job_records';

-- Empty arrays: no rows ----------------------------------------------------------------

select is_empty(format($$select * from goodjob_report(%L, '{}', '{}', '{}')$$, :'p'), 'empty arrays report nothing');
select is_empty(format($$select * from goodjob_report(%L, '{}', '{}', '{}', '{}', '{}', '{}', '{}')$$, :'p'),
                'empty arrays, the optional ones given empty too, report nothing');
select is_empty($$select * from goodjob_report(gen_random_uuid(), '{}', '{}', '{}')$$,
                'empty arrays from an unregistered process report nothing');

-- Malformed results: GJ013, nothing changes -----------------------------------------------

select goodjob_test.running_job(:'p') as j \gset
select goodjob_test.running_job(:'p') as k \gset
select snapshot as before from goodjob_test.snapshot() as snapshot \gset

select throws_ok(
  format('select goodjob_report(%L, %L::uuid[], %L::int[], %L::text[], %L::text[], %L::text[], %L::text[], %L::timestamptz[])',
         :'p', ids, attempts, outcomes, classes, messages, backtraces, run_ats),
  'GJ013', 'invalid results: ids, attempts and outcomes (and any error or run_at arrays) must have the same length',
  format('arrays of different lengths are refused: %s', why))
from (values
  (array[:'j', :'k']::uuid[], '{1}'::int[], '{succeeded,succeeded}'::text[], null::text[], null::text[], null::text[],
   null::timestamptz[], 'fewer attempts than ids'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{succeeded,succeeded,succeeded}', null, null, null, null, 'more outcomes than ids'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{failed,failed}', '{E}', null, null, null, 'fewer error_classes'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{failed,failed}', null, '{a,b,c}', null, null, 'more error_messages'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{failed,failed}', null, null, '{}', null, 'empty error_backtraces'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{retry,retry}', null, null, null,
   array['2030-01-01T00:00:00Z']::timestamptz[], 'fewer run_ats'),
  (null, '{1}', '{succeeded}', null, null, null, null, 'ids null'),
  (array[:'j']::uuid[], null, '{succeeded}', null, null, null, null, 'attempts null'),
  (array[:'j']::uuid[], '{1}', null, null, null, null, null, 'outcomes null'),
  ('{}', '{1}', '{succeeded}', null, null, null, null, 'no ids but one attempt and outcome'),
  -- More than one dimension, although the element counts match.
  (array[[:'j'], [:'k']]::uuid[], '{1,1}', '{succeeded,succeeded}', null, null, null, null,
   'ids in two dimensions (2x1)'),
  (array[[:'j', :'k']]::uuid[], '{{1,1}}', '{{succeeded,succeeded}}', null, null, null, null,
   'ids, attempts and outcomes all in two dimensions (1x2)'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{failed,failed}', null, '{{a},{b}}', null, null,
   'error_messages in two dimensions'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{retry,retry}', null, null, null,
   array[['2030-01-01T00:00:00Z'], ['2030-01-01T00:00:00Z']]::timestamptz[], 'run_ats in two dimensions')
) as v(ids, attempts, outcomes, classes, messages, backtraces, run_ats, why);

select throws_ok(
  format('select goodjob_report(%L, %L::uuid[], %L::int[], %L::text[])', :'p', ids, attempts, outcomes),
  'GJ013',
  format('invalid results: ids must be unique and not null, attempts not null, outcomes one of succeeded, failed, discarded, retry; got outcomes %s',
         outcomes),
  format('%s is refused', why))
from (values
  (array[:'j', null]::uuid[], '{1,1}'::int[], '{succeeded,succeeded}'::text[], 'a null id'),
  (array[:'j', :'k', :'j']::uuid[], '{1,1,1}', '{succeeded,succeeded,failed}', 'a repeated id'),
  (array[:'j', :'k']::uuid[], '{1,null}', '{succeeded,succeeded}', 'a null attempt'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{succeeded,done}', 'an unknown outcome'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{succeeded,Failed}', 'an outcome in the wrong case'),
  (array[:'j', :'k']::uuid[], '{1,1}', '{succeeded,NULL}', 'a null outcome'),
  (array[:'j']::uuid[], '{1}', '{""}', 'an empty outcome')
) as v(ids, attempts, outcomes, why);
select throws_ok(
  format('select goodjob_report(%L, %L::uuid[], ''{1}''::int[], ''{succeeded}''::text[], as_of => %L::timestamptz)', :'p', array[:'j']::uuid[], t),
  'GJ013', format('invalid as_of %s: pass a finite time or omit it', coalesce(t::text, 'null')),
  format('as_of %s is refused', coalesce(t::text, 'null')))
from unnest(array['infinity', '-infinity', null]::timestamptz[]) as t;

select is(goodjob_test.snapshot(), :'before', 'a malformed call changes nothing, not even its valid results');

select * from finish();
rollback;
