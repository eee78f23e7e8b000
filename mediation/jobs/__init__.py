"""Scheduled job bodies, their runs, and the scheduler process."""
