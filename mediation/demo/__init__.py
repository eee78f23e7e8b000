"""Demo data for trying the product: a centre, its directory, logins and cases."""
