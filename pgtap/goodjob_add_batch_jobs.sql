-- goodjob_add_batch_jobs: enqueue_many into a batch (counted by the insert
-- trigger), all or nothing; adding does not arm the batch. Jobs enqueued
-- with batch_id join too; an unknown batch_id fails the insert (GJ030).
begin;
select plan(11);
\ir helpers/goodjob_test.psql

select goodjob_create_batch(on_finish => 'cb') as b \gset
select is((select count(*) from goodjob_add_batch_jobs(:'b', '[{"task": "w", "args": [1]}, {"task": "w", "batch_id": null}]')),
          2::bigint, 'two jobs added');
select is((select count(*) from goodjob_jobs where batch_id = :'b'), 2::bigint, 'both joined the batch');
select results_eq(format($$select jobs, succeeded, discarded, enqueued_at from goodjob_batches where id = %L$$, :'b'),
                  $$values (2, 0, 0, null::timestamptz)$$, 'the batch counts them and is not armed');
select goodjob_enqueue('w', batch_id => :'b');
select is((select jobs from goodjob_batches where id = :'b'), 3, 'goodjob_enqueue(batch_id => ...) counts the job too');
select goodjob_enqueue_many(jsonb_build_array(jsonb_build_object('task', 'w', 'batch_id', :'b'), jsonb_build_object('task', 'x')));
select is((select jobs from goodjob_batches where id = :'b'), 4, 'goodjob_enqueue_many counts only batch members');
select results_eq(format($$select ids from (select array_agg(i) ids from goodjob_add_batch_jobs(%L, '[{"task": "w", "id": "00000000-0000-0000-0000-0000000000aa"}, {"task": "w", "id": "00000000-0000-0000-0000-0000000000bb"}]') i) x$$, :'b'),
                  $$values (array['00000000-0000-0000-0000-0000000000aa', '00000000-0000-0000-0000-0000000000bb']::uuid[])$$,
                  'ids come back in input order');
select is((select jobs from goodjob_batches where id = :'b'), 6, 'the batch counts what was added');

select goodjob_test.snapshot() || (select string_agg(b::text, ',' order by id) from goodjob_batches b) as before \gset
select throws_ok($$select goodjob_enqueue('w', batch_id => '00000000-0000-0000-0000-00000000000f')$$, 'GJ030',
                 'unknown batch 00000000-0000-0000-0000-00000000000f', 'a job with an unknown batch_id is refused');
select throws_ok(format($$select goodjob_add_batch_jobs(%L, '[{"task": "w"}, {"task": ""}]')$$, :'b'), 'GJ001',
                 'invalid task name '''': must be 1 to 255 characters', 'one bad job refuses the whole array');
select throws_ok($$select goodjob_add_batch_jobs('00000000-0000-0000-0000-00000000000e', '[]')$$, 'GJ030',
                 'batch 00000000-0000-0000-0000-00000000000e not found', 'adding to an unknown batch is refused');
select is(goodjob_test.snapshot() || (select string_agg(b::text, ',' order by id) from goodjob_batches b), :'before',
          'refused inserts write nothing and count nothing');

select * from finish();
rollback;
