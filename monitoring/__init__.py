"""The runbook's monitoring queries as files: SQL checks on Hangfire's tables and KQL for the Azure alerts.

Load them with `monitoring.queries.sql(name)` and `monitoring.queries.kql(name, **params)`; the telemetry
each KQL query reads is declared in `monitoring.telemetry` and described in docs/monitoring.md.
"""
