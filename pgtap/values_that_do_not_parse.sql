-- Values that are the right JSON type but do not parse (an id that is no
-- uuid, a time that is no time), and missing arguments of the process and
-- cleanup functions: each is refused with its documented SQLSTATE and
-- nothing is written.
begin;
select plan(12);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset
select goodjob_test.running_job(:'p') as j \gset

-- goodjob_enqueue_many: GJ006, all or nothing ---------------------------------------------

select throws_ok(
  $$select goodjob_enqueue_many('[{"task": "a"}, {"task": "b", "id": "not-a-uuid"}]')$$,
  'GJ006', 'invalid job: invalid input syntax for type uuid: "not-a-uuid"',
  'an id that is no uuid is GJ006, quoting the value');
select throws_ok(
  $$select goodjob_enqueue_many('[{"task": "a", "run_at": "next tuesday-ish"}]')$$,
  'GJ006', 'invalid job: invalid input syntax for type timestamp with time zone: "next tuesday-ish"',
  'a run_at that is no time is GJ006, quoting the value');
select throws_ok(
  $$select goodjob_enqueue_many('[{"task": "a", "batch_id": "12"}]')$$,
  'GJ006', 'invalid job: invalid input syntax for type uuid: "12"',
  'a batch_id that is no uuid is GJ006');
select is((select count(*) from goodjob_jobs where task in ('a', 'b')), 0::bigint,
  'nothing was written by the refused bulk enqueues');

-- goodjob_report_results: GJ013, nothing changes ------------------------------------------

select throws_ok(
  format($$select goodjob_report_results(%L, '[{"id": "xyz", "attempt": 1, "outcome": "succeeded"}]')$$, :'p'),
  'GJ013', null, 'an id that is no uuid is GJ013');
select throws_ok(
  format($$select goodjob_report_results(%L, '[{"id": %s, "attempt": 1.5, "outcome": "succeeded"}]')$$,
         :'p', to_json(:'j'::text)),
  'GJ013', null, 'a fractional attempt is GJ013');
select throws_ok(
  format($$select goodjob_report_results(%L, '[{"id": %s, "attempt": 1, "outcome": "retry", "run_at": "soon"}]')$$,
         :'p', to_json(:'j'::text)),
  'GJ013', 'invalid results: invalid input syntax for type timestamp with time zone: "soon"',
  'a retry run_at that is no time is GJ013');
select throws_ok(
  format($$select goodjob_report_results(%L, '[{"id": %s, "attempt": 1, "outcome": "succeeded"}, {"id": %s, "attempt": 1, "outcome": "failed"}]')$$,
         :'p', to_json(lower(:'j'::text)), to_json(upper(:'j'::text))),
  'GJ013', null, 'the same id twice, in different case, is GJ013');
select is((select state from goodjob_jobs where id = :'j'), 'running',
  'the job is still running after the refused reports');

-- goodjob_register_process and goodjob_cleanup_preserved_jobs: GJ013 -------------------------

select throws_ok(
  $$select goodjob_register_process(hostname => '', pid => 1, queues => '*')$$,
  'GJ013', 'invalid process: hostname '''', pid 1 and queues ''*'' must be given',
  'an empty hostname is GJ013');
select throws_ok(
  $$select goodjob_register_process(hostname => 'h', pid => null, queues => '*')$$,
  'GJ013', 'invalid process: hostname ''h'', pid null and queues ''*'' must be given',
  'a null pid is GJ013');
select throws_ok(
  $$select goodjob_cleanup_preserved_jobs(as_of => null)$$,
  'GJ013', 'invalid as_of null: pass a time or omit it',
  'cleanup with a null as_of is GJ013 instead of deleting nothing');

select * from finish();
rollback;
