-- goodjob_backoff_seconds: the delay after failed attempt N for each backoff
-- kind, with and without a base, exact where the formula is exact and within
-- the jitter bounds for exponential backoff.
begin;
select plan(21);
\ir helpers/goodjob_test.psql

-- constant: base, default 3
select is(goodjob_backoff_seconds('constant', 10, 1), 10::float8, 'constant: attempt 1 waits the base');
select is(goodjob_backoff_seconds('constant', 10, 7), 10::float8, 'constant: attempt 7 waits the base too');
select is(goodjob_backoff_seconds('constant', null, 4), 3::float8, 'constant: the default base is 3 s');
select is(goodjob_backoff_seconds('constant', 0, 4), 0::float8, 'constant: a base of 0 retries at once');

-- linear: base * N, default base 3
select is(goodjob_backoff_seconds('linear', 7, 1), 7::float8, 'linear: attempt 1 waits the base');
select is(goodjob_backoff_seconds('linear', 7, 3), 21::float8, 'linear: attempt 3 waits 3 * base');
select is(goodjob_backoff_seconds('linear', null, 5), 15::float8, 'linear: the default base is 3 s');
select is(goodjob_backoff_seconds('linear', 0.5, 3), 1.5::float8, 'linear: a fractional base is kept');

-- polynomial (the default): N^4 + 2, base ignored, N capped at 100
select is(goodjob_backoff_seconds('polynomial', null, 1), 3::float8, 'polynomial: attempt 1 waits 1^4 + 2 = 3 s');
select is(goodjob_backoff_seconds('polynomial', null, 3), 83::float8, 'polynomial: attempt 3 waits 3^4 + 2 = 83 s');
select is(goodjob_backoff_seconds('polynomial', 1000, 10), 10002::float8,
          'polynomial: attempt 10 waits 10^4 + 2 s whatever the base');
select is(goodjob_backoff_seconds('polynomial', null, 500), 100000002::float8,
          'polynomial: the attempt number is capped at 100');
select is(goodjob_backoff_seconds(null, null, 2), 18::float8, 'no backoff kind means polynomial');

-- exponential: base * 2^(N-1), default base 1, capped at 7 days, plus up to 15% jitter
create temp table samples as
select n, goodjob_backoff_seconds('exponential', 4, 3) as s from generate_series(1, 200) as n;
select ok((select min(s) >= 16 and max(s) <= 16 * 1.15 from samples),
          'exponential: attempt 3 with base 4 waits between 4 * 2^2 = 16 s and 16 s + 15%');
select ok((select count(distinct s) > 1 from samples), 'exponential: the jitter varies from call to call');
select ok(goodjob_backoff_seconds('exponential', null, 1) between 1 and 1.15,
          'exponential: the default base is 1 s (attempt 1 waits 1 s plus jitter)');
select ok(goodjob_backoff_seconds('exponential', 2, 10) between 1024 and 1024 * 1.15,
          'exponential: attempt 10 with base 2 waits 2 * 2^9 = 1024 s plus jitter');
select ok(goodjob_backoff_seconds('exponential', 1, 40) between 604800 and 604800 * 1.15,
          'exponential: 2^39 s is capped at 7 days (plus jitter)');
select ok(goodjob_backoff_seconds('exponential', 1, 2000000) between 604800 and 604800 * 1.15,
          'exponential: a huge attempt number does not overflow and stays capped');
select is(goodjob_backoff_seconds('exponential', 0, 5), 0::float8, 'exponential: a base of 0 retries at once');

-- unknown kinds cannot be stored (goodjob_define_task refuses them); the function falls back
select is(goodjob_backoff_seconds('bogus', 5, 2), 18::float8, 'an unknown kind falls back to polynomial');

select * from finish();
rollback;
