"""The API gateway: web clients reach the platform only through here."""
