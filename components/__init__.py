"""The MeAjudaAi Pulumi program: typed settings, naming, and one component per concern."""
