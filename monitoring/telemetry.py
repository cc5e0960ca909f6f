"""The telemetry contract of the KQL queries: the workspace-based Application Insights tables and columns
they read, with their KQL types. docs/monitoring.md describes the contract in full (which events, metric
names and dimensions the app must emit); the KQL check analyses every query against exactly these
columns, so a query that reads anything else fails until the contract says so.
"""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "AppRequests": {
        "TimeGenerated": "datetime",
        "ResultCode": "string",
    },
    "AppExceptions": {
        "TimeGenerated": "datetime",
        "ExceptionType": "string",
        "OuterType": "string",
        "OuterMessage": "string",
        "InnermostType": "string",
        "InnermostMessage": "string",
        "Details": "dynamic",
    },
    "AppTraces": {
        "TimeGenerated": "datetime",
        "Message": "string",
        "SeverityLevel": "int",
        "Properties": "dynamic",
    },
    "AppMetrics": {
        "TimeGenerated": "datetime",
        "Name": "string",
        "Sum": "real",
        "ItemCount": "int",
        "Properties": "dynamic",
    },
}
