-- 0004_ecosystem: the trace context of a job, for OpenTelemetry (or any
-- W3C Trace Context propagator) to link a job's runs to its enqueue.
--
-- A nullable column without a default: adding it rewrites nothing, untraced
-- jobs store nothing, and it is in no index (so setting it is a HOT update).

insert into goodjob_migrations (version, name) values ('0004', 'ecosystem');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

alter table goodjob_jobs add column trace_context jsonb;
comment on column goodjob_jobs.trace_context is
  'W3C Trace Context carrier of the enqueue ({"traceparent": "00-...", "tracestate": "..."}), or null.';

-- goodjob_set_trace_context: store the trace context a job was enqueued in.
-- Called around goodjob_enqueue in the same statement:
--   select goodjob_set_trace_context(id => goodjob_enqueue(...), trace_context => '{...}')
-- A job that already has one keeps it (an idempotent re-enqueue does not
-- re-parent it). A null id (an enqueue refused by a concurrency limit)
-- returns null. Errors: GJ006 not a JSON object, GJ010 unknown job.
create function goodjob_set_trace_context(id uuid, trace_context jsonb) returns uuid
language plpgsql volatile set search_path from current as $$
begin
  if jsonb_typeof(goodjob_set_trace_context.trace_context) is distinct from 'object' then
    raise exception 'invalid trace_context %: expected a JSON object',
      coalesce(goodjob_set_trace_context.trace_context::text, 'null')
      using errcode = 'GJ006', hint = 'Pass {"traceparent": "00-<trace-id>-<span-id>-<flags>"}.';
  end if;
  if goodjob_set_trace_context.id is null then
    return null;  -- the enqueue around which it was called was refused by a concurrency limit
  end if;
  update goodjob_jobs j
     set trace_context = goodjob_set_trace_context.trace_context
   where j.id = goodjob_set_trace_context.id and j.trace_context is null;
  if not found and not exists (select 1 from goodjob_jobs j where j.id = goodjob_set_trace_context.id) then
    raise exception 'job % not found', coalesce(goodjob_set_trace_context.id::text, 'null')
      using errcode = 'GJ010';
  end if;
  return goodjob_set_trace_context.id;
end
$$;
comment on function goodjob_set_trace_context(uuid, jsonb) is
  'Store the W3C trace context (a JSON object of carrier fields) a job was enqueued in, unless it has one. Returns the id (null for a null id: a refused enqueue). Errors: GJ006 not an object, GJ010 unknown job.';
