"""The centres and, later, their organisations, mediators, categories and calendar."""
