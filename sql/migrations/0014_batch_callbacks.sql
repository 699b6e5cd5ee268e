-- 0014_batch_callbacks: a batch's callback is never refused by its task's
-- enqueue limits.
--
-- A callback is enqueued once per event (finish, success, discard) by the
-- transaction of the result that caused it, and nothing fires it again. It
-- went through goodjob_enqueue, so when its task had an enqueue-side limit
-- (total_limit, enqueue_limit, enqueue_throttle) that was full, the enqueue
-- returned null and the callback was lost without a word. It is now written
-- directly: exempt from those limits, with the same defaults as
-- goodjob_enqueue (the task definition's queue, priority, max_attempts and
-- labels unless the batch names a callback queue or priority) and, when the
-- task has concurrency limits, keyed by the task name as goodjob_enqueue
-- keys it, so perform_limit and perform_throttle still pace when callbacks
-- run. The job is inserted with batch_callback_id set instead of updated
-- after the insert: one write instead of two. The task and queue names were
-- checked when the batch was created (goodjob_create_batch).

insert into goodjob_migrations (version, name) values ('0014', 'batch_callbacks');

do $$
begin
  perform pg_catalog.set_config('search_path', pg_catalog.quote_ident(pg_catalog.current_schema()), true);
end
$$;

create or replace function goodjob__enqueue_batch_callback(batch goodjob_batches, task text, event text)
returns uuid
language plpgsql volatile set search_path from current as $$
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
comment on function goodjob__enqueue_batch_callback(goodjob_batches, text, text) is
  'Internal: enqueue one callback job of a batch as task(batch_id, {"event": event}), with the task''s defaults and the batch''s callback queue and priority; never refused by enqueue-side concurrency limits (perform limits still apply). Null when the batch has no callback for the event.';
