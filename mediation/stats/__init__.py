"""Monthly statistics (SPEC 4): the queries, snapshots and exports."""
