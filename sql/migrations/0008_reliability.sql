-- 0008_reliability: a configurable maximum size for a job's args and kwargs.
--
-- goodjob_settings key 'max_arguments_bytes' (a JSON integer, default
-- 1048576 = 1 MB) bounds pg_column_size(args) and pg_column_size(kwargs) of
-- every inserted job: the size of the jsonb value as Postgres holds it (for a
-- value sent by a client, its uncompressed binary size, close to the length
-- of its JSON text). An insert over the limit fails the whole statement with
-- GJ050, so goodjob_enqueue and goodjob_enqueue_many write nothing.
--
-- Cost: the check is a BEFORE INSERT row trigger whose WHEN clause holds the
-- limit as a constant, so a job under the limit pays two pg_column_size calls
-- and never enters PL/pgSQL. Changing the setting (insert, update or delete
-- of the row) re-creates the trigger with the new constant, through a
-- trigger on goodjob_settings that first validates the value (GJ051).
-- Errors raised here: GJ050 arguments too large, GJ051 bad setting value.

insert into goodjob_migrations (version, name) values ('0008', 'reliability');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

insert into goodjob_settings (key, value) values ('max_arguments_bytes', '1048576')
on conflict (key) do nothing;

-- Fires only for a job whose args or kwargs exceed the limit (the trigger's
-- WHEN clause); reads the limit again and raises GJ050 naming both sizes.
create function goodjob_tg_jobs__arguments_size() returns trigger
language plpgsql set search_path from current as $$
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

-- (Re-)create the size trigger with the limit in its WHEN clause. Internal:
-- called by the settings trigger below and once here.
create function goodjob__apply_max_arguments_bytes(p_limit bigint) returns void
language plpgsql set search_path from current as $$
begin
  drop trigger if exists goodjob_jobs_arguments_size on goodjob_jobs;
  execute pg_catalog.format(
    'create trigger goodjob_jobs_arguments_size before insert on goodjob_jobs for each row'
    ' when (pg_catalog.pg_column_size(new.args) > %1$s or pg_catalog.pg_column_size(new.kwargs) > %1$s)'
    ' execute function goodjob_tg_jobs__arguments_size()', p_limit);
end
$$;

-- Validates a new max_arguments_bytes (a JSON integer from 1 to 1 GB, GJ051)
-- and applies it; a deleted row means the default, 1 MB.
create function goodjob_tg_settings__max_arguments_bytes() returns trigger
language plpgsql set search_path from current as $$
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

create trigger goodjob_settings_max_arguments_bytes
  before insert or update on goodjob_settings
  for each row when (new.key = 'max_arguments_bytes')
  execute function goodjob_tg_settings__max_arguments_bytes();

create trigger goodjob_settings_max_arguments_bytes_deleted
  after delete on goodjob_settings
  for each row when (old.key = 'max_arguments_bytes')
  execute function goodjob_tg_settings__max_arguments_bytes();

do $$
begin
  perform goodjob__apply_max_arguments_bytes(
    (select (s.value #>> '{}')::bigint from goodjob_settings s where s.key = 'max_arguments_bytes'));
end
$$;

-- goodjob_cleanup_preserved_jobs (replaces 0001's; same signature, comment
-- and behaviour): an older_than reaching before the earliest timestamp
-- (e.g. 10,000 years, found by the fuzz test) raised 22008 "timestamp out of
-- range" from inside the delete; the cut-off is now computed once, and one
-- that underflows means -infinity: nothing is that old, nothing is deleted.
create or replace function goodjob_cleanup_preserved_jobs(
  older_than interval default '14 days',
  include_discarded boolean default true,
  as_of timestamptz default now()
) returns bigint
language plpgsql volatile set search_path from current as $$
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
  return v_total;
end
$$;
comment on function goodjob_cleanup_preserved_jobs(interval, boolean, timestamptz) is
  'Delete succeeded (and, unless include_discarded is false, discarded) jobs that finished more than older_than before as_of, with their executions, in chunks of 1,000. Returns the number of jobs deleted. Errors: GJ013.';
