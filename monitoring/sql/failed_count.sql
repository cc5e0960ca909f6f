-- Number of Hangfire jobs whose current state is Failed (the dashboard's "Failed" counter).
--
-- The runbook counted Failed rows in hangfire.state instead, which also counts jobs that were requeued and
-- later succeeded, and counts a job once per failure.
select count(*) as failed_count
from hangfire.job
where statename = 'Failed';
