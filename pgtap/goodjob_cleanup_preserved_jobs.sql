-- goodjob_cleanup_preserved_jobs: deletes finished jobs (and their
-- executions) that finished more than older_than before as_of, discarded
-- ones unless include_discarded is false; never a waiting or running job.
-- Then finished batches older than the same cut-off that no job belongs to.
begin;
select plan(30);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as p \gset

-- Finished jobs, finished at pinned times through as_of
create function pg_temp.finished(outcome text, finished_at timestamptz, process_id uuid) returns uuid
language plpgsql as $$
declare
  v_id uuid := goodjob_test.running_job(process_id, as_of => finished_at);
begin
  perform goodjob_report_results(process_id, goodjob_test.result(v_id, 1, outcome), finished_at);
  return v_id;
end
$$;
select pg_temp.finished('succeeded', now() - interval '20 days', :'p') as s_old \gset
select pg_temp.finished('succeeded', now() - interval '14 days', :'p') as s_edge \gset
select pg_temp.finished('succeeded', now() - interval '10 days', :'p') as s_new \gset
select pg_temp.finished('discarded', now() - interval '20 days', :'p') as d_old \gset
select pg_temp.finished('discarded', now() - interval '1 day', :'p') as d_new \gset
-- Jobs that are not finished, however old
select goodjob_test.job_in_state(s, :'p') from unnest(array['scheduled', 'retrying', 'queued', 'running']) as s;
update goodjob_jobs set run_at = now() - interval '1 year', created_at = now() - interval '1 year'
 where finished_at is null;

select is(goodjob_cleanup_preserved_jobs(include_discarded => false), 1::bigint,
          'include_discarded false: only succeeded jobs finished over 14 days ago are deleted');
select is((goodjob_test.job(:'s_old')).id, null, 'the old succeeded job is gone');
select is((select count(*)::int from goodjob_executions where job_id = :'s_old'), 0, 'with its executions');
select is((goodjob_test.job(:'d_old')).state, 'discarded', 'the old discarded job is kept');

select is(goodjob_cleanup_preserved_jobs(), 1::bigint,
          'by default (14 days, discarded included) the old discarded job is deleted too');
select is((goodjob_test.job(:'d_old')).id, null, 'the old discarded job is gone');
select is((goodjob_test.job(:'s_edge')).state, 'succeeded',
          'a job that finished exactly older_than ago is kept (strictly older only)');

select is(goodjob_cleanup_preserved_jobs(as_of => now() + interval '5 days'), 2::bigint,
          'as_of moves the cut-off: 14 days before now + 5 days catches jobs finished 10 and 14 days ago');
select is(goodjob_cleanup_preserved_jobs('0', include_discarded => null), 1::bigint,
          'older_than 0 deletes every job finished before as_of; a null include_discarded counts as true');
select is((select count(*)::int from goodjob_jobs), 4, 'only the four unfinished jobs remain');
select is((select count(*)::int from goodjob_jobs where finished_at is null), 4, 'none of them was touched');
select is(goodjob_cleanup_preserved_jobs('0'), 0::bigint, 'nothing left to clean: 0');

-- More than one chunk of 1,000
insert into goodjob_jobs (task, state, finished_at)
select 'app.bulk', case when n % 2 = 0 then 'succeeded' else 'discarded' end, now() - interval '30 days'
from generate_series(1, 2500) as n;
select is(goodjob_cleanup_preserved_jobs(), 2500::bigint, 'deletes in chunks of 1,000 until done, returning the total');
select is((select count(*)::int from goodjob_jobs where task = 'app.bulk'), 0, 'all 2,500 are gone');

-- Errors
select pg_temp.finished('succeeded', now() - interval '20 days', :'p') as s_old \gset
select throws_ok($$select goodjob_cleanup_preserved_jobs('-1 second')$$, 'GJ013',
                 'invalid older_than -00:00:01: must be an interval >= 0', 'a negative interval is refused');
select throws_ok($$select goodjob_cleanup_preserved_jobs('-2 days')$$, 'GJ013',
                 'invalid older_than -2 days: must be an interval >= 0', 'a negative number of days is refused');
select throws_ok($$select goodjob_cleanup_preserved_jobs(null)$$, 'GJ013',
                 'invalid older_than null: must be an interval >= 0', 'a null interval is refused');
select is((goodjob_test.job(:'s_old')).state, 'succeeded', 'a refused cleanup deleted nothing');
select is(goodjob_cleanup_preserved_jobs(older_than => interval '10000 years'), 0::bigint,
          'an older_than reaching before the earliest timestamp deletes nothing (no 22008)');

-- Batches (0013). A batch of two members whose members, callback and batch
-- all finished `age` ago (outcomes: the members' results, in id order).
select goodjob_test.fresh_queue() as bq \gset
create function pg_temp.finished_batch(p uuid, q text, age interval, outcomes text[]) returns uuid
language plpgsql as $$
declare
  v_at timestamptz := now() - age;
  v_batch uuid := goodjob_create_batch(on_finish => 'cb.fin', callback_queue => q);
  v_ids uuid[];
  v_attempts int[];
begin
  perform goodjob_add_batch_jobs(v_batch, jsonb_build_array(
    jsonb_build_object('task', 'w', 'queue', q, 'max_attempts', 1),
    jsonb_build_object('task', 'w', 'queue', q, 'max_attempts', 1)));
  perform goodjob_enqueue_batch(v_batch);
  select array_agg(f.id order by f.id), array_agg(f.attempts order by f.id) into v_ids, v_attempts
    from goodjob_fetch_and_lock(p, q, 10, v_at) f;
  perform goodjob_report(p, v_ids, v_attempts, outcomes, as_of => v_at);
  select array_agg(f.id), array_agg(f.attempts) into v_ids, v_attempts
    from goodjob_fetch_and_lock(p, q, 10, v_at) f;  -- the on_finish callback
  perform goodjob_report(p, v_ids, v_attempts, array['succeeded'], as_of => v_at);
  update goodjob_batches set finished_at = v_at where id = v_batch;
  return v_batch;
end
$$;
create function pg_temp.batch_rows(batch uuid) returns text language sql as $$
  select format('batch %s, members %s, callbacks %s',
                (select count(*) from goodjob_batches where id = batch),
                (select count(*) from goodjob_jobs where batch_id = batch),
                (select count(*) from goodjob_jobs where batch_callback_id = batch)) $$;

select pg_temp.finished_batch(:'p', :'bq', '20 days', array['succeeded', 'succeeded']) as b_old \gset
select pg_temp.finished_batch(:'p', :'bq', '20 days', array['succeeded', 'discarded']) as b_discarded \gset
select pg_temp.finished_batch(:'p', :'bq', '1 day', array['succeeded', 'succeeded']) as b_new \gset
select pg_temp.finished_batch(:'p', :'bq', '20 days', array['succeeded', 'succeeded']) as b_young_callback \gset
update goodjob_jobs set finished_at = now() - interval '1 day' where batch_callback_id = :'b_young_callback';
-- never enqueued, never finished
select goodjob_create_batch() as b_idle \gset
update goodjob_batches set created_at = now() - interval '1 year' where id = :'b_idle';
select goodjob_create_batch(on_finish => 'cb.fin', callback_queue => :'bq') as b_pending \gset
select goodjob_enqueue('w', queue => goodjob_test.fresh_queue(), batch_id => :'b_pending') as pending \gset
select goodjob_enqueue_batch(:'b_pending');
update goodjob_batches set created_at = now() - interval '1 year' where id = :'b_pending';
select is((select count(*)::int from goodjob_batches where finished_at is not null), 4, 'four finished batches to start with');

select is(goodjob_cleanup_preserved_jobs(include_discarded => false), 8::bigint,
          'include_discarded false: the old batches'' succeeded members and callbacks go, with the job left above');
select is(pg_temp.batch_rows(:'b_old'), 'batch 0, members 0, callbacks 0',
          'a batch that finished before the cut-off goes with its members and callback');
select is(pg_temp.batch_rows(:'b_discarded'), 'batch 1, members 1, callbacks 0',
          'a batch whose discarded member is kept stays');
select is(pg_temp.batch_rows(:'b_young_callback'), 'batch 1, members 0, callbacks 1',
          'a batch whose callback job is younger than the cut-off stays');
select is(pg_temp.batch_rows(:'b_new'), 'batch 1, members 2, callbacks 1', 'a batch finished a day ago stays');
select is(pg_temp.batch_rows(:'b_idle') || ' / ' || pg_temp.batch_rows(:'b_pending'),
          'batch 1, members 0, callbacks 0 / batch 1, members 1, callbacks 0',
          'batches that never finished stay, however old');

select is(goodjob_cleanup_preserved_jobs(), 1::bigint, 'with discarded jobs: the discarded member goes');
select is(pg_temp.batch_rows(:'b_discarded'), 'batch 0, members 0, callbacks 0', 'and then its batch');

-- The counters are checked too: a batch that says a member is still to
-- finish is kept even when no member row is visible (a member being added).
update goodjob_batches set jobs = jobs + 1 where id = :'b_young_callback';
select is(goodjob_cleanup_preserved_jobs(as_of => now() + interval '14 days'), 4::bigint,
          'a later cleanup deletes the young callback and the newer batch''s three jobs');
select is(pg_temp.batch_rows(:'b_young_callback') || ' / ' || pg_temp.batch_rows(:'b_new'),
          'batch 1, members 0, callbacks 0 / batch 0, members 0, callbacks 0',
          'the batch whose counters say a member is pending stays; the newer batch goes');

select * from finish();
rollback;
