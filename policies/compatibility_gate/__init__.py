"""The Hangfire + Npgsql compatibility gate policy pack (see docs/compatibility-gate.md)."""
