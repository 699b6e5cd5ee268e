-- 0011_lease_backstop: the heartbeat backstop for leases that outlive their worker.
--
-- A lease is a session-level advisory lock, so it lasts as long as the
-- server keeps the worker's session. A worker whose host lost power, or whose
-- network path black-holes packets, leaves that session open until TCP gives
-- up (keepalives, tcp_user_timeout), and its jobs stay 'running'. Its
-- heartbeat stops, though: goodjob_terminate_stale_processes ends the
-- backend of every process whose lease is held but whose heartbeat is older
-- than a threshold, so the next goodjob_rescue_dead_processes sees the lease
-- free and makes its jobs ready again. The late results of such a worker are
-- refused by the usual fencing (owner and attempt).
--
-- Ending another session needs the privileges of its role, superuser, or
-- membership in pg_signal_backend (with sql/roles.sql installed the function
-- runs as goodjob_owner, which that script makes a member). Without them the
-- process is reported with terminated = false and the reason, nothing is
-- raised. SQLSTATEs: GJ070 bad older_than, GJ071 null as_of.

insert into goodjob_migrations (version, name) values ('0011', 'lease_backstop');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

-- goodjob_terminate_stale_processes: end the sessions holding the leases of
-- processes whose heartbeat is older than older_than (before as_of). Never
-- the calling session. Sends SIGTERM to each backend (pg_terminate_backend),
-- then waits up to 2 s for those backends to release their leases, so a
-- rescue right after it finds them free. Returns one row per stale process
-- with a held lease: its id, the backend's pid, its last heartbeat, whether
-- the backend was signalled, and why not (permission denied, not a backend).
-- Errors: GJ070 older_than null, zero or negative; GJ071 as_of null.
create function goodjob_terminate_stale_processes(
  older_than interval,
  as_of timestamptz default now()
) returns table (process_id uuid, backend_pid int, heartbeat_at timestamptz, terminated boolean,
                 error text)
language plpgsql volatile set search_path from current as $$
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
comment on function goodjob_terminate_stale_processes(interval, timestamptz) is
  'The heartbeat backstop: end the backend holding the lease of every process whose heartbeat is older than older_than (before as_of), never the caller''s own, and wait up to 2 s for those backends to exit; then goodjob_rescue_dead_processes() rescues their jobs. Needs the privileges of the other session''s role, superuser or pg_signal_backend; without them the row says terminated = false and why. Returns process_id, backend_pid, heartbeat_at, terminated, error. Errors: GJ070 (older_than null or not positive), GJ071 (as_of null).';
