-- goodjob-pg least-privilege roles. Not a migration: run it as a superuser
-- (or the database owner with CREATEROLE) after every `goodjob-pg migrate`,
-- with the goodjob schema first on the search_path:
--
--   make install-roles DATABASE_URL=postgresql://postgres@host/db
--   psql -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f sql/roles.sql
--   make install-roles SCHEMA=jobs ...   (an install in schema jobs)
--
-- Roles belong to the cluster, not to a schema: run for two installs, it
-- gives the same four roles rights in both schemas. To keep two
-- applications' roles apart, give their login roles only the USAGE of their
-- own schema (revoke usage on schema ... from the goodjob_* role you grant,
-- or grant per-schema login roles the functions directly).
--
-- It is idempotent. Why after every migrate: a migration that replaces a
-- function (create or replace) resets the attributes set here.
--
-- What it does, in the schema that holds goodjob_jobs (current_schema()):
--   * roles (NOLOGIN; grant them to your login roles):
--       goodjob_owner     owns every goodjob object; nobody logs in as it; a
--                         member of pg_signal_backend (see below)
--       goodjob_enqueuer  may enqueue (goodjob_enqueue, goodjob_enqueue_many,
--                         goodjob_create_batch, goodjob_add_batch_jobs,
--                         goodjob_enqueue_batch) and read only what they
--                         return: no table or view privilege at all
--       goodjob_worker    enqueuer + the worker protocol (register, heartbeat,
--                         fetch, report, wait, rescue, ending stale leases,
--                         cleanup, task and cron definitions) + SELECT on the
--                         tables and views
--       goodjob_admin     worker + every operator function (retry, discard,
--                         reschedule, pause, cron enable/disable/run, batches)
--   * EXECUTE revoked from PUBLIC on every goodjob function; no table,
--     view or sequence is writable by anyone but goodjob_owner, so writes go
--     through the functions;
--   * every public goodjob function becomes SECURITY DEFINER (runs as
--     goodjob_owner, the only role that may write the tables) with its
--     search_path pinned to pg_catalog, the goodjob schema, pg_temp last,
--     as the PostgreSQL manual advises ("Writing SECURITY DEFINER Functions
--     Safely"): a caller's look-alike functions or tables in its own schemas
--     or in pg_temp are never found. Internal helpers and trigger functions
--     get the same pinned search_path and stay SECURITY INVOKER (they run
--     inside a definer function, as goodjob_owner, or as a trigger).

do $roles$
declare
  v_schema text := current_schema();
  v_role text;
  v_obj record;
  v_path text;
begin
  if v_schema is null or to_regclass(format('%I.goodjob_jobs', v_schema)) is null then
    raise exception 'sql/roles.sql: no goodjob_jobs in schema %; run goodjob-pg migrate first, with the goodjob schema first on the search_path', coalesce(v_schema, '(none)');
  end if;
  foreach v_role in array array['goodjob_owner', 'goodjob_enqueuer', 'goodjob_worker', 'goodjob_admin'] loop
    if not exists (select 1 from pg_roles where rolname = v_role) then
      execute format('create role %I nologin', v_role);
    end if;
  end loop;
  -- worker includes enqueuer, admin includes worker
  grant goodjob_enqueuer to goodjob_worker;
  grant goodjob_worker to goodjob_admin;
  -- goodjob_terminate_stale_processes runs as goodjob_owner and ends the
  -- sessions of workers (other login roles) whose lease outlived their
  -- heartbeat: that needs pg_signal_backend (never a superuser's session).
  grant pg_signal_backend to goodjob_owner;

  execute format('grant usage on schema %I to goodjob_enqueuer, goodjob_worker, goodjob_admin', v_schema);
  execute format('revoke create on schema %I from public', v_schema);
  v_path := format('pg_catalog, %I, pg_temp', v_schema);

  -- Tables, views, sequences: owned by goodjob_owner, nothing for PUBLIC.
  for v_obj in
    select c.oid::regclass as name, c.relkind from pg_class c
     where c.relnamespace = v_schema::regnamespace and c.relname like 'goodjob\_%'
       and c.relkind in ('r', 'v', 'S', 'p', 'm')
       and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'a'
                         and c.relkind = 'S')  -- owned sequences follow their table
  loop
    execute format('alter %s %s owner to goodjob_owner',
                   case v_obj.relkind when 'v' then 'view' when 'S' then 'sequence'
                                      when 'm' then 'materialized view' else 'table' end,
                   v_obj.name);
    execute format('revoke all on %s from public', v_obj.name);
    if v_obj.relkind <> 'S' then
      execute format('grant select on %s to goodjob_worker', v_obj.name);
    end if;
  end loop;

  -- Functions: owned by goodjob_owner, search_path pinned, EXECUTE from PUBLIC revoked.
  for v_obj in
    select p.oid::regprocedure as sig, p.proname::text as name, p.prorettype = 'trigger'::regtype as is_trigger
      from pg_proc p
     where p.pronamespace = v_schema::regnamespace and p.proname like 'goodjob\_%'
  loop
    execute format('alter function %s owner to goodjob_owner', v_obj.sig);
    execute format('alter function %s set search_path = %s', v_obj.sig, v_path);
    execute format('revoke all on function %s from public', v_obj.sig);
    if not v_obj.is_trigger and v_obj.name not like 'goodjob\_\_%' and v_obj.name not like 'goodjob\_tg\_%' then
      execute format('alter function %s security definer', v_obj.sig);
      execute format('grant execute on function %s to %I', v_obj.sig,
        case
          when v_obj.name in ('goodjob_enqueue', 'goodjob_enqueue_many', 'goodjob_create_batch',
                              'goodjob_add_batch_jobs', 'goodjob_enqueue_batch', 'goodjob_uuid_v7')
            then 'goodjob_enqueuer'
          when v_obj.name in ('goodjob_register_process', 'goodjob_heartbeat', 'goodjob_deregister_process',
                              'goodjob_fetch_and_lock', 'goodjob_report', 'goodjob_report_results',
                              'goodjob_succeed_job', 'goodjob_fail_job', 'goodjob_wait', 'goodjob_unwait',
                              'goodjob_upcoming_run_times', 'goodjob_rescue_dead_processes',
                              'goodjob_terminate_stale_processes',
                              'goodjob_cleanup_preserved_jobs', 'goodjob_define_task',
                              'goodjob_define_concurrency',
                              'goodjob_define_cron_entry', 'goodjob_enqueue_cron_tick',
                              'goodjob_backoff_seconds', 'goodjob_set_trace_context')
            then 'goodjob_worker'
          else 'goodjob_admin'
        end);
    end if;
  end loop;
  -- The install's lock class and NOTIFY channel: constants, read by a
  -- worker to know where to LISTEN (invoker rights are enough).
  execute format('grant execute on function %I.goodjob__channel(), %I.goodjob__lock_class() to goodjob_worker',
                 v_schema, v_schema);
end
$roles$;
