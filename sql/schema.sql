--
-- PostgreSQL database dump
--

--
-- Name: goodjob_report_outcome; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.goodjob_report_outcome AS (
	id uuid,
	accepted boolean,
	state text,
	run_at timestamp with time zone
);

--
-- Name: goodjob__apply_max_arguments_bytes(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__apply_max_arguments_bytes(p_limit bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $_$
begin
  drop trigger if exists goodjob_jobs_arguments_size on goodjob_jobs;
  execute pg_catalog.format(
    'create trigger goodjob_jobs_arguments_size before insert on goodjob_jobs for each row'
    ' when (pg_catalog.pg_column_size(new.args) > %1$s or pg_catalog.pg_column_size(new.kwargs) > %1$s)'
    ' execute function goodjob_tg_jobs__arguments_size()', p_limit);
end
$_$;

--
-- Name: goodjob__channel(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__channel() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$select 'goodjob'$$;

--
-- Name: FUNCTION goodjob__channel(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob__channel() IS 'This install''s NOTIFY channel: goodjob in schema public, goodjob_<schema> elsewhere. Workers LISTEN on it.';

--
-- Name: goodjob__check_args(jsonb, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_args(args jsonb, kwargs jsonb) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
begin
  if jsonb_typeof(args) is distinct from 'array' then
    raise exception 'invalid args %: must be a JSON array', coalesce(left(args::text, 80), 'null')
      using errcode = 'GJ002';
  end if;
  if jsonb_typeof(kwargs) is distinct from 'object' then
    raise exception 'invalid kwargs %: must be a JSON object', coalesce(left(kwargs::text, 80), 'null')
      using errcode = 'GJ003';
  end if;
end
$$;

--
-- Name: goodjob__check_batch_arguments(jsonb, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_batch_arguments(properties jsonb, on_finish text, on_success text, on_discard text, callback_queue text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
declare
  v_name text;
  v_value text;
begin
  if properties is not null and jsonb_typeof(properties) <> 'object' then
    raise exception 'invalid batch properties %: must be a JSON object', left(properties::text, 80)
      using errcode = 'GJ031';
  end if;
  for v_name, v_value in
    select * from (values ('on_finish', on_finish), ('on_success', on_success), ('on_discard', on_discard)) v
  loop
    if v_value is not null and not goodjob__task_is_valid(v_value) then
      raise exception 'invalid batch % %: a task name is 1 to 255 characters', v_name, quote_literal(v_value)
        using errcode = 'GJ031';
    end if;
  end loop;
  if callback_queue is not null and not goodjob__queue_is_valid(callback_queue) then
    raise exception 'invalid batch callback_queue %', quote_literal(callback_queue)
      using errcode = 'GJ031',
            detail = 'A queue name is 1 to 128 characters without spaces or any of , ; : * + and does not start with -.';
  end if;
end
$$;

--
-- Name: goodjob__check_concurrency_key(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_concurrency_key(key text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
begin
  if length(key) = 0 or length(key) > 255 then
    raise exception 'invalid concurrency_key %: must be 1 to 255 characters', quote_literal(key)
      using errcode = 'GJ021', hint = 'Pass null for no key.';
  end if;
  return key;
end
$$;

--
-- Name: goodjob__check_labels(text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_labels(labels text[]) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
declare
  v_label text;
  v_result text[] := '{}';
begin
  -- Keep the caller's order, drop duplicates and refuse empty labels.
  foreach v_label in array coalesce(labels, '{}') loop
    if v_label is null or length(v_label) = 0 or length(v_label) > 128 then
      raise exception 'invalid label %: must be 1 to 128 characters', coalesce(quote_literal(v_label), 'null')
        using errcode = 'GJ006';
    end if;
    if not v_label = any(v_result) then
      v_result := v_result || v_label;
    end if;
  end loop;
  return v_result;
end
$$;

--
-- Name: goodjob__check_max_attempts(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_max_attempts(max_attempts integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
begin
  if max_attempts < 1 then
    raise exception 'invalid max_attempts %: must be at least 1', max_attempts
      using errcode = 'GJ005';
  end if;
  return max_attempts;
end
$$;

--
-- Name: goodjob__check_queue(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_queue(queue text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
begin
  if queue is null or length(queue) = 0 or length(queue) > 128
     or queue ~ '[,;:*+[:space:]]' or left(queue, 1) = '-' then
    raise exception 'invalid queue name %', coalesce(quote_literal(queue), 'null')
      using errcode = 'GJ004',
            detail = 'A queue name is 1 to 128 characters without spaces or any of , ; : * + and does not start with -.';
  end if;
  return queue;
end
$$;

--
-- Name: goodjob__check_queue_or_null(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_queue_or_null(queue text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'public'
    AS $$
  select case when queue is null then null else goodjob__check_queue(queue) end
$$;

--
-- Name: goodjob__check_task(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__check_task(task text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
begin
  if task is null or length(task) = 0 or length(task) > 255 then
    raise exception 'invalid task name %: must be 1 to 255 characters',
      coalesce(quote_literal(task), 'null')
      using errcode = 'GJ001', hint = 'Pass the registered task name, e.g. ''app.tasks.send_email''.';
  end if;
  return task;
end
$$;

--
-- Name: goodjob_cron_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_cron_entries (
    key text NOT NULL,
    schedule text NOT NULL,
    task text NOT NULL,
    args jsonb,
    kwargs jsonb,
    queue text,
    priority integer,
    labels text[],
    description text,
    enabled_by_default boolean DEFAULT true NOT NULL,
    enabled boolean,
    last_tick_at timestamp with time zone,
    last_run_at timestamp with time zone,
    last_job_id uuid,
    next_run_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT goodjob_cron_entries_args_is_array CHECK ((jsonb_typeof(args) = 'array'::text)),
    CONSTRAINT goodjob_cron_entries_key_length CHECK (((length(key) >= 1) AND (length(key) <= 255))),
    CONSTRAINT goodjob_cron_entries_kwargs_is_object CHECK ((jsonb_typeof(kwargs) = 'object'::text)),
    CONSTRAINT goodjob_cron_entries_schedule_not_empty CHECK ((length(schedule) > 0)),
    CONSTRAINT goodjob_cron_entries_task_length CHECK (((length(task) >= 1) AND (length(task) <= 255)))
);

--
-- Name: goodjob__cron_entry(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__cron_entry(key text) RETURNS public.goodjob_cron_entries
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_entry goodjob_cron_entries;
begin
  select * into v_entry from goodjob_cron_entries c where c.key = goodjob__cron_entry.key for update;
  if not found then
    raise exception 'cron entry % not found', coalesce(quote_literal(goodjob__cron_entry.key), 'null')
      using errcode = 'GJ014',
            hint = 'Entries are defined by a worker started with --enable-cron, or by goodjob_define_cron_entry.';
  end if;
  return v_entry;
end
$$;

--
-- Name: goodjob__diagnose_jobs(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__diagnose_jobs(jobs jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'public'
    AS $_$
declare
  v_bad record;
begin
  select e.ord, e.job, k.key, k.value into v_bad
  from jsonb_array_elements(jobs) with ordinality as e(job, ord)
  left join lateral jsonb_each(case when jsonb_typeof(e.job) = 'object' then e.job end) as k(key, value) on true
  where jsonb_typeof(e.job) <> 'object'
     or (k.key is not null and not (
          (k.key in ('task', 'queue', 'run_at', 'concurrency_key', 'batch_id', 'id')
             and jsonb_typeof(k.value) in ('string', 'null'))
       or (k.key in ('priority', 'max_attempts')
             and (jsonb_typeof(k.value) = 'null'
                  or (jsonb_typeof(k.value) = 'number'
                      and case when k.value::text ~ '^-?[0-9]{1,10}$'
                               then (k.value::text)::bigint between -2147483648 and 2147483647
                               else false end)))
       or (k.key = 'args' and jsonb_typeof(k.value) in ('array', 'null'))
       or (k.key = 'kwargs' and jsonb_typeof(k.value) in ('object', 'null'))
       or (k.key = 'labels' and (jsonb_typeof(k.value) = 'null'
             or (jsonb_typeof(k.value) = 'array'
                 and not jsonb_path_exists(k.value, '$[*] ? (@.type() != "string")'))))))
  order by e.ord
  limit 1;
  if found then
    if v_bad.key is null then
      raise exception 'invalid job at position %: % is not a JSON object', v_bad.ord, left(v_bad.job::text, 80)
        using errcode = 'GJ006';
    end if;
    raise exception 'invalid job at position %: key % has unsupported value %',
      v_bad.ord, quote_literal(v_bad.key), left(v_bad.value::text, 80)
      using errcode = 'GJ006',
            hint = 'Keys: task, args, kwargs, queue, priority, run_at, labels, concurrency_key, batch_id, max_attempts, id.';
  end if;
end
$_$;

--
-- Name: goodjob_uuid_v7(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_uuid_v7() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    AS $$
  select overlay(pg_catalog.gen_random_uuid()::text
                 placing pg_catalog.lpad(pg_catalog.to_hex((extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 12, '0')
                         || '-7'
                 from 1 for 15)::uuid
$$;

--
-- Name: FUNCTION goodjob_uuid_v7(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_uuid_v7() IS 'A new time-ordered uuid (version 7: Unix milliseconds, then random bits), the default job id.';

--
-- Name: goodjob_batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_batches (
    id uuid DEFAULT public.goodjob_uuid_v7() NOT NULL,
    description text,
    properties jsonb DEFAULT '{}'::jsonb NOT NULL,
    on_finish text,
    on_success text,
    on_discard text,
    callback_queue text,
    callback_priority integer,
    jobs integer DEFAULT 0 NOT NULL,
    succeeded integer DEFAULT 0 NOT NULL,
    discarded integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    enqueued_at timestamp with time zone,
    discarded_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT goodjob_batches_counts_in_range CHECK (((succeeded >= 0) AND (discarded >= 0) AND ((succeeded + discarded) <= jobs))),
    CONSTRAINT goodjob_batches_properties_is_object CHECK ((jsonb_typeof(properties) = 'object'::text))
);

--
-- Name: goodjob__enqueue_batch_callback(public.goodjob_batches, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__enqueue_batch_callback(batch public.goodjob_batches, task text, event text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_def goodjob_tasks%rowtype;
  v_id uuid;
begin
  if task is null then
    return null;
  end if;
  select * into v_def from goodjob_tasks t where t.name = goodjob__enqueue_batch_callback.task;
  insert into goodjob_jobs as j (task, args, queue, priority, max_attempts, labels,
                                 concurrency_key, batch_callback_id)
  values (
    goodjob__enqueue_batch_callback.task,
    jsonb_build_array(batch.id, jsonb_build_object('event', event)),
    coalesce(batch.callback_queue, v_def.queue, 'default'),
    coalesce(batch.callback_priority, v_def.priority, 0),
    coalesce(v_def.max_attempts, 25),
    coalesce(v_def.labels, '{}'),
    case when coalesce(v_def.total_limit, v_def.enqueue_limit, v_def.perform_limit,
                       v_def.enqueue_throttle_limit, v_def.perform_throttle_limit) is not null
         then goodjob__enqueue_batch_callback.task end,
    batch.id
  )
  returning j.id into v_id;
  return v_id;
end
$$;

--
-- Name: FUNCTION goodjob__enqueue_batch_callback(batch public.goodjob_batches, task text, event text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob__enqueue_batch_callback(batch public.goodjob_batches, task text, event text) IS 'Internal: enqueue one callback job of a batch as task(batch_id, {"event": event}), with the task''s defaults and the batch''s callback queue and priority; never refused by enqueue-side concurrency limits (perform limits still apply). Null when the batch has no callback for the event.';

--
-- Name: goodjob__enqueue_for_cron(public.goodjob_cron_entries, timestamp with time zone, timestamp with time zone, jsonb, jsonb, text, integer, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__enqueue_for_cron(entry public.goodjob_cron_entries, cron_at timestamp with time zone, run_at timestamp with time zone, args jsonb, kwargs jsonb, queue text, priority integer, labels text[]) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_id uuid;
begin
  if coalesce(goodjob__enqueue_for_cron.args, entry.args) is null
     or coalesce(goodjob__enqueue_for_cron.kwargs, entry.kwargs) is null then
    raise exception 'cron entry % computes its arguments in Python', quote_literal(entry.key)
      using errcode = 'GJ016',
            hint = 'Pass args and kwargs, or use: goodjob-pg cron run KEY --app MODULE:APP.';
  end if;
  v_id := goodjob_enqueue(task => entry.task,
                          args => coalesce(goodjob__enqueue_for_cron.args, entry.args),
                          kwargs => coalesce(goodjob__enqueue_for_cron.kwargs, entry.kwargs),
                          queue => coalesce(goodjob__enqueue_for_cron.queue, entry.queue),
                          priority => coalesce(goodjob__enqueue_for_cron.priority, entry.priority),
                          run_at => goodjob__enqueue_for_cron.run_at,
                          labels => coalesce(goodjob__enqueue_for_cron.labels, entry.labels));
  update goodjob_jobs j
     set cron_key = entry.key, cron_at = goodjob__enqueue_for_cron.cron_at
   where j.id = v_id;
  update goodjob_cron_entries c
     set last_run_at = now(), last_job_id = v_id
   where c.key = entry.key;
  return v_id;
end
$$;

--
-- Name: goodjob_tasks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_tasks (
    name text NOT NULL,
    queue text,
    priority integer,
    max_attempts integer,
    backoff text,
    backoff_base double precision,
    preserve text,
    labels text[],
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    total_limit integer,
    enqueue_limit integer,
    perform_limit integer,
    enqueue_throttle_limit integer,
    enqueue_throttle_period interval,
    perform_throttle_limit integer,
    perform_throttle_period interval,
    CONSTRAINT goodjob_tasks_backoff_base_not_negative CHECK ((backoff_base >= (0)::double precision)),
    CONSTRAINT goodjob_tasks_backoff_known CHECK ((backoff = ANY (ARRAY['constant'::text, 'linear'::text, 'exponential'::text, 'polynomial'::text]))),
    CONSTRAINT goodjob_tasks_concurrency_limits_positive CHECK (((total_limit >= 1) AND (enqueue_limit >= 1) AND (perform_limit >= 1) AND (enqueue_throttle_limit >= 1) AND (perform_throttle_limit >= 1))),
    CONSTRAINT goodjob_tasks_enqueue_throttle_complete CHECK ((((enqueue_throttle_limit IS NULL) = (enqueue_throttle_period IS NULL)) AND (enqueue_throttle_period > '00:00:00'::interval))),
    CONSTRAINT goodjob_tasks_max_attempts_positive CHECK ((max_attempts >= 1)),
    CONSTRAINT goodjob_tasks_perform_throttle_complete CHECK ((((perform_throttle_limit IS NULL) = (perform_throttle_period IS NULL)) AND (perform_throttle_period > '00:00:00'::interval))),
    CONSTRAINT goodjob_tasks_preserve_known CHECK ((preserve = ANY (ARRAY['always'::text, 'on_discard'::text, 'never'::text])))
);

--
-- Name: goodjob__enqueue_slots(text, public.goodjob_tasks); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__enqueue_slots(key text, t public.goodjob_tasks) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path TO 'public'
    AS $$
  select least(
    case when t.total_limit is not null then
      t.total_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null
           limit t.total_limit) x) end,
    case when t.enqueue_limit is not null then
      t.enqueue_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state in ('scheduled', 'queued')
           limit t.enqueue_limit) x) end,
    case when t.enqueue_throttle_limit is not null then
      t.enqueue_throttle_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.created_at > now() - t.enqueue_throttle_period
           limit t.enqueue_throttle_limit) x) end)::int
$$;

--
-- Name: goodjob__fire_batch_callbacks(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__fire_batch_callbacks(batch_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_batch goodjob_batches;
  v_discard boolean;
  v_finish boolean;
begin
  select * into v_batch from goodjob_batches b where b.id = goodjob__fire_batch_callbacks.batch_id for update;
  if not found or v_batch.enqueued_at is null then
    return;
  end if;
  v_discard := v_batch.discarded > 0 and v_batch.discarded_at is null;
  v_finish := v_batch.finished_at is null and v_batch.succeeded + v_batch.discarded = v_batch.jobs;
  if not (v_discard or v_finish) then
    return;
  end if;
  update goodjob_batches b
     set discarded_at = case when v_discard then now() else b.discarded_at end,
         finished_at = case when v_finish then now() else b.finished_at end
   where b.id = v_batch.id;
  if v_discard then
    perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_discard, 'discard');
  end if;
  if v_finish then
    if v_batch.discarded = 0 then
      perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_success, 'success');
    end if;
    perform goodjob__enqueue_batch_callback(v_batch, v_batch.on_finish, 'finish');
  end if;
end
$$;

--
-- Name: goodjob__interrupt_jobs(uuid[], text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__interrupt_jobs(process_ids uuid[], reason text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_count int;
  v_queues text[];
begin
  -- Lock the jobs in id order first (goodjob_report_results does the same):
  -- a plain UPDATE would lock them in index order, and a report of the same
  -- jobs locking in another order would deadlock with it.
  with doomed as (
    select j.id, j.locked_by, j.batch_id, j.attempts >= j.max_attempts as discards from goodjob_jobs j
     where j.state = 'running' and j.locked_by = any(process_ids)
     order by j.id
     for update
  ),
  -- Batches of members this discards (out of attempts), locked in id order
  -- before the update, as goodjob_report does, so the batch trigger finds
  -- them locked and a rescue never deadlocks with a report.
  batch_locks as (
    select b.id from goodjob_batches b
     where b.id = any(array(select d.batch_id from doomed d where d.batch_id is not null and d.discards))
     order by b.id
     for update of b
  ),
  interrupted as (
    update goodjob_jobs j
       set state = case when j.attempts >= j.max_attempts then 'discarded' else 'queued' end,
           finished_at = case when j.attempts >= j.max_attempts then now() end,
           run_at = least(j.run_at, now()),
           locked_by = null,
           last_error = reason
      from doomed d
     where j.id = d.id and j.state = 'running' and j.locked_by = any(process_ids)
       and (select count(*) from batch_locks) >= 0
    returning j.id, j.attempts, j.queue, j.state, j.started_at, d.locked_by
  ),
  closed as (
    insert into goodjob_executions (job_id, attempt, process_id, started_at, finished_at,
                                    outcome, error_class, error_message)
    select i.id, i.attempts, i.locked_by, i.started_at, now(), 'interrupted', 'Interrupted', reason
      from interrupted i
    on conflict do nothing
  )
  select count(*)::int, array_agg(distinct i.queue) filter (where i.state = 'queued')
    into v_count, v_queues
  from interrupted i;

  perform pg_notify(goodjob__channel(), json_build_object('queue', q)::text) from unnest(v_queues) as q;
  return v_count;
end
$$;

--
-- Name: goodjob__job_state_error(uuid, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__job_state_error(id uuid, operation text, allowed text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'public'
    AS $$
declare
  v_state text;
begin
  select j.state into v_state from goodjob_jobs j where j.id = goodjob__job_state_error.id;
  if not found then
    raise exception 'job % not found', coalesce(goodjob__job_state_error.id::text, 'null')
      using errcode = 'GJ010';
  end if;
  raise exception 'cannot % job %: it is %', operation, goodjob__job_state_error.id, v_state
    using errcode = 'GJ011',
          hint = format('Only %s jobs can be %s.', allowed,
                        case operation when 'retry' then 'retried' when 'reschedule' then 'rescheduled'
                                       else operation || 'ed' end);
end
$$;

--
-- Name: goodjob__live_lease_keys(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__live_lease_keys() RETURNS SETOF integer
    LANGUAGE sql STABLE
    SET search_path TO 'public'
    AS $$
  select l.objid::int
  from pg_catalog.pg_locks l
  where l.locktype = 'advisory' and l.classid = goodjob__lock_class() and l.objsubid = 2
    and l.granted and l.objid <> 0
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
$$;

--
-- Name: goodjob__lock_class(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__lock_class() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$select 1735028839$$;

--
-- Name: FUNCTION goodjob__lock_class(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob__lock_class() IS 'This install''s advisory-lock class, the first key of every lock it takes: leases (class, lease_key), the wake-up gate (class, -1), concurrency keys (class + 1 and class + 2, hashtext(key)). 1735028839 in schema public, derived from the schema name elsewhere.';

--
-- Name: goodjob__locked_batch(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__locked_batch(id uuid) RETURNS public.goodjob_batches
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_batch goodjob_batches;
begin
  select * into v_batch from goodjob_batches b where b.id = goodjob__locked_batch.id for update;
  if not found then
    raise exception 'batch % not found', coalesce(goodjob__locked_batch.id::text, 'null')
      using errcode = 'GJ030';
  end if;
  return v_batch;
end
$$;

--
-- Name: goodjob__parse_queues(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__parse_queues(queues text, OUT mode text, OUT names text[]) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'public'
    AS $$
declare
  v_list text := btrim(queues);
  v_name text;
begin
  if v_list = '*' then
    mode := 'all';
    names := '{}';
    return;
  end if;
  mode := case left(v_list, 1) when '+' then 'ordered' when '-' then 'except' else 'only' end;
  if mode <> 'only' then
    v_list := substr(v_list, 2);
  end if;
  names := '{}';
  foreach v_name in array coalesce(string_to_array(v_list, ','), '{}') loop
    v_name := btrim(v_name);
    if v_name = '' or length(v_name) > 128 or v_name ~ '[,;:*+[:space:]]' or left(v_name, 1) = '-' then
      raise exception 'invalid queue selector %', coalesce(quote_literal(queues), 'null')
        using errcode = 'GJ007',
              hint = 'Use *, a,b (only these), +a,b (these, in order) or -a,b (all but these).';
    end if;
    if not v_name = any(names) then
      names := names || v_name;
    end if;
  end loop;
  if cardinality(names) = 0 then
    raise exception 'invalid queue selector %', coalesce(quote_literal(queues), 'null')
      using errcode = 'GJ007',
            hint = 'Use *, a,b (only these), +a,b (these, in order) or -a,b (all but these).';
  end if;
end
$$;

--
-- Name: goodjob__perform_excess(text, text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__perform_excess(key text, task text, as_of timestamp with time zone) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path TO 'public'
    AS $$
  select greatest(0,
    case when t.perform_limit is not null then
      (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state = 'running'
           limit t.perform_limit + 1000) x) - t.perform_limit end,
    case when t.perform_throttle_limit is not null then
      (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.started_at > as_of - t.perform_throttle_period
           limit t.perform_throttle_limit + 1000) x) - t.perform_throttle_limit end)::int
  from goodjob_tasks t
  where t.name = task
$$;

--
-- Name: goodjob__perform_slots(text, text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__perform_slots(key text, task text, as_of timestamp with time zone) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path TO 'public'
    AS $$
  select least(
    case when t.perform_limit is not null then
      t.perform_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.finished_at is null and j.state = 'running'
           limit t.perform_limit) x) end,
    case when t.perform_throttle_limit is not null then
      t.perform_throttle_limit - (select count(*) from (
          select 1 from goodjob_jobs j
           where j.concurrency_key = key and j.started_at > as_of - t.perform_throttle_period
           limit t.perform_throttle_limit) x) end)::int
  from goodjob_tasks t
  where t.name = task
$$;

--
-- Name: goodjob__queue_is_valid(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__queue_is_valid(queue text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select queue is not null and length(queue) between 1 and 128
         and queue !~ '[,;:*+[:space:]]' and left(queue, 1) <> '-'
$$;

--
-- Name: goodjob__refused_elements(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__refused_elements(jobs jsonb) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  perform pg_advisory_xact_lock(goodjob__lock_class() + 1, x.h)
  from (select distinct hashtext(coalesce(e.job ->> 'concurrency_key', t.name)) as h
          from jsonb_array_elements(jobs) e(job)
          join goodjob_tasks t on t.name = e.job ->> 'task'
         where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null
         order by 1) x;
  return array(
    with elements as (
      select e.ord, coalesce(e.job ->> 'concurrency_key', t.name) as key, t
        from jsonb_array_elements(jobs) with ordinality e(job, ord)
        join goodjob_tasks t on t.name = e.job ->> 'task'
       where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null
         and not exists (select 1 from goodjob_jobs x where x.id = (e.job ->> 'id')::uuid)
    ),
    keys as (
      select distinct on (el.key) el.key, goodjob__enqueue_slots(el.key, el.t) as slots
        from elements el
       order by el.key, el.ord
    )
    select r.ord
      from (select el.ord, k.slots, row_number() over (partition by el.key order by el.ord) as rn
              from elements el join keys k on k.key = el.key) r
     where r.rn > r.slots
     order by r.ord);
end
$$;

--
-- Name: goodjob__set_cron_entry_enabled(text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__set_cron_entry_enabled(key text, enabled boolean) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  perform goodjob__cron_entry(goodjob__set_cron_entry_enabled.key);
  update goodjob_cron_entries c set enabled = goodjob__set_cron_entry_enabled.enabled, updated_at = now()
   where c.key = goodjob__set_cron_entry_enabled.key;
end
$$;

--
-- Name: goodjob__task_is_valid(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob__task_is_valid(task text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select task is not null and length(task) between 1 and 255
$$;

--
-- Name: goodjob_add_batch_jobs(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_add_batch_jobs(batch_id uuid, jobs jsonb) RETURNS SETOF uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  if not exists (select 1 from goodjob_batches b where b.id = goodjob_add_batch_jobs.batch_id) then
    raise exception 'batch % not found', coalesce(goodjob_add_batch_jobs.batch_id::text, 'null')
      using errcode = 'GJ030';
  end if;
  if jsonb_typeof(jobs) is distinct from 'array' then
    return query select * from goodjob_enqueue_many(jobs);  -- raises GJ006
    return;
  end if;
  return query
  select * from goodjob_enqueue_many(
    (select coalesce(jsonb_agg(case when jsonb_typeof(e.job) = 'object'
                                    then e.job || jsonb_build_object('batch_id', goodjob_add_batch_jobs.batch_id)
                                    else e.job end
                               order by e.ord), '[]')
       from jsonb_array_elements(jobs) with ordinality as e(job, ord)));
end
$$;

--
-- Name: FUNCTION goodjob_add_batch_jobs(batch_id uuid, jobs jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_add_batch_jobs(batch_id uuid, jobs jsonb) IS 'Enqueue a JSON array of jobs (as goodjob_enqueue_many) into a batch, in one statement; returns the ids in input order. Adding does not arm the batch (goodjob_enqueue_batch does). Errors: GJ030, and those of goodjob_enqueue_many.';

--
-- Name: goodjob_backoff_seconds(text, double precision, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_backoff_seconds(backoff text, backoff_base double precision, attempt integer) RETURNS double precision
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  select case coalesce(backoff, 'polynomial')
    when 'constant' then coalesce(backoff_base, 3)
    when 'linear' then coalesce(backoff_base, 3) * attempt
    when 'exponential' then
      least(coalesce(backoff_base, 1) * power(2, least(attempt, 40) - 1), 86400 * 7)
        * (1 + random() * 0.15)
    else power(least(attempt, 100), 4) + 2
  end
$$;

--
-- Name: FUNCTION goodjob_backoff_seconds(backoff text, backoff_base double precision, attempt integer); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_backoff_seconds(backoff text, backoff_base double precision, attempt integer) IS 'Seconds to wait after failed attempt N: constant = base (default 3); linear = base * N; exponential = base (default 1) * 2^(N-1) capped at 7 days, plus up to 15% jitter; polynomial (the default) = N^4 + 2.';

--
-- Name: goodjob_cleanup_preserved_jobs(interval, boolean, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_cleanup_preserved_jobs(older_than interval DEFAULT '14 days'::interval, include_discarded boolean DEFAULT true, as_of timestamp with time zone DEFAULT now()) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_total bigint := 0;
  v_chunk int;
  v_cutoff timestamptz;
begin
  if as_of is null then
    raise exception 'invalid as_of null: pass a time or omit it' using errcode = 'GJ013';
  end if;
  if older_than is null or older_than < interval '0' then
    raise exception 'invalid older_than %: must be an interval >= 0', coalesce(older_than::text, 'null')
      using errcode = 'GJ013';
  end if;
  begin
    v_cutoff := as_of - older_than;
  exception when datetime_field_overflow then
    v_cutoff := '-infinity';
  end;
  loop
    with doomed as (
      select j.id from goodjob_jobs j
      where j.state in ('succeeded', 'discarded')
        and (coalesce(include_discarded, true) or j.state = 'succeeded')
        and j.finished_at < v_cutoff
      order by j.finished_at
      limit 1000
      for update skip locked
    ),
    executions_deleted as (
      delete from goodjob_executions e using doomed d where e.job_id = d.id
    ),
    jobs_deleted as (
      delete from goodjob_jobs j using doomed d where j.id = d.id returning 1
    )
    select count(*) into v_chunk from jobs_deleted;
    v_total := v_total + v_chunk;
    exit when v_chunk < 1000;
  end loop;
  -- Then the finished batches no job refers to any more (both lookups are
  -- probes of the partial batch indexes on goodjob_jobs). The counters are
  -- part of the test because they are re-read under the row lock: a member
  -- added by a transaction that committed after this statement's snapshot
  -- raised jobs above succeeded + discarded, so that batch is kept.
  loop
    with doomed as (
      select b.id from goodjob_batches b
      where b.finished_at < v_cutoff
        and b.jobs = b.succeeded + b.discarded
        and not exists (select from goodjob_jobs j where j.batch_id = b.id)
        and not exists (select from goodjob_jobs j where j.batch_callback_id = b.id)
      order by b.finished_at
      limit 1000
      for update skip locked
    ),
    batches_deleted as (
      delete from goodjob_batches b using doomed d where b.id = d.id returning 1
    )
    select count(*) into v_chunk from batches_deleted;
    exit when v_chunk < 1000;
  end loop;
  return v_total;
end
$$;

--
-- Name: FUNCTION goodjob_cleanup_preserved_jobs(older_than interval, include_discarded boolean, as_of timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_cleanup_preserved_jobs(older_than interval, include_discarded boolean, as_of timestamp with time zone) IS 'Delete succeeded (and, unless include_discarded is false, discarded) jobs that finished more than older_than before as_of, with their executions, in chunks of 1,000; then the batches that finished before the same cut-off and that no remaining job belongs to (as a member or a callback). Returns the number of jobs deleted. Errors: GJ013.';

--
-- Name: goodjob_create_batch(text, jsonb, text, text, text, text, integer, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_create_batch(description text DEFAULT NULL::text, properties jsonb DEFAULT '{}'::jsonb, on_finish text DEFAULT NULL::text, on_success text DEFAULT NULL::text, on_discard text DEFAULT NULL::text, callback_queue text DEFAULT NULL::text, callback_priority integer DEFAULT NULL::integer, id uuid DEFAULT NULL::uuid) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_id uuid;
begin
  perform goodjob__check_batch_arguments(goodjob_create_batch.properties, goodjob_create_batch.on_finish,
                                         goodjob_create_batch.on_success, goodjob_create_batch.on_discard,
                                         goodjob_create_batch.callback_queue);
  insert into goodjob_batches as b (id, description, properties, on_finish, on_success, on_discard,
                                    callback_queue, callback_priority)
  values (coalesce(goodjob_create_batch.id, goodjob_uuid_v7()), goodjob_create_batch.description,
          coalesce(goodjob_create_batch.properties, '{}'), goodjob_create_batch.on_finish,
          goodjob_create_batch.on_success, goodjob_create_batch.on_discard,
          goodjob_create_batch.callback_queue, goodjob_create_batch.callback_priority)
  on conflict on constraint goodjob_batches_pkey do nothing
  returning b.id into v_id;
  return coalesce(v_id, goodjob_create_batch.id);
end
$$;

--
-- Name: FUNCTION goodjob_create_batch(description text, properties jsonb, on_finish text, on_success text, on_discard text, callback_queue text, callback_priority integer, id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_create_batch(description text, properties jsonb, on_finish text, on_success text, on_discard text, callback_queue text, callback_priority integer, id uuid) IS 'Create an open batch and return its id. Jobs join it with goodjob_enqueue(batch_id => ...) or goodjob_add_batch_jobs; goodjob_enqueue_batch arms its callbacks. on_finish, on_success, on_discard: task names, enqueued as task(batch_id, {"event": "finish"|"success"|"discard"}) on callback_queue with callback_priority (null: the task''s defaults). A given id that exists returns that batch unchanged. Errors: GJ031.';

--
-- Name: goodjob_define_concurrency(text, integer, integer, integer, integer, interval, integer, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_define_concurrency(task text, total_limit integer DEFAULT NULL::integer, enqueue_limit integer DEFAULT NULL::integer, perform_limit integer DEFAULT NULL::integer, enqueue_throttle_limit integer DEFAULT NULL::integer, enqueue_throttle_period interval DEFAULT NULL::interval, perform_throttle_limit integer DEFAULT NULL::integer, perform_throttle_period interval DEFAULT NULL::interval) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_name text;
  v_value int;
begin
  perform goodjob__check_task(goodjob_define_concurrency.task);
  foreach v_name in array array['total_limit', 'enqueue_limit', 'perform_limit',
                                'enqueue_throttle_limit', 'perform_throttle_limit'] loop
    v_value := case v_name
      when 'total_limit' then goodjob_define_concurrency.total_limit
      when 'enqueue_limit' then goodjob_define_concurrency.enqueue_limit
      when 'perform_limit' then goodjob_define_concurrency.perform_limit
      when 'enqueue_throttle_limit' then goodjob_define_concurrency.enqueue_throttle_limit
      else goodjob_define_concurrency.perform_throttle_limit
    end;
    if v_value < 1 then
      raise exception 'invalid % %: must be at least 1', v_name, v_value
        using errcode = 'GJ020', hint = 'Pass null for no limit.';
    end if;
  end loop;
  if (enqueue_throttle_limit is null) <> (enqueue_throttle_period is null)
     or (perform_throttle_limit is null) <> (perform_throttle_period is null) then
    raise exception 'invalid throttle for task %: give both the number of jobs and the period, or neither',
      quote_literal(goodjob_define_concurrency.task) using errcode = 'GJ020';
  end if;
  if enqueue_throttle_period <= interval '0' or perform_throttle_period <= interval '0' then
    raise exception 'invalid throttle period %: must be positive',
      coalesce(least(enqueue_throttle_period, perform_throttle_period)::text, 'null')
      using errcode = 'GJ020';
  end if;

  insert into goodjob_tasks as t (name, total_limit, enqueue_limit, perform_limit,
                                  enqueue_throttle_limit, enqueue_throttle_period,
                                  perform_throttle_limit, perform_throttle_period)
  values (goodjob_define_concurrency.task, goodjob_define_concurrency.total_limit,
          goodjob_define_concurrency.enqueue_limit, goodjob_define_concurrency.perform_limit,
          goodjob_define_concurrency.enqueue_throttle_limit, goodjob_define_concurrency.enqueue_throttle_period,
          goodjob_define_concurrency.perform_throttle_limit, goodjob_define_concurrency.perform_throttle_period)
  on conflict on constraint goodjob_tasks_pkey do update
    set total_limit = excluded.total_limit, enqueue_limit = excluded.enqueue_limit,
        perform_limit = excluded.perform_limit,
        enqueue_throttle_limit = excluded.enqueue_throttle_limit,
        enqueue_throttle_period = excluded.enqueue_throttle_period,
        perform_throttle_limit = excluded.perform_throttle_limit,
        perform_throttle_period = excluded.perform_throttle_period, updated_at = now()
    where (t.total_limit, t.enqueue_limit, t.perform_limit, t.enqueue_throttle_limit,
           t.enqueue_throttle_period, t.perform_throttle_limit, t.perform_throttle_period)
          is distinct from
          (excluded.total_limit, excluded.enqueue_limit, excluded.perform_limit,
           excluded.enqueue_throttle_limit, excluded.enqueue_throttle_period,
           excluded.perform_throttle_limit, excluded.perform_throttle_period);
end
$$;

--
-- Name: FUNCTION goodjob_define_concurrency(task text, total_limit integer, enqueue_limit integer, perform_limit integer, enqueue_throttle_limit integer, enqueue_throttle_period interval, perform_throttle_limit integer, perform_throttle_period interval); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_define_concurrency(task text, total_limit integer, enqueue_limit integer, perform_limit integer, enqueue_throttle_limit integer, enqueue_throttle_period interval, perform_throttle_limit integer, perform_throttle_period interval) IS 'Set the concurrency limits of a task (null: no limit; all null: no control). Per concurrency key (the job''s concurrency_key, else the task name): total_limit unfinished jobs, enqueue_limit jobs waiting to run, enqueue_throttle_limit jobs enqueued per enqueue_throttle_period (checked at enqueue: an enqueue over a limit writes nothing and returns null); perform_limit jobs running at once, perform_throttle_limit jobs started per perform_throttle_period (checked at fetch: the job waits, keeping its place). Keeps the task''s other defaults. Errors: GJ001, GJ020.';

--
-- Name: goodjob_define_cron_entry(text, text, text, jsonb, jsonb, text, integer, text[], text, boolean, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_define_cron_entry(key text, schedule text, task text, args jsonb DEFAULT NULL::jsonb, kwargs jsonb DEFAULT NULL::jsonb, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, labels text[] DEFAULT NULL::text[], description text DEFAULT NULL::text, enabled_by_default boolean DEFAULT true, next_run_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  if goodjob_define_cron_entry.key is null or length(goodjob_define_cron_entry.key) not between 1 and 255 then
    raise exception 'invalid cron key %: must be 1 to 255 characters',
      coalesce(quote_literal(goodjob_define_cron_entry.key), 'null') using errcode = 'GJ015';
  end if;
  if nullif(btrim(goodjob_define_cron_entry.schedule), '') is null then
    raise exception 'invalid schedule % for cron entry %: pass the cron expression',
      coalesce(quote_literal(goodjob_define_cron_entry.schedule), 'null'),
      quote_literal(goodjob_define_cron_entry.key) using errcode = 'GJ015';
  end if;
  perform goodjob__check_task(goodjob_define_cron_entry.task);
  perform goodjob__check_args(coalesce(goodjob_define_cron_entry.args, '[]'),
                              coalesce(goodjob_define_cron_entry.kwargs, '{}'));
  perform goodjob__check_queue_or_null(goodjob_define_cron_entry.queue);

  insert into goodjob_cron_entries as c (key, schedule, task, args, kwargs, queue, priority, labels,
                                         description, enabled_by_default, next_run_at)
  values (goodjob_define_cron_entry.key, goodjob_define_cron_entry.schedule, goodjob_define_cron_entry.task,
          goodjob_define_cron_entry.args, goodjob_define_cron_entry.kwargs, goodjob_define_cron_entry.queue,
          goodjob_define_cron_entry.priority,
          case when goodjob_define_cron_entry.labels is not null
               then goodjob__check_labels(goodjob_define_cron_entry.labels) end,
          goodjob_define_cron_entry.description, coalesce(goodjob_define_cron_entry.enabled_by_default, true),
          goodjob_define_cron_entry.next_run_at)
  on conflict on constraint goodjob_cron_entries_pkey do update
    set schedule = excluded.schedule, task = excluded.task, args = excluded.args, kwargs = excluded.kwargs,
        queue = excluded.queue, priority = excluded.priority, labels = excluded.labels,
        description = excluded.description, enabled_by_default = excluded.enabled_by_default,
        next_run_at = coalesce(excluded.next_run_at, c.next_run_at), updated_at = now();
end
$$;

--
-- Name: FUNCTION goodjob_define_cron_entry(key text, schedule text, task text, args jsonb, kwargs jsonb, queue text, priority integer, labels text[], description text, enabled_by_default boolean, next_run_at timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_define_cron_entry(key text, schedule text, task text, args jsonb, kwargs jsonb, queue text, priority integer, labels text[], description text, enabled_by_default boolean, next_run_at timestamp with time zone) IS 'Create or update a cron entry: its schedule (as text, for display), task, args, kwargs, queue, priority, labels (null: computed by Python at each tick, or the task''s defaults), description and enabled_by_default. An operator''s enable/disable and the run history are kept. Errors: GJ015, GJ001, GJ002, GJ003, GJ004, GJ006.';

--
-- Name: goodjob_define_task(text, text, integer, integer, text, double precision, text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_define_task(name text, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, max_attempts integer DEFAULT NULL::integer, backoff text DEFAULT NULL::text, backoff_base double precision DEFAULT NULL::double precision, preserve text DEFAULT NULL::text, labels text[] DEFAULT NULL::text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  perform goodjob__check_task(goodjob_define_task.name);
  if goodjob_define_task.queue is not null then
    perform goodjob__check_queue(goodjob_define_task.queue);
  end if;
  perform goodjob__check_max_attempts(goodjob_define_task.max_attempts);
  if goodjob_define_task.backoff is not null
     and goodjob_define_task.backoff not in ('constant', 'linear', 'exponential', 'polynomial') then
    raise exception 'invalid backoff %', quote_literal(goodjob_define_task.backoff)
      using errcode = 'GJ012', hint = 'Use constant, linear, exponential or polynomial.';
  end if;
  if goodjob_define_task.backoff_base < 0 or goodjob_define_task.backoff_base = 'NaN'::float8
     or goodjob_define_task.backoff_base = 'Infinity'::float8 then
    raise exception 'invalid backoff_base %: must be a finite number of seconds >= 0',
      goodjob_define_task.backoff_base using errcode = 'GJ012';
  end if;
  if goodjob_define_task.preserve is not null
     and goodjob_define_task.preserve not in ('always', 'on_discard', 'never') then
    raise exception 'invalid preserve %', quote_literal(goodjob_define_task.preserve)
      using errcode = 'GJ012', hint = 'Use always, on_discard or never.';
  end if;

  insert into goodjob_tasks as t (name, queue, priority, max_attempts, backoff, backoff_base, preserve, labels)
  values (goodjob_define_task.name, goodjob_define_task.queue, goodjob_define_task.priority,
          goodjob_define_task.max_attempts, goodjob_define_task.backoff, goodjob_define_task.backoff_base,
          goodjob_define_task.preserve, goodjob__check_labels(goodjob_define_task.labels))
  on conflict on constraint goodjob_tasks_pkey do update
    set queue = excluded.queue, priority = excluded.priority, max_attempts = excluded.max_attempts,
        backoff = excluded.backoff, backoff_base = excluded.backoff_base,
        preserve = excluded.preserve, labels = excluded.labels, updated_at = now()
    where (t.queue, t.priority, t.max_attempts, t.backoff, t.backoff_base, t.preserve, t.labels)
          is distinct from
          (excluded.queue, excluded.priority, excluded.max_attempts, excluded.backoff,
           excluded.backoff_base, excluded.preserve, excluded.labels);
end
$$;

--
-- Name: FUNCTION goodjob_define_task(name text, queue text, priority integer, max_attempts integer, backoff text, backoff_base double precision, preserve text, labels text[]); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_define_task(name text, queue text, priority integer, max_attempts integer, backoff text, backoff_base double precision, preserve text, labels text[]) IS 'Create or replace the defaults of a task: queue, priority, max_attempts, backoff (constant, linear, exponential, polynomial) with backoff_base seconds, preserve (always, on_discard, never), labels. Jobs enqueued without these options take them. Errors: GJ001, GJ004, GJ005, GJ006, GJ012.';

--
-- Name: goodjob_delete_job(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_delete_job(id uuid) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET lock_timeout TO '5s'
    AS $$
declare
  v_state text;
begin
  select j.state into v_state from goodjob_jobs j where j.id = goodjob_delete_job.id for update;
  if not found then
    raise exception 'job % not found', coalesce(goodjob_delete_job.id::text, 'null')
      using errcode = 'GJ010';
  end if;
  if v_state not in ('succeeded', 'discarded') then
    raise exception 'cannot delete job %: it is %', goodjob_delete_job.id, v_state
      using errcode = 'GJ011',
            hint = 'Only succeeded or discarded jobs can be deleted; discard a waiting job first.';
  end if;
  delete from goodjob_executions e where e.job_id = goodjob_delete_job.id;
  delete from goodjob_jobs j where j.id = goodjob_delete_job.id;
  return goodjob_delete_job.id;
end
$$;

--
-- Name: FUNCTION goodjob_delete_job(id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_delete_job(id uuid) IS 'Delete a succeeded or discarded job and its executions. Returns the id. Errors: GJ010 not found, GJ011 not finished, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';

--
-- Name: goodjob_deregister_process(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_deregister_process(process_id uuid) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_lease int;
  v_count int;
begin
  delete from goodjob_processes p where p.id = goodjob_deregister_process.process_id
  returning p.lease_key into v_lease;
  delete from goodjob_waiting_pools w where w.process_id = goodjob_deregister_process.process_id;
  v_count := goodjob__interrupt_jobs(array[goodjob_deregister_process.process_id],
                                     'interrupted: the worker shut down before the job finished');
  -- Release the lease when this session holds it (another session calling
  -- this for a live process removes the row; that process's next heartbeat
  -- returns false and it registers again).
  if v_lease is not null and exists (
       select 1 from pg_catalog.pg_locks l
        where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.classid = goodjob__lock_class()
          and l.objid = v_lease::oid and l.objsubid = 2 and l.granted) then
    perform pg_advisory_unlock(goodjob__lock_class(), v_lease);
  end if;
  return v_count;
end
$$;

--
-- Name: FUNCTION goodjob_deregister_process(process_id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_deregister_process(process_id uuid) IS 'Deregister a process leaving cleanly: its running jobs are made ready again (the interrupted attempt counts), its row is deleted and its lease released. Returns the number of jobs interrupted.';

--
-- Name: goodjob_disable_cron_entry(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_disable_cron_entry(key text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  select goodjob__set_cron_entry_enabled(key, false)
$$;

--
-- Name: FUNCTION goodjob_disable_cron_entry(key text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_disable_cron_entry(key text) IS 'Disable a cron entry for every process: its ticks enqueue nothing until it is enabled again. goodjob_run_cron_entry still works. Errors: GJ014 unknown entry.';

--
-- Name: goodjob_discard_job(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_discard_job(id uuid, reason text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET lock_timeout TO '5s'
    AS $$
begin
  update goodjob_jobs j
     set state = 'discarded', finished_at = now(),
         last_error = coalesce(goodjob_discard_job.reason, 'discarded by an operator')
   where j.id = goodjob_discard_job.id and j.state in ('scheduled', 'queued');
  if not found then
    perform goodjob__job_state_error(goodjob_discard_job.id, 'discard', 'scheduled or queued');
  end if;
  return goodjob_discard_job.id;
end
$$;

--
-- Name: FUNCTION goodjob_discard_job(id uuid, reason text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_discard_job(id uuid, reason text) IS 'Discard a scheduled or queued job, recording the reason as its last_error. The row is kept. Returns the id. Errors: GJ010 not found, GJ011 running or finished, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';

--
-- Name: goodjob_enable_cron_entry(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_enable_cron_entry(key text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  select goodjob__set_cron_entry_enabled(key, true)
$$;

--
-- Name: FUNCTION goodjob_enable_cron_entry(key text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_enable_cron_entry(key text) IS 'Enable a cron entry for every process (overrides enabled_by_default). Ticks missed while it was disabled are not enqueued. Errors: GJ014 unknown entry.';

--
-- Name: goodjob_enqueue(text, jsonb, jsonb, text, integer, timestamp with time zone, text[], text, uuid, integer, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_enqueue(task text, args jsonb DEFAULT '[]'::jsonb, kwargs jsonb DEFAULT '{}'::jsonb, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, labels text[] DEFAULT NULL::text[], concurrency_key text DEFAULT NULL::text, batch_id uuid DEFAULT NULL::uuid, max_attempts integer DEFAULT NULL::integer, id uuid DEFAULT NULL::uuid) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_def goodjob_tasks%rowtype;
  v_id uuid;
  v_run_at timestamptz := coalesce(goodjob_enqueue.run_at, now());
  v_queue text;
  v_max_attempts int;
  v_labels text[];
  v_key text := goodjob_enqueue.concurrency_key;
begin
  if not goodjob__task_is_valid(goodjob_enqueue.task) then
    perform goodjob__check_task(goodjob_enqueue.task);
  end if;
  if jsonb_typeof(goodjob_enqueue.args) is distinct from 'array'
     or jsonb_typeof(goodjob_enqueue.kwargs) is distinct from 'object' then
    perform goodjob__check_args(goodjob_enqueue.args, goodjob_enqueue.kwargs);
  end if;
  select * into v_def from goodjob_tasks t where t.name = goodjob_enqueue.task;
  v_queue := coalesce(goodjob_enqueue.queue, v_def.queue, 'default');
  if not goodjob__queue_is_valid(v_queue) then
    perform goodjob__check_queue(v_queue);
  end if;
  v_max_attempts := coalesce(goodjob_enqueue.max_attempts, v_def.max_attempts, 25);
  if v_max_attempts < 1 then
    perform goodjob__check_max_attempts(v_max_attempts);
  end if;
  v_labels := coalesce(goodjob_enqueue.labels, v_def.labels, '{}');
  if cardinality(v_labels) > 0 then
    v_labels := goodjob__check_labels(v_labels);
  end if;
  if v_key is not null and (length(v_key) = 0 or length(v_key) > 255) then
    perform goodjob__check_concurrency_key(v_key);
  end if;

  if coalesce(v_def.total_limit, v_def.enqueue_limit, v_def.perform_limit,
              v_def.enqueue_throttle_limit, v_def.perform_throttle_limit) is not null then
    v_key := coalesce(v_key, goodjob_enqueue.task);
    if coalesce(v_def.total_limit, v_def.enqueue_limit, v_def.enqueue_throttle_limit) is not null then
      perform pg_advisory_xact_lock(goodjob__lock_class() + 1, hashtext(v_key));
      if goodjob__enqueue_slots(v_key, v_def) < 1 then
        if goodjob_enqueue.id is not null
           and exists (select 1 from goodjob_jobs j where j.id = goodjob_enqueue.id) then
          return goodjob_enqueue.id;
        end if;
        return null;
      end if;
    end if;
  end if;

  insert into goodjob_jobs as j (id, task, args, kwargs, queue, priority, run_at, state,
                                 max_attempts, labels, concurrency_key, batch_id)
  values (
    coalesce(goodjob_enqueue.id, goodjob_uuid_v7()),
    goodjob_enqueue.task,
    goodjob_enqueue.args,
    goodjob_enqueue.kwargs,
    v_queue,
    coalesce(goodjob_enqueue.priority, v_def.priority, 0),
    v_run_at,
    case when v_run_at > now() then 'scheduled' else 'queued' end,
    v_max_attempts,
    v_labels,
    v_key,
    goodjob_enqueue.batch_id
  )
  on conflict on constraint goodjob_jobs_pkey do nothing
  returning j.id into v_id;

  return coalesce(v_id, goodjob_enqueue.id);
end
$$;

--
-- Name: FUNCTION goodjob_enqueue(task text, args jsonb, kwargs jsonb, queue text, priority integer, run_at timestamp with time zone, labels text[], concurrency_key text, batch_id uuid, max_attempts integer, id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_enqueue(task text, args jsonb, kwargs jsonb, queue text, priority integer, run_at timestamp with time zone, labels text[], concurrency_key text, batch_id uuid, max_attempts integer, id uuid) IS 'Enqueue one job and return its id. Null options take the task definition''s defaults, then queue ''default'', priority 0 (smaller runs first), max_attempts 25. run_at in the future makes the job scheduled. A given id that already exists returns that job unchanged (idempotent enqueue). A task with concurrency limits (goodjob_define_concurrency) keys the job by concurrency_key, else by the task name; over its total_limit, enqueue_limit or enqueue_throttle nothing is written and the result is null. Errors: GJ001 task, GJ002 args, GJ003 kwargs, GJ004 queue, GJ005 max_attempts, GJ006 labels, GJ021 concurrency_key.';

--
-- Name: goodjob_enqueue_batch(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_enqueue_batch(id uuid, properties jsonb DEFAULT NULL::jsonb) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  perform goodjob__check_batch_arguments(goodjob_enqueue_batch.properties, null, null, null, null);
  perform goodjob__locked_batch(goodjob_enqueue_batch.id);
  update goodjob_batches b
     set properties = b.properties || coalesce(goodjob_enqueue_batch.properties, '{}'),
         enqueued_at = now(), finished_at = null
   where b.id = goodjob_enqueue_batch.id;
  perform goodjob__fire_batch_callbacks(goodjob_enqueue_batch.id);
  return goodjob_enqueue_batch.id;
end
$$;

--
-- Name: FUNCTION goodjob_enqueue_batch(id uuid, properties jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_enqueue_batch(id uuid, properties jsonb) IS 'Arm (or re-arm) a batch''s callbacks: merge properties into the batch''s, set enqueued_at, clear finished_at. When no job is pending, on_finish (and on_success if none was discarded) are enqueued at once; a discard before arming enqueues on_discard now. Otherwise the last job''s result enqueues them, in its own transaction. Returns the id. Errors: GJ030, GJ031.';

--
-- Name: goodjob_enqueue_cron_tick(text, timestamp with time zone, timestamp with time zone, jsonb, jsonb, text, integer, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_enqueue_cron_tick(key text, cron_at timestamp with time zone, next_run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, args jsonb DEFAULT NULL::jsonb, kwargs jsonb DEFAULT NULL::jsonb, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, labels text[] DEFAULT NULL::text[]) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_entry goodjob_cron_entries;
begin
  if goodjob_enqueue_cron_tick.cron_at is null then
    raise exception 'invalid cron_at null: pass the tick''s scheduled time' using errcode = 'GJ015';
  end if;
  v_entry := goodjob__cron_entry(goodjob_enqueue_cron_tick.key);
  update goodjob_cron_entries c
     set next_run_at = coalesce(goodjob_enqueue_cron_tick.next_run_at, c.next_run_at),
         last_tick_at = greatest(c.last_tick_at, goodjob_enqueue_cron_tick.cron_at)
   where c.key = v_entry.key;
  if v_entry.last_tick_at >= goodjob_enqueue_cron_tick.cron_at
     or not coalesce(v_entry.enabled, v_entry.enabled_by_default)
     or exists (select 1 from goodjob_jobs j
                 where j.cron_key = v_entry.key and j.cron_at = goodjob_enqueue_cron_tick.cron_at) then
    return null;
  end if;
  return goodjob__enqueue_for_cron(v_entry, goodjob_enqueue_cron_tick.cron_at, goodjob_enqueue_cron_tick.cron_at,
                                   goodjob_enqueue_cron_tick.args, goodjob_enqueue_cron_tick.kwargs,
                                   goodjob_enqueue_cron_tick.queue, goodjob_enqueue_cron_tick.priority,
                                   goodjob_enqueue_cron_tick.labels);
end
$$;

--
-- Name: FUNCTION goodjob_enqueue_cron_tick(key text, cron_at timestamp with time zone, next_run_at timestamp with time zone, args jsonb, kwargs jsonb, queue text, priority integer, labels text[]); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_enqueue_cron_tick(key text, cron_at timestamp with time zone, next_run_at timestamp with time zone, args jsonb, kwargs jsonb, queue text, priority integer, labels text[]) IS 'Enqueue the job of one cron tick (cron_key = key, cron_at = run_at = cron_at) unless that tick, or a later one, was already handled or the entry is disabled: then return null. Safe to call from any number of processes: each tick becomes one job. Non-null args, kwargs, queue, priority, labels replace the stored ones. Errors: GJ014, GJ015, GJ016, and those of goodjob_enqueue.';

--
-- Name: goodjob_enqueue_many(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_enqueue_many(jobs jsonb) RETURNS SETOF uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $_$
declare
  v_prefix text := left(goodjob_uuid_v7()::text, 15);
  v_refused bigint[] := '{}';
begin
  if jsonb_typeof(jobs) is distinct from 'array' then
    raise exception 'invalid jobs %: must be a JSON array of job objects',
      coalesce(left(jobs::text, 80), 'null') using errcode = 'GJ006';
  end if;

  if exists (
    select 1 from jsonb_array_elements(jobs) as e(job)
    where jsonb_typeof(e.job) <> 'object'
       or e.job - '{task,args,kwargs,queue,priority,run_at,labels,concurrency_key,batch_id,max_attempts,id}'::text[]
          <> '{}'::jsonb
       or coalesce(jsonb_typeof(e.job -> 'task'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'queue'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'concurrency_key'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'run_at'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'id'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'batch_id'), 'null') not in ('string', 'null')
       or coalesce(jsonb_typeof(e.job -> 'priority'), 'null') not in ('number', 'null')
       or coalesce(jsonb_typeof(e.job -> 'max_attempts'), 'null') not in ('number', 'null')
       or coalesce(jsonb_typeof(e.job -> 'args'), 'null') not in ('array', 'null')
       or coalesce(jsonb_typeof(e.job -> 'kwargs'), 'null') not in ('object', 'null')
       or coalesce(jsonb_typeof(e.job -> 'labels'), 'null') not in ('array', 'null')
       or (jsonb_typeof(e.job -> 'labels') = 'array'
           and jsonb_path_exists(e.job -> 'labels', '$[*] ? (@.type() != "string")'))) then
    perform goodjob__diagnose_jobs(jobs);
  end if;

  -- A value that does not parse (an id that is no uuid, a run_at that is no
  -- time, a priority out of range) surfaces as GJ006, naming the element.
  begin
    if exists (select 1 from goodjob_tasks t
                where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null)
       and exists (select 1 from jsonb_array_elements(jobs) e(job)
                     join goodjob_tasks t on t.name = e.job ->> 'task'
                    where coalesce(t.total_limit, t.enqueue_limit, t.enqueue_throttle_limit) is not null) then
      v_refused := goodjob__refused_elements(jobs);
    end if;

    return query
    with input as (
      select r.*
      from rows from (jsonb_to_recordset(jobs)
                      as (task text, args jsonb, kwargs jsonb, queue text, priority int,
                          run_at timestamptz, labels text[], concurrency_key text,
                          batch_id uuid, max_attempts int, id uuid))
           with ordinality as r(task, args, kwargs, queue, priority, run_at, labels,
                                concurrency_key, batch_id, max_attempts, id, ord)
    ),
    prepared as (
      select i.ord,
             -- v7 ids: this call's millisecond prefix over random uuids
             coalesce(i.id, overlay(gen_random_uuid()::text placing v_prefix from 1 for 15)::uuid) as id,
             case when goodjob__task_is_valid(i.task) then i.task else goodjob__check_task(i.task) end as task,
             coalesce(i.args, '[]') as args,
             coalesce(i.kwargs, '{}') as kwargs,
             coalesce(i.queue, t.queue, 'default') as queue,
             coalesce(i.priority, t.priority, 0) as priority,
             coalesce(i.run_at, now()) as run_at,
             coalesce(i.max_attempts, t.max_attempts, 25) as max_attempts,
             coalesce(i.labels, t.labels, '{}') as labels,
             coalesce(case when i.concurrency_key is null or length(i.concurrency_key) between 1 and 255
                           then i.concurrency_key else goodjob__check_concurrency_key(i.concurrency_key) end,
                      case when coalesce(t.total_limit, t.enqueue_limit, t.perform_limit,
                                         t.enqueue_throttle_limit, t.perform_throttle_limit) is not null
                           then i.task end) as concurrency_key,
             i.batch_id
      from input i
      left join goodjob_tasks t on t.name = i.task
    ),
    inserted as (
      insert into goodjob_jobs as j (id, task, args, kwargs, queue, priority, run_at, state,
                                     max_attempts, labels, concurrency_key, batch_id)
      select p.id, p.task, p.args, p.kwargs,
             case when goodjob__queue_is_valid(p.queue) then p.queue else goodjob__check_queue(p.queue) end,
             p.priority, p.run_at,
             case when p.run_at > now() then 'scheduled' else 'queued' end,
             case when p.max_attempts >= 1 then p.max_attempts
                  else goodjob__check_max_attempts(p.max_attempts) end,
             case when cardinality(p.labels) = 0 then p.labels else goodjob__check_labels(p.labels) end,
             p.concurrency_key, p.batch_id
      from prepared p
      where p.ord <> all(v_refused)
      order by p.ord
      on conflict on constraint goodjob_jobs_pkey do nothing
    )
    select case when p.ord = any(v_refused) then null else p.id end from prepared p order by p.ord;
  exception
    when invalid_text_representation or invalid_datetime_format or datetime_field_overflow
         or numeric_value_out_of_range then
      perform goodjob__diagnose_jobs(jobs);
      raise exception 'invalid job: %', sqlerrm
        using errcode = 'GJ006',
              hint = 'id and batch_id are uuids; run_at is an ISO 8601 time with a UTC offset.';
  end;
end
$_$;

--
-- Name: FUNCTION goodjob_enqueue_many(jobs jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_enqueue_many(jobs jsonb) IS 'Enqueue a JSON array of jobs (objects with goodjob_enqueue''s argument names) in one statement, all or nothing; returns the ids in input order, null for a job refused by its task''s concurrency limits (see goodjob_enqueue). One NOTIFY per queue. Errors: GJ006 for a malformed element, and those of goodjob_enqueue (GJ021 for a bad concurrency_key).';

--
-- Name: goodjob_fail_job(uuid, uuid, integer, text, text, text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_fail_job(id uuid, process_id uuid, attempt integer, error_class text, error_message text, error_backtrace text DEFAULT NULL::text, discard boolean DEFAULT false) RETURNS text
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  select case when o.accepted then o.state end
  from goodjob_report_results(goodjob_fail_job.process_id,
         jsonb_build_array(jsonb_build_object(
           'id', goodjob_fail_job.id, 'attempt', goodjob_fail_job.attempt,
           'outcome', case when goodjob_fail_job.discard then 'discarded' else 'failed' end,
           'error_class', goodjob_fail_job.error_class, 'error_message', goodjob_fail_job.error_message,
           'error_backtrace', goodjob_fail_job.error_backtrace))) o
$$;

--
-- Name: FUNCTION goodjob_fail_job(id uuid, process_id uuid, attempt integer, error_class text, error_message text, error_backtrace text, discard boolean); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_fail_job(id uuid, process_id uuid, attempt integer, error_class text, error_message text, error_backtrace text, discard boolean) IS 'Report that attempt N of a job failed; with discard => true the job is discarded now, otherwise the retry policy decides. Returns the new state (scheduled or discarded), or null when the result was refused.';

--
-- Name: goodjob_jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_jobs (
    id uuid DEFAULT public.goodjob_uuid_v7() NOT NULL,
    task text NOT NULL,
    args jsonb DEFAULT '[]'::jsonb NOT NULL,
    kwargs jsonb DEFAULT '{}'::jsonb NOT NULL,
    queue text DEFAULT 'default'::text NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    run_at timestamp with time zone DEFAULT now() NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 25 NOT NULL,
    labels text[] DEFAULT '{}'::text[] NOT NULL,
    concurrency_key text,
    batch_id uuid,
    cron_key text,
    cron_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    last_error text,
    locked_by uuid,
    trace_context jsonb,
    batch_callback_id uuid,
    CONSTRAINT goodjob_jobs_args_is_array CHECK ((jsonb_typeof(args) = 'array'::text)),
    CONSTRAINT goodjob_jobs_attempts_not_negative CHECK ((attempts >= 0)),
    CONSTRAINT goodjob_jobs_finished_has_time CHECK (((state = ANY (ARRAY['succeeded'::text, 'discarded'::text])) = (finished_at IS NOT NULL))),
    CONSTRAINT goodjob_jobs_kwargs_is_object CHECK ((jsonb_typeof(kwargs) = 'object'::text)),
    CONSTRAINT goodjob_jobs_max_attempts_positive CHECK ((max_attempts >= 1)),
    CONSTRAINT goodjob_jobs_queue_length CHECK (((length(queue) >= 1) AND (length(queue) <= 128))),
    CONSTRAINT goodjob_jobs_running_has_process CHECK (((state = 'running'::text) = (locked_by IS NOT NULL))),
    CONSTRAINT goodjob_jobs_state_known CHECK ((state = ANY (ARRAY['scheduled'::text, 'queued'::text, 'running'::text, 'succeeded'::text, 'discarded'::text]))),
    CONSTRAINT goodjob_jobs_task_length CHECK (((length(task) >= 1) AND (length(task) <= 255)))
)
WITH (fillfactor='80', autovacuum_vacuum_scale_factor='0.02', autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02', autovacuum_vacuum_cost_limit='2000', autovacuum_vacuum_cost_delay='1');

--
-- Name: COLUMN goodjob_jobs.trace_context; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.goodjob_jobs.trace_context IS 'W3C Trace Context carrier of the enqueue ({"traceparent": "00-...", "tracestate": "..."}), or null.';

--
-- Name: goodjob_fetch_and_lock(uuid, text, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_fetch_and_lock(process_id uuid, queues text DEFAULT '*'::text, max_jobs integer DEFAULT 1, as_of timestamp with time zone DEFAULT now()) RETURNS SETOF public.goodjob_jobs
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET plan_cache_mode TO 'force_generic_plan'
    SET jit TO 'off'
    AS $$
declare
  v_mode text;
  v_names text[];
  v_paused_queues text[];
  v_paused_tasks text[];
  v_paused_labels text[];
  v_limited_tasks text[];
  v_claimed goodjob_jobs[];
  v_batch goodjob_jobs[];
  v_seen bigint;
  v_want int;
  v_put_back uuid[];
begin
  if max_jobs is null or max_jobs < 1 or max_jobs > 1000 then
    raise exception 'invalid max_jobs %: must be between 1 and 1000', coalesce(max_jobs::text, 'null')
      using errcode = 'GJ008';
  end if;
  if as_of is null or not isfinite(as_of) then
    raise exception 'invalid as_of %: pass a finite time or omit it', coalesce(as_of::text, 'null')
      using errcode = 'GJ013';
  end if;
  if not exists (select 1 from goodjob_processes p where p.id = goodjob_fetch_and_lock.process_id) then
    raise exception 'unknown process %', coalesce(goodjob_fetch_and_lock.process_id::text, 'null')
      using errcode = 'GJ009', hint = 'Call goodjob_register_process first (or again, after a rescue).';
  end if;
  select p.mode, p.names into v_mode, v_names from goodjob__parse_queues(queues) p;

  update goodjob_jobs j set state = 'queued'
   where j.id in (select s.id from goodjob_jobs s
                   where s.state = 'scheduled' and s.run_at <= as_of
                   order by s.run_at
                   limit 1000
                   for update skip locked);

  select array_agg(ps.name) filter (where ps.kind = 'queue'),
         array_agg(ps.name) filter (where ps.kind = 'task'),
         array_agg(ps.name) filter (where ps.kind = 'label'),
         (select array_agg(t.name) from goodjob_tasks t
           where t.perform_limit is not null or t.perform_throttle_limit is not null)
    into v_paused_queues, v_paused_tasks, v_paused_labels, v_limited_tasks
    from goodjob_pauses ps;

  -- '*' and '-a,b' walk the per-queue index once per known queue: one index
  -- for every selector, and a queue list never filters a shared index.
  if v_mode in ('all', 'except') then
    v_names := array(select q.name from goodjob_queues q where q.name <> all(v_names) order by q.name);
  end if;
  if v_paused_queues is not null then
    v_names := array(select n from unnest(v_names) with ordinality as x(n, ord)
                     where n <> all(v_paused_queues) order by ord);
  end if;

  if v_limited_tasks is null then
    return query
    with candidates as materialized (
      select c.id
      from unnest(v_names) with ordinality as q(name, ord)
      cross join lateral (
        select j.id, j.priority, j.run_at
        from goodjob_jobs j
        where j.state = 'queued' and j.queue = q.name
          and (v_paused_tasks is null or j.task <> all(v_paused_tasks))
          and (v_paused_labels is null or not j.labels && v_paused_labels)
        order by j.priority, j.run_at, j.id
        limit max_jobs
        for update skip locked
      ) c
      order by case when v_mode = 'ordered' then q.ord else 0 end, c.priority, c.run_at, c.id
      limit max_jobs
    ),
    claimed as (
      update goodjob_jobs j
         set state = 'running', attempts = j.attempts + 1, started_at = as_of,
             locked_by = goodjob_fetch_and_lock.process_id
        from candidates c
       where j.id = c.id
      returning j.*
    )
    -- Return the rows in claim order: for '+a,b' that is queue order first.
    select * from claimed c
    order by case when v_mode = 'ordered' then array_position(v_names, c.queue) else 0 end,
             c.priority, c.run_at, c.id;
    return;
  end if;

  -- Some task has perform limits. Claim as above, passing over jobs whose
  -- key has no free slot as far as this snapshot shows, and taking at most
  -- a key's free slots within the batch. When that cap left the batch short,
  -- claim again for the rest: the next statement sees this one's claims, so
  -- the keys just filled are passed over (rows capped out stay locked by
  -- this transaction until it ends, so no other fetch takes them meanwhile).
  v_claimed := '{}';
  v_want := max_jobs;
  for v_round in 1..10 loop
    with candidates as materialized (
      select c.id, c.concurrency_key, c.priority, c.run_at, c.slots
      from unnest(v_names) with ordinality as q(name, ord)
      cross join lateral (
        select j.id, j.priority, j.run_at, j.concurrency_key,
               case when j.concurrency_key is not null and j.task = any(v_limited_tasks)
                    then goodjob__perform_slots(j.concurrency_key, j.task, as_of) end as slots
        from goodjob_jobs j
        where j.state = 'queued' and j.queue = q.name
          and (v_paused_tasks is null or j.task <> all(v_paused_tasks))
          and (v_paused_labels is null or not j.labels && v_paused_labels)
          and (j.concurrency_key is null or j.task <> all(v_limited_tasks)
               or goodjob__perform_slots(j.concurrency_key, j.task, as_of) > 0)
        order by j.priority, j.run_at, j.id
        limit v_want
        for update skip locked
      ) c
      order by case when v_mode = 'ordered' then q.ord else 0 end, c.priority, c.run_at, c.id
      limit v_want
    ),
    admitted as (
      select c.id
      from (select c.id, c.slots,
                   row_number() over (partition by c.concurrency_key
                                      order by c.priority, c.run_at, c.id) as rn
              from candidates c) c
      where c.slots is null or c.rn <= c.slots
    ),
    claimed as (
      update goodjob_jobs j
         set state = 'running', attempts = j.attempts + 1, started_at = as_of,
             locked_by = goodjob_fetch_and_lock.process_id
        from admitted c
       where j.id = c.id
      returning j.*
    )
    select coalesce((select array_agg(c) from claimed c), '{}'), (select count(*) from candidates)
      into v_batch, v_seen;
    v_claimed := v_claimed || v_batch;
    exit when v_seen = cardinality(v_batch) or cardinality(v_claimed) >= max_jobs;
    v_want := max_jobs - cardinality(v_claimed);
  end loop;

  -- Another fetch may have claimed the same keys meanwhile, unseen by this
  -- snapshot. For each limited key claimed, in hash order, take its lock
  -- and count again with a fresh snapshot: it sees this fetch's claims and
  -- those of every fetch that held the key before (they committed), so the
  -- later of two racing fetches finds the excess and puts its own newest
  -- claims of the key back, untouched: queued, the attempt not counted,
  -- the previous start restored.
  if exists (select 1 from unnest(v_claimed) c
              where c.concurrency_key is not null and c.task = any(v_limited_tasks)) then
    perform pg_advisory_xact_lock(goodjob__lock_class() + 2, x.h)
    from (select distinct hashtext(c.concurrency_key) as h from unnest(v_claimed) c
           where c.concurrency_key is not null and c.task = any(v_limited_tasks)
           order by 1) x;
    with ours as (
      select c.id, c.concurrency_key,
             row_number() over (partition by c.concurrency_key
                                order by c.priority desc, c.run_at desc, c.id desc) as newest,
             goodjob__perform_excess(c.concurrency_key, c.task, as_of) as excess
      from unnest(v_claimed) c
      where c.concurrency_key is not null and c.task = any(v_limited_tasks)
    ),
    put_back as (
      update goodjob_jobs j
         set state = 'queued', attempts = j.attempts - 1, locked_by = null,
             started_at = (select max(e.started_at) from goodjob_executions e where e.job_id = j.id)
        from ours o
       where j.id = o.id and o.newest <= o.excess
      returning j.id
    )
    select coalesce(array_agg(b.id), '{}') into v_put_back from put_back b;
  end if;

  return query
  select * from unnest(v_claimed) c
  where c.id <> all(coalesce(v_put_back, '{}'))
  order by case when v_mode = 'ordered' then array_position(v_names, c.queue) else 0 end,
           c.priority, c.run_at, c.id;
end
$$;

--
-- Name: FUNCTION goodjob_fetch_and_lock(process_id uuid, queues text, max_jobs integer, as_of timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_fetch_and_lock(process_id uuid, queues text, max_jobs integer, as_of timestamp with time zone) IS 'Claim up to max_jobs (1..1000) ready jobs for a registered process, by priority (smaller first), run_at, id, with FOR UPDATE SKIP LOCKED. queues: * (all), a,b (only these), +a,b (these, in order), -a,b (all but these). Due scheduled jobs are promoted first; paused queues, tasks and labels are skipped; a job whose concurrency key is at its task''s perform_limit or perform_throttle is passed over and keeps its place. Returns the claimed rows, already running with attempts incremented. Errors: GJ007, GJ008, GJ009, GJ013 (as_of null or infinite).';

--
-- Name: goodjob_heartbeat(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_heartbeat(process_id uuid, state jsonb DEFAULT NULL::jsonb) RETURNS boolean
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  with touched as (
    update goodjob_processes p
       set heartbeat_at = now(), state = coalesce(goodjob_heartbeat.state, p.state)
     where p.id = goodjob_heartbeat.process_id
    returning 1
  )
  select exists (select 1 from touched)
$$;

--
-- Name: FUNCTION goodjob_heartbeat(process_id uuid, state jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_heartbeat(process_id uuid, state jsonb) IS 'Update a process''s heartbeat time (and state, when given). Returns false when the process is not registered, e.g. after it was rescued as dead.';

--
-- Name: goodjob_pause(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_pause(queue text DEFAULT NULL::text, task text DEFAULT NULL::text, label text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  if num_nulls(queue, task, label) = 3 then
    raise exception 'nothing to pause: pass queue, task or label' using errcode = 'GJ013';
  end if;
  insert into goodjob_pauses (kind, name)
  select v.kind, v.name
  from (values ('queue', goodjob__check_queue_or_null(queue)),
               ('task', case when task is not null then goodjob__check_task(task) end),
               ('label', case when label is not null then (goodjob__check_labels(array[label]))[1] end)) as v(kind, name)
  where v.name is not null
  on conflict do nothing;
end
$$;

--
-- Name: FUNCTION goodjob_pause(queue text, task text, label text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_pause(queue text, task text, label text) IS 'Pause a queue, a task and/or a label: their ready jobs are not fetched until resumed. Running jobs finish and enqueue continues. Errors: GJ013 nothing given, GJ004, GJ001, GJ006.';

--
-- Name: goodjob_register_process(text, integer, text, jsonb, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_register_process(hostname text, pid integer, queues text, state jsonb DEFAULT '{}'::jsonb, id uuid DEFAULT NULL::uuid) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_id uuid := coalesce(goodjob_register_process.id, gen_random_uuid());
  v_lease int;
begin
  -- queues is the process's whole pool configuration (e.g. 'mice:2;*:5'),
  -- kept for display; each pool's selector is checked by the fetch.
  if nullif(btrim(goodjob_register_process.hostname), '') is null or goodjob_register_process.pid is null
     or goodjob_register_process.queues is null then
    raise exception 'invalid process: hostname %, pid % and queues % must be given',
      coalesce(quote_literal(goodjob_register_process.hostname), 'null'),
      coalesce(goodjob_register_process.pid::text, 'null'),
      coalesce(quote_literal(goodjob_register_process.queues), 'null') using errcode = 'GJ013';
  end if;
  select p.lease_key into v_lease from goodjob_processes p where p.id = v_id for update;
  if found then
    -- Advisory locks are re-entrant: a session that already holds this lease
    -- must not take it again, or one deregister would leave it held.
    if not exists (select 1 from pg_catalog.pg_locks l
                   where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted
                     and l.classid = goodjob__lock_class() and l.objid::int = v_lease and l.objsubid = 2)
       and not pg_try_advisory_lock(goodjob__lock_class(), v_lease) then
      raise exception 'process % is alive in another session', v_id using errcode = 'GJ009';
    end if;
    update goodjob_processes p
       set hostname = goodjob_register_process.hostname, pid = goodjob_register_process.pid,
           queues = goodjob_register_process.queues,
           state = coalesce(goodjob_register_process.state, '{}'), heartbeat_at = now()
     where p.id = v_id;
    return v_id;
  end if;

  insert into goodjob_processes as p (id, hostname, pid, queues, state)
  values (v_id, goodjob_register_process.hostname, goodjob_register_process.pid,
          goodjob_register_process.queues, coalesce(goodjob_register_process.state, '{}'))
  returning p.lease_key into v_lease;
  -- The sequence cycles, so after 2^31 registrations a key can repeat; a key
  -- still locked by someone else is then refused rather than shared.
  if not pg_try_advisory_lock(goodjob__lock_class(), v_lease) then
    raise exception 'lease key % is already held', v_lease using errcode = 'GJ009';
  end if;
  return v_id;
end
$$;

--
-- Name: FUNCTION goodjob_register_process(hostname text, pid integer, queues text, state jsonb, id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_register_process(hostname text, pid integer, queues text, state jsonb, id uuid) IS 'Register a worker process and take its lease: a session-level advisory lock (goodjob__lock_class(), lease_key) held by the calling session until it ends or goodjob_deregister_process is called. Keep that connection open. Passing the id of a registered process whose lease is free takes that lease again (reconnect). Returns the process id. Errors: GJ009 when the lease is held by another session.';

--
-- Name: goodjob_report(uuid, uuid[], integer[], text[], text[], text[], text[], timestamp with time zone[], timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_report(process_id uuid, ids uuid[], attempts integer[], outcomes text[], error_classes text[] DEFAULT NULL::text[], error_messages text[] DEFAULT NULL::text[], error_backtraces text[] DEFAULT NULL::text[], run_ats timestamp with time zone[] DEFAULT NULL::timestamp with time zone[], as_of timestamp with time zone DEFAULT now()) RETURNS SETOF public.goodjob_report_outcome
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET jit TO 'off'
    AS $$
declare
  v_policy text;
  v_n int := cardinality(ids);
begin
  if v_n is null or cardinality(attempts) is distinct from v_n or cardinality(outcomes) is distinct from v_n
     or greatest(array_ndims(ids), array_ndims(attempts), array_ndims(outcomes), array_ndims(error_classes),
                 array_ndims(error_messages), array_ndims(error_backtraces), array_ndims(run_ats)) > 1
     or cardinality(coalesce(error_classes, ids::text[])) <> v_n
     or cardinality(coalesce(error_messages, ids::text[])) <> v_n
     or cardinality(coalesce(error_backtraces, ids::text[])) <> v_n
     or cardinality(coalesce(run_ats, array_fill(null::timestamptz, array[v_n]))) <> v_n then
    raise exception 'invalid results: ids, attempts and outcomes (and any error or run_at arrays) must have the same length'
      using errcode = 'GJ013';
  end if;
  if array_position(ids, null) is not null or array_position(attempts, null) is not null
     or not outcomes <@ '{succeeded,failed,discarded,retry}'::text[] or array_position(outcomes, null) is not null
     or (v_n > 1 and (select count(distinct x) from unnest(ids) x) <> v_n) then
    raise exception 'invalid results: ids must be unique and not null, attempts not null, outcomes one of succeeded, failed, discarded, retry; got outcomes %',
      outcomes using errcode = 'GJ013';
  end if;
  if as_of is null or not isfinite(as_of) then
    raise exception 'invalid as_of %: pass a finite time or omit it', coalesce(as_of::text, 'null')
      using errcode = 'GJ013';
  end if;
  select s.value #>> '{}' into v_policy from goodjob_settings s where s.key = 'preserve_job_records';

  return query
  with r as (
    select x.*
    from unnest(ids, attempts, outcomes, error_classes, error_messages, error_backtraces, run_ats)
         with ordinality as x(id, attempt, outcome, error_class, error_message, error_backtrace, run_at, ord)
  ),
  cur as (
    select j.id, r.attempt, r.outcome, r.error_class, r.error_message, r.error_backtrace,
           j.started_at, n.state,
           case n.state
             when 'queued' then as_of
             when 'scheduled' then coalesce(r.run_at, as_of + make_interval(
                    secs => goodjob_backoff_seconds(t.backoff, t.backoff_base, j.attempts)))
             else j.run_at
           end as run_at,
           -- Batch members are kept: their batch counts their results.
           j.batch_id is null
             and ((n.state = 'succeeded' and coalesce(t.preserve, v_policy, 'always') <> 'always')
                  or (n.state = 'discarded' and coalesce(t.preserve, v_policy, 'always') = 'never')) as drop,
           j.batch_id
    from r
    join goodjob_jobs j
      on j.id = r.id and j.state = 'running'
     and j.locked_by = goodjob_report.process_id and j.attempts = r.attempt
    left join goodjob_tasks t on t.name = j.task
    cross join lateral (
      select case
        when r.outcome in ('succeeded', 'discarded') then r.outcome
        when j.attempts >= j.max_attempts then 'discarded'
        when r.outcome = 'retry' and coalesce(r.run_at, as_of) <= as_of then 'queued'
        else 'scheduled'
      end as state
    ) n
    -- Lock in id order, as goodjob__interrupt_jobs does, so a report racing
    -- a rescue of the same jobs waits instead of deadlocking.
    order by j.id
    for update of j
  ),
  -- The batches of finishing members, locked in id order before any job
  -- changes, so the batch trigger (which counts each result) finds them
  -- locked: two reports finishing jobs of the same batches never deadlock.
  -- An index probe per batch (= any(array)), so a large batches table costs
  -- nothing; reports without batch members probe nothing.
  batch_locks as (
    select b.id from goodjob_batches b
     where b.id = any(array(select c.batch_id from cur c
                             where c.batch_id is not null and c.state in ('succeeded', 'discarded')))
     order by b.id
     for update of b
  ),
  kept as (
    update goodjob_jobs j
       set state = c.state, run_at = c.run_at, locked_by = null,
           finished_at = case when c.state in ('succeeded', 'discarded') then as_of end,
           -- nullif: a retry reported without an error leaves no error ('').
           last_error = case when c.outcome = 'succeeded' then null
                             else nullif(concat_ws(': ', c.error_class, c.error_message), '') end
      from cur c
     where j.id = c.id and not c.drop
  ),
  dropped as (
    delete from goodjob_jobs j using cur c where j.id = c.id and c.drop
  ),
  recorded as (
    insert into goodjob_executions (job_id, attempt, process_id, started_at, finished_at, outcome,
                                    error_class, error_message, error_backtrace)
    select c.id, c.attempt, goodjob_report.process_id, c.started_at, as_of,
           case when c.state in ('succeeded', 'discarded') then c.state else 'failed' end,
           case when c.state <> 'succeeded' then c.error_class end,
           case when c.state <> 'succeeded' then c.error_message end,
           case when c.state <> 'succeeded' then c.error_backtrace end
      from cur c
     where not c.drop
  ),
  dropped_executions as (
    delete from goodjob_executions e using cur c where e.job_id = c.id and c.drop
  )
  select r.id, c.id is not null, c.state,
         case when c.state in ('queued', 'scheduled') then c.run_at end
  from r left join cur c on c.id = r.id
  where (select count(*) from batch_locks) >= 0
  order by r.ord;
end
$$;

--
-- Name: FUNCTION goodjob_report(process_id uuid, ids uuid[], attempts integer[], outcomes text[], error_classes text[], error_messages text[], error_backtraces text[], run_ats timestamp with time zone[], as_of timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_report(process_id uuid, ids uuid[], attempts integer[], outcomes text[], error_classes text[], error_messages text[], error_backtraces text[], run_ats timestamp with time zone[], as_of timestamp with time zone) IS 'Record results of many attempts in one call, as parallel arrays: ids, attempts, outcomes (succeeded | failed: retry after the task''s backoff while attempts remain, else discarded | discarded | retry: again now or at run_ats[i], counting the attempt), and optional error_classes, error_messages, error_backtraces, run_ats. A result is accepted only while the job is running for this process and attempt (fencing); returns per result whether it was accepted, the new state and the next run time. Errors: GJ013 (also for an as_of that is null or infinite).';

--
-- Name: goodjob_report_results(uuid, jsonb, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_report_results(process_id uuid, results jsonb, as_of timestamp with time zone DEFAULT now()) RETURNS SETOF public.goodjob_report_outcome
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $_$
begin
  if jsonb_typeof(results) is distinct from 'array'
     or exists (select 1 from jsonb_array_elements(results) e(r)
                where jsonb_typeof(e.r) <> 'object'
                   or jsonb_typeof(e.r -> 'id') is distinct from 'string'
                   or not (e.r ->> 'id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$'
                   or jsonb_typeof(e.r -> 'attempt') is distinct from 'number'
                   or not (e.r ->> 'attempt') ~ '^[0-9]{1,9}$'
                   or not coalesce(e.r ->> 'outcome' in ('succeeded', 'failed', 'discarded', 'retry'), false)
                   or jsonb_typeof(coalesce(e.r -> 'run_at', 'null')) not in ('string', 'null'))
     or (select count(*) <> count(distinct (e.r ->> 'id')::uuid) from jsonb_array_elements(results) e(r)) then
    raise exception 'invalid results %', coalesce(left(results::text, 120), 'null')
      using errcode = 'GJ013',
            detail = 'Expected a JSON array of objects with a unique id, an attempt number and an outcome of succeeded, failed, discarded or retry.';
  end if;
  -- run_at is rare (a retry at a given time): check it parses only when present.
  if exists (select 1 from jsonb_array_elements(results) e(r) where jsonb_typeof(e.r -> 'run_at') = 'string') then
    begin
      perform (e.r ->> 'run_at')::timestamptz from jsonb_array_elements(results) e(r);
    exception
      when invalid_text_representation or invalid_datetime_format or datetime_field_overflow then
        raise exception 'invalid results: %', sqlerrm using errcode = 'GJ013';
    end;
  end if;
  return query
  select o.*
  from (select array_agg(x.id order by x.ord) as ids, array_agg(x.attempt order by x.ord) as attempts,
               array_agg(x.outcome order by x.ord) as outcomes,
               array_agg(x.error_class order by x.ord) as error_classes,
               array_agg(x.error_message order by x.ord) as error_messages,
               array_agg(x.error_backtrace order by x.ord) as error_backtraces,
               array_agg(x.run_at order by x.ord) as run_ats
        from rows from (jsonb_to_recordset(results)
                        as (id uuid, attempt int, outcome text, error_class text, error_message text,
                            error_backtrace text, run_at timestamptz))
             with ordinality as x(id, attempt, outcome, error_class, error_message, error_backtrace, run_at, ord)
       ) a,
       goodjob_report(goodjob_report_results.process_id, coalesce(a.ids, '{}'), coalesce(a.attempts, '{}'),
                      coalesce(a.outcomes, '{}'), a.error_classes, a.error_messages, a.error_backtraces,
                      a.run_ats, as_of) o;
end
$_$;

--
-- Name: FUNCTION goodjob_report_results(process_id uuid, results jsonb, as_of timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_report_results(process_id uuid, results jsonb, as_of timestamp with time zone) IS 'Record results of many attempts in one call. results: JSON array of {id, attempt, outcome, error_class, error_message, error_backtrace, run_at} with outcome succeeded | failed (retry after the task''s backoff while attempts remain, else discarded) | discarded | retry (again now or at run_at; counts the attempt). A result is accepted only while the job is running for this process and attempt (fencing); returns per result whether it was accepted, the new state and the next run time. The same as goodjob_report with arrays. Errors: GJ013.';

--
-- Name: goodjob_reschedule_job(uuid, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_reschedule_job(id uuid, run_at timestamp with time zone) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET lock_timeout TO '5s'
    AS $$
declare
  v_queue text;
begin
  if goodjob_reschedule_job.run_at is null then
    raise exception 'invalid run_at null: pass the new run time' using errcode = 'GJ013';
  end if;
  update goodjob_jobs j
     set run_at = goodjob_reschedule_job.run_at,
         state = case when goodjob_reschedule_job.run_at > now() then 'scheduled' else 'queued' end
   where j.id = goodjob_reschedule_job.id and j.state in ('scheduled', 'queued')
  returning j.queue into v_queue;
  if not found then
    perform goodjob__job_state_error(goodjob_reschedule_job.id, 'reschedule', 'scheduled or queued');
  end if;
  perform pg_notify(goodjob__channel(), case when goodjob_reschedule_job.run_at > now()
                                    then json_build_object('queue', v_queue, 'run_at', goodjob_reschedule_job.run_at)
                                    else json_build_object('queue', v_queue) end::text);
  return goodjob_reschedule_job.id;
end
$$;

--
-- Name: FUNCTION goodjob_reschedule_job(id uuid, run_at timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_reschedule_job(id uuid, run_at timestamp with time zone) IS 'Move a scheduled or queued job to run at run_at (now or in the past makes it ready). Returns the id. Errors: GJ010, GJ011, GJ013, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';

--
-- Name: goodjob_rescue_dead_processes(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_rescue_dead_processes() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_dead uuid[];
  v_count int;
begin
  with live as (select k from goodjob__live_lease_keys() as k),
  dead_rows as (
    delete from goodjob_processes p
     where not exists (select 1 from live where live.k = p.lease_key)
    returning p.id
  ),
  orphans as (
    select distinct j.locked_by as id
    from goodjob_jobs j
    where j.state = 'running'
      and not exists (select 1 from goodjob_processes p, live
                      where p.id = j.locked_by and live.k = p.lease_key)
  )
  select array(select id from dead_rows union select id from orphans) into v_dead;

  -- Waiting rows of processes that are gone only cost needless NOTIFYs.
  delete from goodjob_waiting_pools w
   where not exists (select 1 from goodjob_processes p where p.id = w.process_id);

  if cardinality(v_dead) = 0 then
    return 0;
  end if;
  v_count := goodjob__interrupt_jobs(v_dead, 'interrupted: the worker process died (its lease was free)');
  if v_count > 0 then
    raise log 'goodjob: rescued % job(s) of % dead process(es)', v_count, cardinality(v_dead);
  end if;
  return v_count;
end
$$;

--
-- Name: FUNCTION goodjob_rescue_dead_processes(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_rescue_dead_processes() IS 'Rescue the running jobs of dead processes (whose lease, a session advisory lock, is free) and delete their rows. Each rescued job is queued again, the interrupted attempt counted (discarded when out of attempts). Returns the number of jobs rescued.';

--
-- Name: goodjob_resume(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_resume(queue text DEFAULT NULL::text, task text DEFAULT NULL::text, label text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_deleted int;
begin
  if num_nulls(queue, task, label) = 3 then
    raise exception 'nothing to resume: pass queue, task or label' using errcode = 'GJ013';
  end if;
  delete from goodjob_pauses p
   where (p.kind = 'queue' and p.name = goodjob_resume.queue)
      or (p.kind = 'task' and p.name = goodjob_resume.task)
      or (p.kind = 'label' and p.name = goodjob_resume.label);
  get diagnostics v_deleted = row_count;
  if v_deleted > 0 and goodjob_resume.queue is not null then
    perform pg_notify(goodjob__channel(), json_build_object('queue', goodjob_resume.queue)::text);
  end if;
end
$$;

--
-- Name: FUNCTION goodjob_resume(queue text, task text, label text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_resume(queue text, task text, label text) IS 'Resume a paused queue, task and/or label. Resuming what is not paused does nothing. Errors: GJ013 nothing given.';

--
-- Name: goodjob_retry_job(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_retry_job(id uuid) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    SET lock_timeout TO '5s'
    AS $$
declare
  v_queue text;
begin
  update goodjob_jobs j
     set state = 'queued', run_at = now(), finished_at = null,
         max_attempts = greatest(j.max_attempts, j.attempts + 1)
   where j.id = goodjob_retry_job.id and j.state in ('discarded', 'scheduled', 'queued')
  returning j.queue into v_queue;
  if not found then
    perform goodjob__job_state_error(goodjob_retry_job.id, 'retry', 'discarded, scheduled or queued');
  end if;
  perform pg_notify(goodjob__channel(), json_build_object('queue', v_queue)::text);
  return goodjob_retry_job.id;
end
$$;

--
-- Name: FUNCTION goodjob_retry_job(id uuid); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_retry_job(id uuid) IS 'Make a discarded, scheduled or queued job ready to run now (a job out of attempts gets one more). Returns the id. Errors: GJ010 not found, GJ011 running or succeeded, 55P03 the row stayed locked by another session for 5 s (lock_timeout; nothing changed).';

--
-- Name: goodjob_run_cron_entry(text, jsonb, jsonb, text, integer, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_run_cron_entry(key text, args jsonb DEFAULT NULL::jsonb, kwargs jsonb DEFAULT NULL::jsonb, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, labels text[] DEFAULT NULL::text[]) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  return goodjob__enqueue_for_cron(goodjob__cron_entry(goodjob_run_cron_entry.key), null, null,
                                   goodjob_run_cron_entry.args, goodjob_run_cron_entry.kwargs,
                                   goodjob_run_cron_entry.queue, goodjob_run_cron_entry.priority,
                                   goodjob_run_cron_entry.labels);
end
$$;

--
-- Name: FUNCTION goodjob_run_cron_entry(key text, args jsonb, kwargs jsonb, queue text, priority integer, labels text[]); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_run_cron_entry(key text, args jsonb, kwargs jsonb, queue text, priority integer, labels text[]) IS 'Enqueue a cron entry''s job now, whether it is enabled or not, without using up a tick (cron_at is null). Non-null arguments replace the stored ones. Returns the job id. Errors: GJ014 unknown entry, GJ016 arguments computed in Python and not given, and those of goodjob_enqueue.';

--
-- Name: goodjob_set_trace_context(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_set_trace_context(id uuid, trace_context jsonb) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
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

--
-- Name: FUNCTION goodjob_set_trace_context(id uuid, trace_context jsonb); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_set_trace_context(id uuid, trace_context jsonb) IS 'Store the W3C trace context (a JSON object of carrier fields) a job was enqueued in, unless it has one. Returns the id (null for a null id: a refused enqueue). Errors: GJ006 not an object, GJ010 unknown job.';

--
-- Name: goodjob_succeed_job(uuid, uuid, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_succeed_job(id uuid, process_id uuid, attempt integer) RETURNS boolean
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  select o.accepted
  from goodjob_report_results(goodjob_succeed_job.process_id,
         jsonb_build_array(jsonb_build_object('id', goodjob_succeed_job.id,
                                              'attempt', goodjob_succeed_job.attempt,
                                              'outcome', 'succeeded'))) o
$$;

--
-- Name: FUNCTION goodjob_succeed_job(id uuid, process_id uuid, attempt integer); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_succeed_job(id uuid, process_id uuid, attempt integer) IS 'Report that attempt N of a job succeeded. Returns false when the result was refused (the job is no longer running for this process and attempt).';

--
-- Name: goodjob_terminate_stale_processes(interval, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_terminate_stale_processes(older_than interval, as_of timestamp with time zone DEFAULT now()) RETURNS TABLE(process_id uuid, backend_pid integer, heartbeat_at timestamp with time zone, terminated boolean, error text)
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_cutoff timestamptz;
  v_row record;
  v_signalled int[] := '{}';
begin
  if goodjob_terminate_stale_processes.as_of is null then
    raise exception 'invalid as_of null: pass a time or omit it' using errcode = 'GJ071';
  end if;
  if goodjob_terminate_stale_processes.older_than is null
     or goodjob_terminate_stale_processes.older_than <= interval '0' then
    raise exception 'invalid older_than %: must be a positive interval',
      coalesce(goodjob_terminate_stale_processes.older_than::text, 'null')
      using errcode = 'GJ070',
            hint = 'Pass a threshold well above the heartbeat interval, e.g. interval ''2 minutes''.';
  end if;
  begin
    v_cutoff := goodjob_terminate_stale_processes.as_of - goodjob_terminate_stale_processes.older_than;
  exception when datetime_field_overflow then
    v_cutoff := '-infinity';  -- nothing is that old
  end;

  for v_row in
    select p.id, l.pid, p.heartbeat_at as beat
      from goodjob_processes p
      join pg_catalog.pg_locks l
        on l.locktype = 'advisory' and l.classid = goodjob__lock_class() and l.objsubid = 2 and l.granted
       and l.objid = p.lease_key::oid
       and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
     where p.heartbeat_at < v_cutoff and l.pid <> pg_catalog.pg_backend_pid()
     order by p.heartbeat_at, p.id
  loop
    process_id := v_row.id;
    backend_pid := v_row.pid;
    heartbeat_at := v_row.beat;
    error := null;
    begin
      terminated := pg_catalog.pg_terminate_backend(v_row.pid);
      if not terminated then
        error := format('pid %s is not a PostgreSQL backend', v_row.pid);
      end if;
    exception when insufficient_privilege then
      terminated := false;
      error := sqlerrm;
    end;
    if terminated then
      v_signalled := v_signalled || v_row.pid;
      raise log 'goodjob: terminated backend % holding the lease of process % (last heartbeat %)',
        v_row.pid, v_row.id, v_row.beat;
    end if;
    return next;
  end loop;

  -- pg_locks is read live: wait (briefly) for the signalled backends to exit.
  for i in 1..200 loop
    exit when cardinality(v_signalled) = 0 or not exists (
      select 1 from pg_catalog.pg_locks l where l.pid = any(v_signalled));
    perform pg_catalog.pg_sleep(0.01);
  end loop;
end
$$;

--
-- Name: FUNCTION goodjob_terminate_stale_processes(older_than interval, as_of timestamp with time zone); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_terminate_stale_processes(older_than interval, as_of timestamp with time zone) IS 'The heartbeat backstop: end the backend holding the lease of every process whose heartbeat is older than older_than (before as_of), never the caller''s own, and wait up to 2 s for those backends to exit; then goodjob_rescue_dead_processes() rescues their jobs. Needs the privileges of the other session''s role, superuser or pg_signal_backend; without them the row says terminated = false and why. Returns process_id, backend_pid, heartbeat_at, terminated, error. Errors: GJ070 (older_than null or not positive), GJ071 (as_of null).';

--
-- Name: goodjob_tg_jobs__after_insert(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_tg_jobs__after_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_unknown uuid;
begin
  -- Batch members: count them in their batches (rows locked in id order, so
  -- two inserts into the same batches take turns instead of deadlocking).
  -- An unknown batch_id fails the whole statement. Inserts without a batch
  -- pay one scan of the new rows.
  if exists (select 1 from new_jobs n where n.batch_id is not null) then
    perform 1 from goodjob_batches b
     where b.id = any(array(select distinct n.batch_id from new_jobs n where n.batch_id is not null))
     order by b.id
     for update;
    select n.batch_id into v_unknown from new_jobs n
     where n.batch_id is not null
       and not exists (select 1 from goodjob_batches b where b.id = n.batch_id)
     limit 1;
    if v_unknown is not null then
      raise exception 'unknown batch %', v_unknown
        using errcode = 'GJ030', hint = 'Create the batch first with goodjob_create_batch.';
    end if;
    update goodjob_batches b
       set jobs = b.jobs + c.jobs, succeeded = b.succeeded + c.succeeded,
           discarded = b.discarded + c.discarded
      from (select n.batch_id, count(*)::int as jobs,
                   (count(*) filter (where n.state = 'succeeded'))::int as succeeded,
                   (count(*) filter (where n.state = 'discarded'))::int as discarded
              from new_jobs n
             where n.batch_id is not null
             group by n.batch_id) c
     where b.id = c.batch_id;
  end if;

  insert into goodjob_queues (name)
  select distinct n.queue from new_jobs n
  where not exists (select 1 from goodjob_queues q where q.name = n.queue)
  on conflict do nothing;

  -- The wake-up gate (goodjob_wait): hold it shared until commit, then look
  -- for waiting pools with a fresh snapshot. A pool that starts waiting
  -- takes it exclusively, so it either sees this job in its catch-up fetch
  -- or is seen here and notified. Skipping the NOTIFY is safe only then: if
  -- the gate is taken (a pool is starting to wait) or the snapshot is the
  -- transaction's own (repeatable read, serializable), notify anyway. A try
  -- lock never makes an enqueue wait.
  if current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock_shared(goodjob__lock_class(), -1) then
    if not exists (select 1 from goodjob_waiting_pools) then
      return null;
    end if;
  end if;

  perform pg_notify(goodjob__channel(), case when bool_or(n.state = 'queued')
                                     then json_build_object('queue', n.queue)
                                     else json_build_object('queue', n.queue, 'run_at', min(n.run_at))
                                end::text)
  from new_jobs n
  where n.state in ('queued', 'scheduled')
  group by n.queue;
  return null;
end
$$;

--
-- Name: goodjob_tg_jobs__arguments_size(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_tg_jobs__arguments_size() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_limit bigint;
  v_args int := pg_catalog.pg_column_size(new.args);
  v_kwargs int := pg_catalog.pg_column_size(new.kwargs);
begin
  select (s.value #>> '{}')::bigint into v_limit
    from goodjob_settings s where s.key = 'max_arguments_bytes';
  v_limit := coalesce(v_limit, 1048576);
  if v_args > v_limit then
    raise exception 'args of a % job are % bytes, over the maximum of % bytes', new.task, v_args, v_limit
      using errcode = 'GJ050',
            hint = 'Pass a reference (an id, a URL) instead of the data, or raise goodjob_settings max_arguments_bytes.';
  end if;
  if v_kwargs > v_limit then
    raise exception 'kwargs of a % job are % bytes, over the maximum of % bytes', new.task, v_kwargs, v_limit
      using errcode = 'GJ050',
            hint = 'Pass a reference (an id, a URL) instead of the data, or raise goodjob_settings max_arguments_bytes.';
  end if;
  return new;
end
$$;

--
-- Name: goodjob_tg_jobs__batch_result(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_tg_jobs__batch_result() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  update goodjob_batches b
     set succeeded = b.succeeded + (new.state = 'succeeded')::int - (old.state = 'succeeded')::int,
         discarded = b.discarded + (new.state = 'discarded')::int - (old.state = 'discarded')::int
   where b.id = new.batch_id;
  if found then
    perform goodjob__fire_batch_callbacks(new.batch_id);
  end if;
  return null;
end
$$;

--
-- Name: goodjob_tg_settings__max_arguments_bytes(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_tg_settings__max_arguments_bytes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
declare
  v_value jsonb;
begin
  if tg_op = 'DELETE' then
    perform goodjob__apply_max_arguments_bytes(1048576);
    return old;
  end if;
  v_value := new.value;
  if jsonb_typeof(v_value) is distinct from 'number' then
    v_value := null;  -- not a number: refused below
  elsif v_value::numeric <> trunc(v_value::numeric) or v_value::numeric not between 1 and 1073741824 then
    v_value := null;
  end if;
  if v_value is null then
    raise exception 'max_arguments_bytes must be a whole number of bytes from 1 to 1073741824, not %', new.value
      using errcode = 'GJ051';
  end if;
  perform goodjob__apply_max_arguments_bytes(v_value::bigint);
  return new;
end
$$;

--
-- Name: goodjob_unwait(uuid, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_unwait(process_id uuid, pool integer DEFAULT 0) RETURNS void
    LANGUAGE sql
    SET search_path TO 'public'
    AS $$
  delete from goodjob_waiting_pools w
   where w.process_id = goodjob_unwait.process_id and w.pool = goodjob_unwait.pool
$$;

--
-- Name: FUNCTION goodjob_unwait(process_id uuid, pool integer); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_unwait(process_id uuid, pool integer) IS 'A worker pool stops waiting (it found a full batch and will fetch again on its own). Enqueues stop notifying when no pool waits.';

--
-- Name: goodjob_upcoming_run_times(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_upcoming_run_times(max_rows integer DEFAULT 10000) RETURNS TABLE(queue text, run_at timestamp with time zone)
    LANGUAGE sql STABLE
    SET search_path TO 'public'
    AS $$
  select j.queue, j.run_at from goodjob_jobs j
  where j.state = 'scheduled'
  order by j.run_at
  limit greatest(coalesce(max_rows, 10000), 0)
$$;

--
-- Name: FUNCTION goodjob_upcoming_run_times(max_rows integer); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_upcoming_run_times(max_rows integer) IS 'The earliest max_rows run times of scheduled jobs with their queues, so a worker can wake exactly when they are due.';

--
-- Name: goodjob_update_batch(uuid, jsonb, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_update_batch(id uuid, properties jsonb DEFAULT NULL::jsonb, description text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  perform goodjob__check_batch_arguments(goodjob_update_batch.properties, null, null, null, null);
  perform goodjob__locked_batch(goodjob_update_batch.id);
  update goodjob_batches b
     set properties = coalesce(goodjob_update_batch.properties, b.properties),
         description = coalesce(goodjob_update_batch.description, b.description)
   where b.id = goodjob_update_batch.id;
  return goodjob_update_batch.id;
end
$$;

--
-- Name: FUNCTION goodjob_update_batch(id uuid, properties jsonb, description text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_update_batch(id uuid, properties jsonb, description text) IS 'Replace a batch''s properties (a JSON object) and/or description; null leaves a field as it is. Returns the id. Errors: GJ030, GJ031.';

--
-- Name: goodjob_wait(uuid, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goodjob_wait(process_id uuid, pool integer DEFAULT 0) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'public'
    AS $$
begin
  if goodjob_wait.pool is null then
    raise exception 'invalid pool null: pass the pool number' using errcode = 'GJ013';
  end if;
  if not exists (select 1 from goodjob_processes p where p.id = goodjob_wait.process_id) then
    raise exception 'unknown process %', coalesce(goodjob_wait.process_id::text, 'null')
      using errcode = 'GJ009', hint = 'Call goodjob_register_process first (or again, after a rescue).';
  end if;
  if not pg_try_advisory_xact_lock(goodjob__lock_class(), -1) then
    return false;
  end if;
  insert into goodjob_waiting_pools (process_id, pool)
  values (goodjob_wait.process_id, goodjob_wait.pool)
  on conflict do nothing;
  return true;
end
$$;

--
-- Name: FUNCTION goodjob_wait(process_id uuid, pool integer); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.goodjob_wait(process_id uuid, pool integer) IS 'Mark a worker pool as waiting on LISTEN goodjob__channel(): enqueues send NOTIFY only while some pool waits. Call it in its own transaction; true: fetch once more, then wait; false (enqueues were in flight, nothing changed): fetch again after a short pause and try again. Errors: GJ009, GJ013.';

--
-- Name: goodjob_batch_status; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_batch_status AS
 SELECT b.id,
    b.description,
        CASE
            WHEN ((b.finished_at IS NOT NULL) AND (b.discarded = 0) AND (b.succeeded = b.jobs)) THEN 'succeeded'::text
            WHEN (b.finished_at IS NOT NULL) THEN 'finished'::text
            WHEN (b.enqueued_at IS NOT NULL) THEN 'enqueued'::text
            ELSE 'open'::text
        END AS state,
    b.jobs,
    ((b.jobs - b.succeeded) - b.discarded) AS pending,
    b.succeeded,
    b.discarded,
    c.callbacks,
    c.callbacks_pending,
    b.on_finish,
    b.on_success,
    b.on_discard,
    b.callback_queue,
    b.callback_priority,
    b.created_at,
    b.enqueued_at,
    b.discarded_at,
    b.finished_at,
    c.callbacks_finished_at,
    b.properties
   FROM (public.goodjob_batches b
     CROSS JOIN LATERAL ( SELECT count(*) AS callbacks,
            count(*) FILTER (WHERE (j.state <> ALL (ARRAY['succeeded'::text, 'discarded'::text]))) AS callbacks_pending,
                CASE
                    WHEN ((count(*) > 0) AND bool_and((j.state = ANY (ARRAY['succeeded'::text, 'discarded'::text])))) THEN max(j.finished_at)
                    ELSE NULL::timestamp with time zone
                END AS callbacks_finished_at
           FROM public.goodjob_jobs j
          WHERE (j.batch_callback_id = b.id)) c);

--
-- Name: VIEW goodjob_batch_status; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_batch_status IS 'Batches: state (open, enqueued, succeeded, finished with discards), job counts (jobs, pending, succeeded, discarded), callback jobs (enqueued, pending, when all finished), callbacks, times and properties.';

--
-- Name: goodjob_concurrency_keys; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_concurrency_keys AS
 SELECT k.concurrency_key,
    k.task,
    t.total_limit,
    t.enqueue_limit,
    t.perform_limit,
    t.enqueue_throttle_limit,
    t.enqueue_throttle_period,
    t.perform_throttle_limit,
    t.perform_throttle_period,
    k.scheduled,
    k.queued,
    k.running,
        CASE
            WHEN (t.enqueue_throttle_period IS NOT NULL) THEN ( SELECT count(*) AS count
               FROM public.goodjob_jobs j
              WHERE ((j.concurrency_key = k.concurrency_key) AND (j.created_at > (now() - t.enqueue_throttle_period))))
            ELSE NULL::bigint
        END AS enqueued_in_period,
        CASE
            WHEN (t.perform_throttle_period IS NOT NULL) THEN ( SELECT count(*) AS count
               FROM public.goodjob_jobs j
              WHERE ((j.concurrency_key = k.concurrency_key) AND (j.started_at > (now() - t.perform_throttle_period))))
            ELSE NULL::bigint
        END AS started_in_period
   FROM (( SELECT j.concurrency_key,
            j.task,
            count(*) FILTER (WHERE (j.state = 'scheduled'::text)) AS scheduled,
            count(*) FILTER (WHERE (j.state = 'queued'::text)) AS queued,
            count(*) FILTER (WHERE (j.state = 'running'::text)) AS running
           FROM public.goodjob_jobs j
          WHERE ((j.concurrency_key IS NOT NULL) AND (j.finished_at IS NULL))
          GROUP BY j.concurrency_key, j.task) k
     LEFT JOIN public.goodjob_tasks t ON ((t.name = k.task)));

--
-- Name: VIEW goodjob_concurrency_keys; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_concurrency_keys IS 'Active concurrency keys (with unfinished jobs) per task: the task''s limits and the counts they are checked against (scheduled, queued, running, enqueued and started within the throttle periods; null without a throttle).';

--
-- Name: goodjob_cron_status; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_cron_status AS
 SELECT c.key,
    c.schedule,
    c.task,
    c.description,
    COALESCE(c.enabled, c.enabled_by_default) AS enabled,
    (c.enabled IS NOT NULL) AS set_by_operator,
    c.next_run_at,
    c.last_run_at,
    c.last_tick_at,
    c.last_job_id,
    j.state AS last_job_state
   FROM (public.goodjob_cron_entries c
     LEFT JOIN public.goodjob_jobs j ON ((j.id = c.last_job_id)));

--
-- Name: VIEW goodjob_cron_status; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_cron_status IS 'Cron entries: schedule, task, whether enabled (and whether an operator decided it), next and last run, and the state of the last job.';

--
-- Name: goodjob_executions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_executions (
    job_id uuid NOT NULL,
    attempt integer NOT NULL,
    process_id uuid,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    outcome text NOT NULL,
    error_class text,
    error_message text,
    error_backtrace text,
    CONSTRAINT goodjob_executions_outcome_known CHECK ((outcome = ANY (ARRAY['succeeded'::text, 'failed'::text, 'discarded'::text, 'interrupted'::text])))
);

--
-- Name: goodjob_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_migrations (
    version text NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: goodjob_pauses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_pauses (
    kind text NOT NULL,
    name text NOT NULL,
    paused_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT goodjob_pauses_kind_known CHECK ((kind = ANY (ARRAY['queue'::text, 'task'::text, 'label'::text])))
);

--
-- Name: goodjob_processes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_processes (
    id uuid NOT NULL,
    hostname text NOT NULL,
    pid integer NOT NULL,
    queues text NOT NULL,
    state jsonb DEFAULT '{}'::jsonb NOT NULL,
    lease_key integer NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: goodjob_process_status; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_process_status AS
 SELECT p.id,
    p.hostname,
    p.pid,
    p.queues,
    p.started_at,
    p.heartbeat_at,
    (now() - p.heartbeat_at) AS heartbeat_age,
    (EXISTS ( SELECT 1
           FROM public.goodjob__live_lease_keys() k(k)
          WHERE (k.k = p.lease_key))) AS alive,
    ( SELECT count(*) AS count
           FROM public.goodjob_jobs j
          WHERE ((j.state = 'running'::text) AND (j.locked_by = p.id))) AS running_jobs,
    p.state
   FROM public.goodjob_processes p;

--
-- Name: VIEW goodjob_process_status; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_process_status IS 'Registered processes with heartbeat age, whether their lease is held (alive) and how many jobs they are running.';

--
-- Name: goodjob_processes_lease_key_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.goodjob_processes_lease_key_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
    CYCLE;

--
-- Name: goodjob_processes_lease_key_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.goodjob_processes_lease_key_seq OWNED BY public.goodjob_processes.lease_key;

--
-- Name: goodjob_queues; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_queues (
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: goodjob_queue_stats; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_queue_stats AS
 SELECT q.name AS queue,
    count(j.id) FILTER (WHERE ((j.state = 'scheduled'::text) AND (j.last_error IS NULL))) AS scheduled,
    count(j.id) FILTER (WHERE (j.state = 'queued'::text)) AS queued,
    count(j.id) FILTER (WHERE (j.state = 'running'::text)) AS running,
    count(j.id) FILTER (WHERE ((j.state = 'scheduled'::text) AND (j.last_error IS NOT NULL))) AS retrying,
    count(j.id) FILTER (WHERE (j.state = 'discarded'::text)) AS discarded,
    count(j.id) FILTER (WHERE ((j.state = 'succeeded'::text) AND (j.finished_at > (now() - '01:00:00'::interval)))) AS succeeded_last_hour,
    (now() - min(j.run_at) FILTER (WHERE (j.state = 'queued'::text))) AS oldest_ready_age,
    (EXISTS ( SELECT 1
           FROM public.goodjob_pauses p
          WHERE ((p.kind = 'queue'::text) AND (p.name = q.name)))) AS paused
   FROM (public.goodjob_queues q
     LEFT JOIN public.goodjob_jobs j ON ((j.queue = q.name)))
  GROUP BY q.name;

--
-- Name: VIEW goodjob_queue_stats; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_queue_stats IS 'Per queue: scheduled, queued (ready), running, retrying (waiting after a failure), discarded, succeeded in the last hour, age of the oldest ready job, paused.';

--
-- Name: goodjob_running_jobs; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.goodjob_running_jobs AS
 SELECT j.id,
    j.task,
    j.queue,
    j.priority,
    j.attempts,
    j.max_attempts,
    j.started_at,
    (now() - j.started_at) AS running_for,
    j.locked_by AS process_id,
    p.hostname,
    p.pid
   FROM (public.goodjob_jobs j
     LEFT JOIN public.goodjob_processes p ON ((p.id = j.locked_by)))
  WHERE (j.state = 'running'::text);

--
-- Name: VIEW goodjob_running_jobs; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.goodjob_running_jobs IS 'Running jobs with the process (host, pid) that holds them.';

--
-- Name: goodjob_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goodjob_settings (
    key text NOT NULL,
    value jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: goodjob_waiting_pools; Type: TABLE; Schema: public; Owner: -
--

CREATE UNLOGGED TABLE public.goodjob_waiting_pools (
    process_id uuid NOT NULL,
    pool integer NOT NULL,
    since timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: goodjob_processes lease_key; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_processes ALTER COLUMN lease_key SET DEFAULT nextval('public.goodjob_processes_lease_key_seq'::regclass);

--
-- Name: goodjob_batches goodjob_batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_batches
    ADD CONSTRAINT goodjob_batches_pkey PRIMARY KEY (id);

--
-- Name: goodjob_cron_entries goodjob_cron_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_cron_entries
    ADD CONSTRAINT goodjob_cron_entries_pkey PRIMARY KEY (key);

--
-- Name: goodjob_executions goodjob_executions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_executions
    ADD CONSTRAINT goodjob_executions_pkey PRIMARY KEY (job_id, attempt);

--
-- Name: goodjob_jobs goodjob_jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_jobs
    ADD CONSTRAINT goodjob_jobs_pkey PRIMARY KEY (id);

--
-- Name: goodjob_migrations goodjob_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_migrations
    ADD CONSTRAINT goodjob_migrations_pkey PRIMARY KEY (version);

--
-- Name: goodjob_pauses goodjob_pauses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_pauses
    ADD CONSTRAINT goodjob_pauses_pkey PRIMARY KEY (kind, name);

--
-- Name: goodjob_processes goodjob_processes_lease_key_unique; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_processes
    ADD CONSTRAINT goodjob_processes_lease_key_unique UNIQUE (lease_key);

--
-- Name: goodjob_processes goodjob_processes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_processes
    ADD CONSTRAINT goodjob_processes_pkey PRIMARY KEY (id);

--
-- Name: goodjob_queues goodjob_queues_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_queues
    ADD CONSTRAINT goodjob_queues_pkey PRIMARY KEY (name);

--
-- Name: goodjob_settings goodjob_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_settings
    ADD CONSTRAINT goodjob_settings_pkey PRIMARY KEY (key);

--
-- Name: goodjob_tasks goodjob_tasks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_tasks
    ADD CONSTRAINT goodjob_tasks_pkey PRIMARY KEY (name);

--
-- Name: goodjob_waiting_pools goodjob_waiting_pools_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goodjob_waiting_pools
    ADD CONSTRAINT goodjob_waiting_pools_pkey PRIMARY KEY (process_id, pool);

--
-- Name: goodjob_batches_finished_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_batches_finished_at_idx ON public.goodjob_batches USING btree (finished_at) WHERE (finished_at IS NOT NULL);

--
-- Name: goodjob_jobs_batch_callback_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_batch_callback_id_idx ON public.goodjob_jobs USING btree (batch_callback_id) WHERE (batch_callback_id IS NOT NULL);

--
-- Name: goodjob_jobs_batch_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_batch_id_idx ON public.goodjob_jobs USING btree (batch_id) WHERE (batch_id IS NOT NULL);

--
-- Name: goodjob_jobs_concurrency_key_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_concurrency_key_created_at_idx ON public.goodjob_jobs USING btree (concurrency_key, created_at) WHERE (concurrency_key IS NOT NULL);

--
-- Name: goodjob_jobs_concurrency_key_started_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_concurrency_key_started_at_idx ON public.goodjob_jobs USING btree (concurrency_key, started_at) WHERE ((concurrency_key IS NOT NULL) AND (started_at IS NOT NULL));

--
-- Name: goodjob_jobs_concurrency_key_state_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_concurrency_key_state_idx ON public.goodjob_jobs USING btree (concurrency_key, state) WHERE ((concurrency_key IS NOT NULL) AND (finished_at IS NULL));

--
-- Name: goodjob_jobs_cron_key_cron_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX goodjob_jobs_cron_key_cron_at_idx ON public.goodjob_jobs USING btree (cron_key, cron_at) WHERE (cron_key IS NOT NULL);

--
-- Name: goodjob_jobs_finished_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_finished_at_idx ON public.goodjob_jobs USING btree (finished_at) WHERE (state = ANY (ARRAY['succeeded'::text, 'discarded'::text]));

--
-- Name: goodjob_jobs_labels_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_labels_idx ON public.goodjob_jobs USING gin (labels) WHERE (labels <> '{}'::text[]);

--
-- Name: goodjob_jobs_locked_by_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_locked_by_idx ON public.goodjob_jobs USING btree (locked_by) WHERE (state = 'running'::text);

--
-- Name: goodjob_jobs_queue_priority_run_at_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_queue_priority_run_at_id_idx ON public.goodjob_jobs USING btree (queue, priority, run_at, id) WHERE (state = 'queued'::text);

--
-- Name: goodjob_jobs_run_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_jobs_run_at_idx ON public.goodjob_jobs USING btree (run_at) WHERE (state = 'scheduled'::text);

--
-- Name: goodjob_tasks_perform_limited_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goodjob_tasks_perform_limited_idx ON public.goodjob_tasks USING btree (name) WHERE ((perform_limit IS NOT NULL) OR (perform_throttle_limit IS NOT NULL));

--
-- Name: goodjob_jobs goodjob_jobs_after_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goodjob_jobs_after_insert AFTER INSERT ON public.goodjob_jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION public.goodjob_tg_jobs__after_insert();

--
-- Name: goodjob_jobs goodjob_jobs_arguments_size; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goodjob_jobs_arguments_size BEFORE INSERT ON public.goodjob_jobs FOR EACH ROW WHEN (((pg_column_size(new.args) > 1048576) OR (pg_column_size(new.kwargs) > 1048576))) EXECUTE FUNCTION public.goodjob_tg_jobs__arguments_size();

--
-- Name: goodjob_jobs goodjob_jobs_batch_result; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goodjob_jobs_batch_result AFTER UPDATE OF state ON public.goodjob_jobs FOR EACH ROW WHEN (((new.batch_id IS NOT NULL) AND (old.state IS DISTINCT FROM new.state) AND ((old.state = ANY (ARRAY['succeeded'::text, 'discarded'::text])) OR (new.state = ANY (ARRAY['succeeded'::text, 'discarded'::text]))))) EXECUTE FUNCTION public.goodjob_tg_jobs__batch_result();

--
-- Name: goodjob_settings goodjob_settings_max_arguments_bytes; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goodjob_settings_max_arguments_bytes BEFORE INSERT OR UPDATE ON public.goodjob_settings FOR EACH ROW WHEN ((new.key = 'max_arguments_bytes'::text)) EXECUTE FUNCTION public.goodjob_tg_settings__max_arguments_bytes();

--
-- Name: goodjob_settings goodjob_settings_max_arguments_bytes_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goodjob_settings_max_arguments_bytes_deleted AFTER DELETE ON public.goodjob_settings FOR EACH ROW WHEN ((old.key = 'max_arguments_bytes'::text)) EXECUTE FUNCTION public.goodjob_tg_settings__max_arguments_bytes();

--
-- PostgreSQL database dump complete
--
