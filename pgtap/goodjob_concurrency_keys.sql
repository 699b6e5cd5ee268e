-- goodjob_concurrency_keys: one row per active key and task, with the
-- task's limits and the counts the limits are checked against.
begin;
select plan(5);
\ir helpers/goodjob_test.psql

select goodjob_test.process() as pid \gset
select has_view('goodjob_concurrency_keys', 'view goodjob_concurrency_keys exists');

select goodjob_define_task(name => 'app.limited', queue => 'kq');
select goodjob_define_concurrency(task => 'app.limited', total_limit => 5, perform_limit => 1,
                                  perform_throttle_limit => 10, perform_throttle_period => '1 hour');
select goodjob_enqueue('app.limited', concurrency_key => 'k', run_at => now() - interval '2 s') as first \gset
select goodjob_enqueue('app.limited', concurrency_key => 'k', run_at => now() - interval '1 s');
select goodjob_enqueue('app.limited', concurrency_key => 'k', run_at => now() + interval '1 hour');
select goodjob_enqueue('app.limited', concurrency_key => 'done') as done \gset
select goodjob_enqueue('app.free', concurrency_key => 'loose');
select goodjob_enqueue('app.free');
select count(*) from goodjob_fetch_and_lock(:'pid', 'kq', 10);
select goodjob_succeed_job(:'done', :'pid', 1);

select results_eq(
  $$select concurrency_key, task, total_limit, enqueue_limit, perform_limit, perform_throttle_limit,
           perform_throttle_period, scheduled, queued, running, enqueued_in_period, started_in_period
      from goodjob_concurrency_keys order by concurrency_key$$,
  $$values ('k', 'app.limited', 5, null::int, 1, 10, interval '1 hour', 1::bigint, 1::bigint, 1::bigint, null::bigint, 1::bigint),
           ('loose', 'app.free', null, null, null, null, null, 0, 1, 0, null, null)$$,
  'each key with unfinished jobs, per task: the limits, the counts, the starts within the throttle period');
select ok(not exists (select 1 from goodjob_concurrency_keys where concurrency_key = 'done'),
          'a key whose jobs all finished is not active');
select ok(not exists (select 1 from goodjob_concurrency_keys where concurrency_key is null),
          'jobs without a key are not listed');
select isnt(obj_description('goodjob_concurrency_keys'::regclass), null, 'the view has a comment');

select * from finish();
rollback;
