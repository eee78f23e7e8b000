"""Demo data for trying the product: a centre, its logins, and (later) its cases."""
