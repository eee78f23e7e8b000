"""The integration API (诉调对接, SPEC 9): JSON under /api/v1 for courts and platforms."""
