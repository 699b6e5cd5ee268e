-- goodjob_set_trace_context: stores a job's W3C trace context once, in the
-- same statement as its enqueue; refuses what is not an object or no job.
begin;
select plan(10);
\ir helpers/goodjob_test.psql

select has_column('goodjob_jobs', 'trace_context', 'goodjob_jobs has a trace_context column');
select col_type_is('goodjob_jobs', 'trace_context', 'jsonb', 'goodjob_jobs.trace_context is jsonb');
select is(pg_get_function_arguments('goodjob_set_trace_context(uuid,jsonb)'::regprocedure),
          'id uuid, trace_context jsonb', 'goodjob_set_trace_context takes (id uuid, trace_context jsonb)');

select goodjob_set_trace_context(id => goodjob_enqueue(task => 't'),
                                 trace_context => '{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}')
       as j \gset
select is((select trace_context ->> 'traceparent' from goodjob_jobs where id = :'j'),
          '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'the trace context is stored in the statement that enqueues');
select is(goodjob_set_trace_context(:'j', '{"traceparent": "00-other"}'), :'j'::uuid,
          'setting it again returns the id');
select is((select trace_context ->> 'traceparent' from goodjob_jobs where id = :'j'),
          '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'a job keeps its first trace context (an idempotent re-enqueue does not re-parent it)');
select is((select trace_context from goodjob_jobs where id = goodjob_enqueue(task => 't')), null::jsonb,
          'an untraced job stores nothing');

select throws_ok(format($$select goodjob_set_trace_context(%L, '[1]')$$, :'j'), 'GJ006',
                 'invalid trace_context [1]: expected a JSON object', 'an array is refused (GJ006)');
select is(goodjob_set_trace_context(null, '{"traceparent": "00-x"}'), null::uuid,
          'a null id (an enqueue a concurrency limit refused) returns null');
select throws_ok($$select goodjob_set_trace_context('00000000-0000-0000-0000-000000000404', '{}')$$, 'GJ010',
                 'job 00000000-0000-0000-0000-000000000404 not found', 'an unknown job is refused (GJ010)');

select * from finish();
rollback;
