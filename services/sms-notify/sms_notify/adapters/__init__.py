"""The outside world: SMS providers, SMTP, the acquirer. Use cases see only their protocols."""
