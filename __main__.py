"""MeAjudaAi infrastructure: one Pulumi program for the dev, staging and prod stacks."""

from components.program import main

main()
