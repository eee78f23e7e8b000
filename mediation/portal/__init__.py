"""What a party or the public sees: case status, certificate check, honour list."""
