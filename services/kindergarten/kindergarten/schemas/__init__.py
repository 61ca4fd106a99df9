"""Request and response shapes at kindergarten's HTTP edge, one module per subject, as the API.
Unknown fields are refused."""
