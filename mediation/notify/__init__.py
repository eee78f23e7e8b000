"""The outbox and its channels: in-app notices, SMS, e-mail."""
