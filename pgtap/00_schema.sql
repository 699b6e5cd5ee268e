-- The structure a fresh install must have: tables and the columns of the
-- public contract, functions with their argument lists (names, types and
-- defaults are part of the contract: callers use named notation), the
-- partial indexes the hot path relies on and their exact predicates (and
-- the ones it must not have), constraints by name, storage options and
-- persistence, the NOTIFY trigger and the views.
begin;
select plan(188);
\ir helpers/goodjob_test.psql

-- Tables ----------------------------------------------------------------------

select has_table(t, format('table %s exists', t))
from unnest(array['goodjob_migrations', 'goodjob_jobs', 'goodjob_executions', 'goodjob_processes',
                  'goodjob_tasks', 'goodjob_pauses', 'goodjob_queues', 'goodjob_waiting_pools',
                  'goodjob_settings']) as t;

select is((select name from goodjob_migrations where version = '0001'), 'core',
          'migration 0001 recorded itself in goodjob_migrations');
select is((select value from goodjob_settings where key = 'preserve_job_records'), '"always"'::jsonb,
          'the global preservation policy is installed as "always"');

-- Columns of the contract -----------------------------------------------------

select col_type_is('goodjob_jobs', c, t, format('goodjob_jobs.%s is %s', c, t))
from (values ('id', 'uuid'), ('task', 'text'), ('args', 'jsonb'), ('kwargs', 'jsonb'), ('queue', 'text'),
             ('priority', 'integer'), ('run_at', 'timestamp with time zone'), ('state', 'text'),
             ('attempts', 'integer'), ('max_attempts', 'integer'), ('labels', 'text[]'),
             ('concurrency_key', 'text'), ('batch_id', 'uuid'), ('cron_key', 'text'),
             ('cron_at', 'timestamp with time zone'), ('created_at', 'timestamp with time zone'),
             ('started_at', 'timestamp with time zone'), ('finished_at', 'timestamp with time zone'),
             ('last_error', 'text'), ('locked_by', 'uuid')) as v(c, t);
select col_is_pk('goodjob_jobs', 'id', 'goodjob_jobs is keyed by id');

select col_type_is('goodjob_executions', c, t, format('goodjob_executions.%s is %s', c, t))
from (values ('job_id', 'uuid'), ('attempt', 'integer'), ('process_id', 'uuid'),
             ('started_at', 'timestamp with time zone'), ('finished_at', 'timestamp with time zone'),
             ('outcome', 'text'), ('error_class', 'text'), ('error_message', 'text'),
             ('error_backtrace', 'text')) as v(c, t);
select col_is_pk('goodjob_executions', array['job_id', 'attempt'],
                 'goodjob_executions has one row per (job_id, attempt)');
select col_not_null('goodjob_executions', c, format('goodjob_executions.%s is not null: a row is a finished attempt', c))
from unnest(array['finished_at', 'outcome']) as c;
select is(
  array(select p.oid::regprocedure::text || ' ' || array_to_string(p.proconfig, ' ') from pg_proc p
        where p.proname like 'goodjob%' and p.pronamespace = current_schema()::regnamespace
          and p.proconfig && array['jit=off']
        order by 1),
  array[format('goodjob_fetch_and_lock(uuid,text,integer,timestamp with time zone) search_path=%s plan_cache_mode=force_generic_plan jit=off', current_schema()),
        format('goodjob_report(uuid,uuid[],integer[],text[],text[],text[],text[],timestamp with time zone[],timestamp with time zone) search_path=%s jit=off', current_schema())],
  'the hot-path functions never JIT-compile, and the fetch reuses one generic plan');

select col_type_is('goodjob_processes', c, t, format('goodjob_processes.%s is %s', c, t))
from (values ('id', 'uuid'), ('hostname', 'text'), ('pid', 'integer'), ('queues', 'text'), ('state', 'jsonb'),
             ('lease_key', 'integer'), ('started_at', 'timestamp with time zone'),
             ('heartbeat_at', 'timestamp with time zone')) as v(c, t);
select col_default_is('goodjob_processes', 'lease_key', $$nextval('goodjob_processes_lease_key_seq'::regclass)$$,
                      'a process takes its lease key from goodjob_processes_lease_key_seq');
select has_sequence('goodjob_processes_lease_key_seq', 'the lease key sequence exists');

select col_type_is('goodjob_tasks', c, t, format('goodjob_tasks.%s is %s', c, t))
from (values ('name', 'text'), ('queue', 'text'), ('priority', 'integer'), ('max_attempts', 'integer'),
             ('backoff', 'text'), ('backoff_base', 'double precision'), ('preserve', 'text'),
             ('labels', 'text[]'), ('updated_at', 'timestamp with time zone')) as v(c, t);

select col_is_pk('goodjob_pauses', array['kind', 'name'], 'a pause is keyed by (kind, name)');
select col_is_pk('goodjob_queues', 'name', 'goodjob_queues is keyed by name');
select col_is_pk('goodjob_settings', 'key', 'goodjob_settings is keyed by key');

select col_type_is('goodjob_waiting_pools', c, t, format('goodjob_waiting_pools.%s is %s', c, t))
from (values ('process_id', 'uuid'), ('pool', 'integer'), ('since', 'timestamp with time zone')) as v(c, t);
select col_not_null('goodjob_waiting_pools', c, format('goodjob_waiting_pools.%s is not null', c))
from unnest(array['process_id', 'pool', 'since']) as c;
select col_default_is('goodjob_waiting_pools', 'since', 'now()', 'goodjob_waiting_pools.since defaults to now()');
select col_is_pk('goodjob_waiting_pools', array['process_id', 'pool'],
                 'goodjob_waiting_pools has one row per (process_id, pool)');
select hasnt_fk('goodjob_waiting_pools',
                'goodjob_waiting_pools has no foreign key (deregister and rescue delete its rows)');
select col_type_is('goodjob_settings', 'value', 'jsonb', 'goodjob_settings.value is jsonb');

-- Functions: argument lists with names and defaults, and results ------------

select is(pg_get_function_arguments(f::regprocedure), args, format('%s takes (%s)', f, args))
from (values
  ('goodjob_enqueue(text,jsonb,jsonb,text,int,timestamptz,text[],text,uuid,int,uuid)',
   $$task text, args jsonb DEFAULT '[]'::jsonb, kwargs jsonb DEFAULT '{}'::jsonb, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, labels text[] DEFAULT NULL::text[], concurrency_key text DEFAULT NULL::text, batch_id uuid DEFAULT NULL::uuid, max_attempts integer DEFAULT NULL::integer, id uuid DEFAULT NULL::uuid$$),
  ('goodjob_enqueue_many(jsonb)', 'jobs jsonb'),
  ('goodjob_define_task(text,text,int,int,text,float8,text,text[])',
   'name text, queue text DEFAULT NULL::text, priority integer DEFAULT NULL::integer, max_attempts integer DEFAULT NULL::integer, backoff text DEFAULT NULL::text, backoff_base double precision DEFAULT NULL::double precision, preserve text DEFAULT NULL::text, labels text[] DEFAULT NULL::text[]'),
  ('goodjob_backoff_seconds(text,float8,int)', 'backoff text, backoff_base double precision, attempt integer'),
  ('goodjob_register_process(text,int,text,jsonb,uuid)',
   $$hostname text, pid integer, queues text, state jsonb DEFAULT '{}'::jsonb, id uuid DEFAULT NULL::uuid$$),
  ('goodjob_heartbeat(uuid,jsonb)', 'process_id uuid, state jsonb DEFAULT NULL::jsonb'),
  ('goodjob_deregister_process(uuid)', 'process_id uuid'),
  ('goodjob_rescue_dead_processes()', ''),
  ('goodjob_fetch_and_lock(uuid,text,int,timestamptz)',
   $$process_id uuid, queues text DEFAULT '*'::text, max_jobs integer DEFAULT 1, as_of timestamp with time zone DEFAULT now()$$),
  ('goodjob_upcoming_run_times(int)', 'max_rows integer DEFAULT 10000'),
  ('goodjob_report_results(uuid,jsonb,timestamptz)',
   'process_id uuid, results jsonb, as_of timestamp with time zone DEFAULT now()'),
  ('goodjob_report(uuid,uuid[],int[],text[],text[],text[],text[],timestamptz[],timestamptz)',
   'process_id uuid, ids uuid[], attempts integer[], outcomes text[], error_classes text[] DEFAULT NULL::text[], error_messages text[] DEFAULT NULL::text[], error_backtraces text[] DEFAULT NULL::text[], run_ats timestamp with time zone[] DEFAULT NULL::timestamp with time zone[], as_of timestamp with time zone DEFAULT now()'),
  ('goodjob_wait(uuid,int)', 'process_id uuid, pool integer DEFAULT 0'),
  ('goodjob_unwait(uuid,int)', 'process_id uuid, pool integer DEFAULT 0'),
  ('goodjob_uuid_v7()', ''),
  ('goodjob_succeed_job(uuid,uuid,int)', 'id uuid, process_id uuid, attempt integer'),
  ('goodjob_fail_job(uuid,uuid,int,text,text,text,boolean)',
   'id uuid, process_id uuid, attempt integer, error_class text, error_message text, error_backtrace text DEFAULT NULL::text, discard boolean DEFAULT false'),
  ('goodjob_retry_job(uuid)', 'id uuid'),
  ('goodjob_discard_job(uuid,text)', 'id uuid, reason text DEFAULT NULL::text'),
  ('goodjob_reschedule_job(uuid,timestamptz)', 'id uuid, run_at timestamp with time zone'),
  ('goodjob_cleanup_preserved_jobs(interval,boolean,timestamptz)',
   $$older_than interval DEFAULT '14 days'::interval, include_discarded boolean DEFAULT true, as_of timestamp with time zone DEFAULT now()$$),
  ('goodjob_pause(text,text,text)', 'queue text DEFAULT NULL::text, task text DEFAULT NULL::text, label text DEFAULT NULL::text'),
  ('goodjob_resume(text,text,text)', 'queue text DEFAULT NULL::text, task text DEFAULT NULL::text, label text DEFAULT NULL::text')
) as v(f, args);

select is(pg_get_function_result(f::regprocedure), result, format('%s returns %s', f, result))
from (values
  ('goodjob_enqueue(text,jsonb,jsonb,text,int,timestamptz,text[],text,uuid,int,uuid)', 'uuid'),
  ('goodjob_enqueue_many(jsonb)', 'SETOF uuid'),
  ('goodjob_define_task(text,text,int,int,text,float8,text,text[])', 'void'),
  ('goodjob_backoff_seconds(text,float8,int)', 'double precision'),
  ('goodjob_register_process(text,int,text,jsonb,uuid)', 'uuid'),
  ('goodjob_heartbeat(uuid,jsonb)', 'boolean'),
  ('goodjob_deregister_process(uuid)', 'integer'),
  ('goodjob_rescue_dead_processes()', 'integer'),
  ('goodjob_fetch_and_lock(uuid,text,int,timestamptz)', 'SETOF goodjob_jobs'),
  ('goodjob_upcoming_run_times(int)', 'TABLE(queue text, run_at timestamp with time zone)'),
  ('goodjob_report_results(uuid,jsonb,timestamptz)', 'SETOF goodjob_report_outcome'),
  ('goodjob_report(uuid,uuid[],int[],text[],text[],text[],text[],timestamptz[],timestamptz)', 'SETOF goodjob_report_outcome'),
  ('goodjob_wait(uuid,int)', 'boolean'),
  ('goodjob_unwait(uuid,int)', 'void'),
  ('goodjob_uuid_v7()', 'uuid'),
  ('goodjob_succeed_job(uuid,uuid,int)', 'boolean'),
  ('goodjob_fail_job(uuid,uuid,int,text,text,text,boolean)', 'text'),
  ('goodjob_retry_job(uuid)', 'uuid'),
  ('goodjob_discard_job(uuid,text)', 'uuid'),
  ('goodjob_reschedule_job(uuid,timestamptz)', 'uuid'),
  ('goodjob_cleanup_preserved_jobs(interval,boolean,timestamptz)', 'bigint'),
  ('goodjob_pause(text,text,text)', 'void'),
  ('goodjob_resume(text,text,text)', 'void')
) as v(f, result);

select has_type('goodjob_report_outcome', 'the composite type goodjob_report_outcome exists');
select is(
  (select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
   from pg_attribute a where a.attrelid = 'goodjob_report_outcome'::regclass and a.attnum > 0),
  'id uuid, accepted boolean, state text, run_at timestamp with time zone',
  'goodjob_report_outcome is (id, accepted, state, run_at)');

-- Internal helpers, with the argument lists the other functions call them by.
select is(pg_get_function_arguments(f::regprocedure), args, format('%s takes (%s)', f, args))
from (values
  ('goodjob__task_is_valid(text)', 'task text'),
  ('goodjob__queue_is_valid(text)', 'queue text'),
  ('goodjob__diagnose_jobs(jsonb)', 'jobs jsonb')
) as v(f, args);
select is(pg_get_function_result(f::regprocedure), result, format('%s returns %s', f, result))
from (values
  ('goodjob__task_is_valid(text)', 'boolean'),
  ('goodjob__queue_is_valid(text)', 'boolean'),
  ('goodjob__diagnose_jobs(jsonb)', 'void')
) as v(f, result);

-- Every goodjob_ function pins its search_path to the schema it was installed
-- in, without "$user" (a schema named after the caller must not shadow the
-- tables), except the few small SQL functions the planner inlines into the
-- hot paths (a SET clause would prevent that): those are language sql and
-- reach nothing through the search_path but pg_catalog. Every public one
-- documents itself with a comment.
select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.proname like 'goodjob%' and p.pronamespace = current_schema()::regnamespace
          and p.proconfig is not null
          and not array['search_path=' || current_schema()] <@ p.proconfig
        order by 1),
  '{}'::text[],
  'every goodjob_ function with a SET clause pins search_path to exactly its own schema');
select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.proname like 'goodjob%' and p.pronamespace = current_schema()::regnamespace and p.proconfig is null
        order by 1),
  array['goodjob__channel()', 'goodjob__lock_class()', 'goodjob__queue_is_valid(text)',
        'goodjob__task_is_valid(text)', 'goodjob_uuid_v7()'],
  'only the inlinable helpers and goodjob_uuid_v7 have no SET clause');
select results_eq(
  $$select p.oid::regprocedure::text collate "default", l.lanname::text collate "default",
           p.provolatile::text collate "default", p.proparallel::text collate "default", p.prosecdef, p.proisstrict
    from pg_proc p join pg_language l on l.oid = p.prolang
    where p.oid in ('goodjob__queue_is_valid(text)'::regprocedure, 'goodjob__task_is_valid(text)'::regprocedure,
                    'goodjob_uuid_v7()'::regprocedure, 'goodjob__lock_class()'::regprocedure,
                    'goodjob__channel()'::regprocedure)
    order by 1$$,
  $$values ('goodjob__channel()', 'sql', 'i', 's', false, false),
           ('goodjob__lock_class()', 'sql', 'i', 's', false, false),
           ('goodjob__queue_is_valid(text)', 'sql', 'i', 's', false, false),
           ('goodjob__task_is_valid(text)', 'sql', 'i', 's', false, false),
           ('goodjob_uuid_v7()', 'sql', 'v', 's', false, false)$$,
  'they are language sql, not strict, not security definer, parallel safe; all but goodjob_uuid_v7 immutable');

-- Inlined: the plan of a query calling them shows their body, not the call.
create function pg_temp.plan_of(sql text) returns text
language plpgsql as $$
declare
  v_plan text := '';
  v_line text;
begin
  for v_line in execute 'explain (verbose, costs off) ' || sql loop
    v_plan := v_plan || v_line || E'\n';
  end loop;
  return v_plan;
end
$$;
select unalike(pg_temp.plan_of(format('select %s from (values (%L), (%L)) as v(x)', f, 'a', 'b')), '%' || name || '%',
               format('%s is inlined into the query that calls it', name))
from (values ('goodjob__task_is_valid', 'goodjob__task_is_valid(v.x)'),
             ('goodjob__queue_is_valid', 'goodjob__queue_is_valid(v.x)'),
             ('goodjob_uuid_v7', 'goodjob_uuid_v7()')) as t(name, f);

-- The install's lock class and channel fold into constants: the hot paths
-- that take the leases, the wake-up gate and the concurrency-key locks, or
-- NOTIFY, plan a literal. Schema public keeps the historical values.
select alike(pg_temp.plan_of('select pg_try_advisory_xact_lock_shared(goodjob__lock_class(), -1), pg_notify(goodjob__channel(), ''{}'')'),
             format('%%pg_try_advisory_xact_lock_shared(%%%s%%, %%pg_notify(%L::text%%', goodjob__lock_class(), goodjob__channel()),
             'goodjob__lock_class() and goodjob__channel() are folded into literals');
select unalike(pg_temp.plan_of('select pg_try_advisory_xact_lock_shared(goodjob__lock_class(), -1), pg_notify(goodjob__channel(), ''{}'')'),
               '%goodjob\_\_%', 'no call of goodjob__lock_class() or goodjob__channel() is left in the plan');
select is(goodjob__lock_class() = 1735028839, current_schema() = 'public',
          'the lock class is 1735028839 in schema public and only there');
select is(goodjob__channel(),
          case when current_schema() = 'public' then 'goodjob' else 'goodjob_' || current_schema() end,
          'the channel is goodjob in schema public, goodjob_<schema> elsewhere');
select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.proname like 'goodjob\_%' and p.proname not like 'goodjob\_\_%'
          and p.proname not like 'goodjob\_tg\_%'
          and p.pronamespace = current_schema()::regnamespace
          and obj_description(p.oid, 'pg_proc') is null
        order by 1),
  '{}'::text[],
  'every public goodjob_ function has a comment (\df+ documents the API)');

select volatility_is('goodjob_upcoming_run_times', array['integer'], 'stable',
                     'goodjob_upcoming_run_times only reads, so it is stable');
select volatility_is('goodjob_backoff_seconds', array['text', 'double precision', 'integer'], 'volatile',
                     'goodjob_backoff_seconds is volatile (exponential backoff has jitter)');

-- Partial indexes and their predicates -----------------------------------------

select has_index('goodjob_jobs', i, cols, format('index %s on goodjob_jobs (%s)', i, array_to_string(cols, ', ')))
from (values
  ('goodjob_jobs_queue_priority_run_at_id_idx', array['queue', 'priority', 'run_at', 'id']),
  ('goodjob_jobs_run_at_idx', array['run_at']),
  ('goodjob_jobs_locked_by_idx', array['locked_by']),
  ('goodjob_jobs_finished_at_idx', array['finished_at']),
  ('goodjob_jobs_cron_key_cron_at_idx', array['cron_key', 'cron_at'])
) as v(i, cols);

select is((select pg_get_expr(x.indpred, x.indrelid) from pg_index x where x.indexrelid = i::regclass), pred,
          format('index %s covers only rows where %s', i, pred))
from (values
  ('goodjob_jobs_queue_priority_run_at_id_idx', $$(state = 'queued'::text)$$),
  ('goodjob_jobs_run_at_idx', $$(state = 'scheduled'::text)$$),
  ('goodjob_jobs_locked_by_idx', $$(state = 'running'::text)$$),
  ('goodjob_jobs_finished_at_idx', $$(state = ANY (ARRAY['succeeded'::text, 'discarded'::text]))$$),
  ('goodjob_jobs_cron_key_cron_at_idx', '(cron_key IS NOT NULL)')
) as v(i, pred);

select hasnt_index('goodjob_jobs', 'goodjob_jobs_priority_run_at_id_idx',
                   'no index over all ready jobs: every selector, * included, walks the per-queue index');
select is(
  array(select x.indexrelid::regclass::text from pg_index x
        where x.indrelid = 'goodjob_jobs'::regclass and pg_get_expr(x.indpred, x.indrelid) like '%''queued''%'
        order by 1),
  array['goodjob_jobs_queue_priority_run_at_id_idx'],
  'the per-queue index is the only index of ready jobs');

select index_is_unique(current_schema(), 'goodjob_jobs', 'goodjob_jobs_cron_key_cron_at_idx',
                       'one job per (cron_key, cron_at): the cron index is unique');
select is(
  array(select x.indexrelid::regclass::text from pg_index x
        where x.indrelid = 'goodjob_jobs'::regclass and x.indpred is null order by 1),
  array['goodjob_jobs_pkey'],
  'the primary key is the only index on goodjob_jobs that covers every row');

-- Constraints by name -------------------------------------------------------------

select is((select pg_get_constraintdef(c.oid) from pg_constraint c
           where c.conrelid = tbl::regclass and c.conname = name), def,
          format('%s has constraint %s', tbl, name))
from (values
  ('goodjob_jobs', 'goodjob_jobs_state_known',
   $$CHECK ((state = ANY (ARRAY['scheduled'::text, 'queued'::text, 'running'::text, 'succeeded'::text, 'discarded'::text])))$$),
  ('goodjob_jobs', 'goodjob_jobs_task_length', 'CHECK (((length(task) >= 1) AND (length(task) <= 255)))'),
  ('goodjob_jobs', 'goodjob_jobs_queue_length', 'CHECK (((length(queue) >= 1) AND (length(queue) <= 128)))'),
  ('goodjob_jobs', 'goodjob_jobs_args_is_array', $$CHECK ((jsonb_typeof(args) = 'array'::text))$$),
  ('goodjob_jobs', 'goodjob_jobs_kwargs_is_object', $$CHECK ((jsonb_typeof(kwargs) = 'object'::text))$$),
  ('goodjob_jobs', 'goodjob_jobs_max_attempts_positive', 'CHECK ((max_attempts >= 1))'),
  ('goodjob_jobs', 'goodjob_jobs_attempts_not_negative', 'CHECK ((attempts >= 0))'),
  ('goodjob_jobs', 'goodjob_jobs_running_has_process', $$CHECK (((state = 'running'::text) = (locked_by IS NOT NULL)))$$),
  ('goodjob_jobs', 'goodjob_jobs_finished_has_time',
   $$CHECK (((state = ANY (ARRAY['succeeded'::text, 'discarded'::text])) = (finished_at IS NOT NULL)))$$),
  ('goodjob_executions', 'goodjob_executions_outcome_known',
   $$CHECK ((outcome = ANY (ARRAY['succeeded'::text, 'failed'::text, 'discarded'::text, 'interrupted'::text])))$$),
  ('goodjob_tasks', 'goodjob_tasks_max_attempts_positive', 'CHECK ((max_attempts >= 1))'),
  ('goodjob_tasks', 'goodjob_tasks_backoff_known',
   $$CHECK ((backoff = ANY (ARRAY['constant'::text, 'linear'::text, 'exponential'::text, 'polynomial'::text])))$$),
  ('goodjob_tasks', 'goodjob_tasks_backoff_base_not_negative', 'CHECK ((backoff_base >= (0)::double precision))'),
  ('goodjob_tasks', 'goodjob_tasks_preserve_known',
   $$CHECK ((preserve = ANY (ARRAY['always'::text, 'on_discard'::text, 'never'::text])))$$),
  ('goodjob_pauses', 'goodjob_pauses_kind_known', $$CHECK ((kind = ANY (ARRAY['queue'::text, 'task'::text, 'label'::text])))$$),
  ('goodjob_processes', 'goodjob_processes_lease_key_unique', 'UNIQUE (lease_key)')
) as v(tbl, name, def);

-- The constraints hold even for writes that bypass the functions.
select throws_ok(
  $$insert into goodjob_jobs (task, state) values ('t', 'running')$$, '23514',
  'new row for relation "goodjob_jobs" violates check constraint "goodjob_jobs_running_has_process"',
  'a running job must name its process');
select throws_ok(
  $$insert into goodjob_jobs (task, state) values ('t', 'succeeded')$$, '23514',
  'new row for relation "goodjob_jobs" violates check constraint "goodjob_jobs_finished_has_time"',
  'a finished job must have finished_at');
select throws_ok(
  $$insert into goodjob_jobs (task, state) values ('t', 'failed')$$, '23514',
  'new row for relation "goodjob_jobs" violates check constraint "goodjob_jobs_state_known"',
  'state is one of the five known states');

-- Storage options ------------------------------------------------------------------

select is((select reloptions from pg_class where oid = 'goodjob_jobs'::regclass),
          array['fillfactor=80', 'autovacuum_vacuum_scale_factor=0.02',
                'autovacuum_vacuum_insert_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02',
                'autovacuum_vacuum_cost_limit=2000', 'autovacuum_vacuum_cost_delay=1'],
          'goodjob_jobs leaves room for HOT updates and is vacuumed at 2% dead rows');
select is((select reloptions from pg_class where oid = 'goodjob_executions'::regclass), null,
          'goodjob_executions is written once per attempt and never updated: default storage');
select is((select reloptions from pg_class where oid = 'goodjob_waiting_pools'::regclass), null,
          'goodjob_waiting_pools has no storage options');

-- goodjob_waiting_pools is unlogged (a crash empties it; workers wait again),
-- with its primary key index; every other table is logged.
select results_eq(
  $$select c.relname::text collate "default", c.relpersistence::text collate "default" from pg_class c
    where c.relnamespace = current_schema()::regnamespace and c.relname like 'goodjob%' and c.relkind in ('r', 'i', 'S')
      and c.relpersistence <> 'p'
    order by 1$$,
  $$values ('goodjob_waiting_pools', 'u'), ('goodjob_waiting_pools_pkey', 'u')$$,
  'goodjob_waiting_pools and its key are the only unlogged relations');

-- The NOTIFY trigger: statement level, after insert, with a transition table --

select has_trigger('goodjob_jobs', 'goodjob_jobs_after_insert', 'goodjob_jobs has the insert trigger');
select trigger_is('goodjob_jobs', 'goodjob_jobs_after_insert', 'goodjob_tg_jobs__after_insert',
                  'the insert trigger calls goodjob_tg_jobs__after_insert');
select results_eq(
  $$select action_timing::text collate "default", event_manipulation::text collate "default",
           action_orientation::text collate "default", action_reference_new_table::text collate "default"
    from information_schema.triggers
    where event_object_table = 'goodjob_jobs' and trigger_name = 'goodjob_jobs_after_insert'$$,
  $$values ('AFTER', 'INSERT', 'STATEMENT', 'new_jobs')$$,
  'the trigger fires once per statement, after insert, over the transition table new_jobs');
select is(
  array(select t.tgname::text || ': ' || pg_get_triggerdef(t.oid) from pg_trigger t
         where t.tgrelid = 'goodjob_jobs'::regclass and not t.tgisinternal and (t.tgtype & 1) = 1
         order by t.tgname),
  array['goodjob_jobs_arguments_size: CREATE TRIGGER goodjob_jobs_arguments_size BEFORE INSERT ON ' || current_schema() || '.goodjob_jobs FOR EACH ROW WHEN (((pg_column_size(new.args) > 1048576) OR (pg_column_size(new.kwargs) > 1048576))) EXECUTE FUNCTION goodjob_tg_jobs__arguments_size()',
        'goodjob_jobs_batch_result: CREATE TRIGGER goodjob_jobs_batch_result AFTER UPDATE OF state ON ' || current_schema() || '.goodjob_jobs FOR EACH ROW WHEN (((new.batch_id IS NOT NULL) AND (old.state IS DISTINCT FROM new.state) AND ((old.state = ANY (ARRAY[''succeeded''::text, ''discarded''::text])) OR (new.state = ANY (ARRAY[''succeeded''::text, ''discarded''::text]))))) EXECUTE FUNCTION goodjob_tg_jobs__batch_result()'],
  'the row-level triggers on goodjob_jobs are the size check and the batch trigger, which WHEN clauses keep off every job under the size limit and outside a batch');

-- Views ----------------------------------------------------------------------------

select has_view(v, format('view %s exists', v))
from unnest(array['goodjob_queue_stats', 'goodjob_running_jobs', 'goodjob_process_status']) as v;

select * from finish();
rollback;
