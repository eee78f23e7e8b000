"""Importing years of history from the centres' spreadsheets (台账导入, SPEC 5)."""
