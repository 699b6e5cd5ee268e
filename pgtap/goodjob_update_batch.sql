-- goodjob_update_batch: replaces properties and/or description; null leaves
-- them; unknown batches (GJ030) and non-object properties (GJ031) are refused.
begin;
select plan(5);
\ir helpers/goodjob_test.psql

select goodjob_create_batch(description => 'd', properties => '{"a": 1, "b": 2}') as b \gset
select is(goodjob_update_batch(:'b', properties => '{"c": 3}'), :'b'::uuid, 'updating returns the id');
select results_eq(format($$select properties, description from goodjob_batches where id = %L$$, :'b'),
                  $$values ('{"c": 3}'::jsonb, 'd')$$, 'properties are replaced, the description kept');
select goodjob_update_batch(:'b', description => 'new');
select results_eq(format($$select properties, description from goodjob_batches where id = %L$$, :'b'),
                  $$values ('{"c": 3}'::jsonb, 'new')$$, 'the description changes, the properties are kept');
select throws_ok(format($$select goodjob_update_batch(%L, properties => '"x"')$$, :'b'), 'GJ031',
                 'invalid batch properties "x": must be a JSON object', 'properties must be an object');
select throws_ok($$select goodjob_update_batch('00000000-0000-0000-0000-000000000001', description => 'x')$$,
                 'GJ030', 'batch 00000000-0000-0000-0000-000000000001 not found', 'an unknown batch is refused');

select * from finish();
rollback;
