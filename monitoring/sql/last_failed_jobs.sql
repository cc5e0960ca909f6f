-- The 50 most recently failed Hangfire jobs, newest first, with the failure's reason and exception.
--
-- A job is listed while its current state is Failed (what the dashboard's "Failed" page shows); one that
-- failed and was requeued is no longer a failed job. The `::jsonb` casts make `->>` work whether the
-- column is jsonb (current schema) or text holding JSON (older schema versions), where a bare `->>`
-- would fail with "operator does not exist: text ->> unknown".
select
    j.id as job_id,
    to_timestamp(extract(epoch from s.createdat)) as failed_at,
    j.invocationdata::jsonb ->> 'Type' as job_type,
    j.invocationdata::jsonb ->> 'Method' as job_method,
    s.reason,
    s.data::jsonb ->> 'ExceptionType' as exception_type,
    s.data::jsonb ->> 'ExceptionMessage' as exception_message
from hangfire.job as j
join hangfire.state as s on s.id = j.stateid
where j.statename = 'Failed'
order by s.createdat desc, j.id desc
limit 50;
