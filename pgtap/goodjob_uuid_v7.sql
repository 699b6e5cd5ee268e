-- goodjob_uuid_v7: time-ordered version 7 uuids, the default job id.
begin;
select plan(5);
\ir helpers/goodjob_test.psql

select is(substr(goodjob_uuid_v7()::text, 15, 1), '7', 'the version digit is 7');
select ok(substr(goodjob_uuid_v7()::text, 20, 1) in ('8', '9', 'a', 'b'), 'the variant is RFC 9562');
select ok(
  abs(('x' || replace(left(goodjob_uuid_v7()::text, 13), '-', ''))::bit(48)::bigint
      - (extract(epoch from clock_timestamp()) * 1000)::bigint) < 1000,
  'the first 48 bits are the Unix time in milliseconds');
select goodjob_uuid_v7() as earlier \gset
select pg_sleep(0.002);
select ok(goodjob_uuid_v7() > :'earlier'::uuid, 'an id made later sorts after one made earlier');
select is(substr(goodjob_enqueue('pgtap.task')::text, 15, 1), '7', 'goodjob_enqueue makes v7 ids');

select * from finish();
rollback;
