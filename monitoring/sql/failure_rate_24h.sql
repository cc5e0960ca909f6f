-- Hangfire job failure rate over the last 24 hours (runbook: alert above 5%, roll back if it stays there).
--
-- Counts jobs, not state rows: a job counts once, by its current state (hangfire.job.statename), when that
-- state is Succeeded or Failed and was entered within the last 24 hours. Jobs still Enqueued, Scheduled,
-- Processing or Awaiting, and Deleted jobs, have no outcome and are left out of both counts. A job whose
-- failed attempts were retried and then succeeded counts as succeeded.
--
-- failure_rate_percent is NULL when no job finished in the window (there is no rate to report), never a
-- division by zero and never a reassuring 0. It is rounded to two decimals.
with finished as (
    select j.statename
    from hangfire.job as j
    join hangfire.state as s on s.id = j.stateid
    where j.statename in ('Succeeded', 'Failed')
      -- Hangfire.PostgreSql writes UTC. extract(epoch ...) reads a `timestamp` column as UTC and a
      -- `timestamptz` column as the instant it holds, so the window is right for either column type and
      -- whatever the session's TimeZone is (comparing a `timestamp` with now() would apply the session's).
      and to_timestamp(extract(epoch from s.createdat)) > now() - interval '24 hours'
)
select
    count(*) filter (where statename = 'Succeeded') as succeeded_count,
    count(*) filter (where statename = 'Failed') as failed_count,
    count(*) as total_count,
    round(100.0 * count(*) filter (where statename = 'Failed') / nullif(count(*), 0), 2) as failure_rate_percent
from finished;
