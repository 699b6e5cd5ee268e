-- goodjob_cleanup_preserved_jobs: deletes finished jobs (and their
-- executions) that finished more than older_than before as_of, discarded
-- ones unless include_discarded is false; never a waiting or running job.
begin;
select plan(19);
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

select * from finish();
rollback;
