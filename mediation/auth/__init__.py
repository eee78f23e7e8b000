"""Users, roles, login sessions, throttling and the access checks every view uses."""
