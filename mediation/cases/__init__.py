"""Cases: intake, the workflow that moves them, queues, and the pages staff and mediators use."""
