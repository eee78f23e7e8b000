"""Obligations and their performance; later the integrity records and certificates."""
