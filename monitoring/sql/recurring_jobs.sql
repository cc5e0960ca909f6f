-- Registered recurring jobs with their schedule and how their last run ended.
--
-- Hangfire keeps the ids in the set 'recurring-jobs' (score = next execution as Unix seconds, 0 or less
-- when none is planned) and each job's details in the hash 'recurring-job:<id>'. last_job_state is the
-- current state of the job its last run created (NULL when it never ran or that job has expired).
with recurring as (
    select
        s.value as recurring_job_id,
        case when s.score > 0 then to_timestamp(s.score) end as next_execution
    from hangfire.set as s
    where s.key = 'recurring-jobs'
),
details as (
    select
        r.recurring_job_id,
        max(h.value) filter (where h.field = 'Cron') as cron,
        max(h.value) filter (where h.field = 'LastExecution') as last_execution,
        max(h.value) filter (where h.field = 'LastJobId') as last_job_id
    from recurring as r
    left join hangfire.hash as h on h.key = 'recurring-job:' || r.recurring_job_id
    group by r.recurring_job_id
)
select
    r.recurring_job_id,
    d.cron,
    r.next_execution,
    d.last_execution,
    d.last_job_id,
    j.statename as last_job_state
from recurring as r
join details as d on d.recurring_job_id = r.recurring_job_id
-- CASE, not AND, guards the cast: PostgreSQL does not promise to evaluate AND operands in order.
left join hangfire.job as j
    on j.id = case when d.last_job_id ~ '^[0-9]{1,18}$' then d.last_job_id::bigint end
order by r.recurring_job_id;
