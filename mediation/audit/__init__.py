"""The audit log: who did what, when and from where; rows are only ever added."""
