-- Finding jobs by label: the partial GIN index over labelled jobs serves
-- "labels @> array[X] and labels <> '{}'", and jobs without labels are not
-- in it.
begin;
select plan(4);
\ir helpers/goodjob_test.psql

select has_index('goodjob_jobs', 'goodjob_jobs_labels_idx', 'goodjob_jobs has a label index');
select is((select pg_get_expr(i.indpred, i.indrelid) from pg_index i
            where i.indexrelid = 'goodjob_jobs_labels_idx'::regclass),
          '(labels <> ''{}''::text[])', 'it covers only jobs with labels');
select is((select am.amname::text from pg_class c join pg_am am on am.oid = c.relam
            where c.oid = 'goodjob_jobs_labels_idx'::regclass), 'gin', 'it is a GIN index (array containment)');

select goodjob_enqueue_many(jsonb_build_array(jsonb_build_object('task', 't', 'labels', jsonb_build_array('l' || g % 50))))
  from generate_series(1, 500) g;
analyze goodjob_jobs;
set local enable_seqscan = off;
create function goodjob_test.plan_of(q text) returns text language plpgsql as $$
declare v_line text; v_plan text := '';
begin
  for v_line in execute 'explain (costs off) ' || q loop v_plan := v_plan || v_line || E'\n'; end loop;
  return v_plan;
end $$;
select matches(goodjob_test.plan_of($$select id from goodjob_jobs where labels @> array['l7'] and labels <> '{}'$$),
               'goodjob_jobs_labels_idx', 'a label search uses the index');

select * from finish();
rollback;
