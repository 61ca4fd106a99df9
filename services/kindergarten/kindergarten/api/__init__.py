"""kindergarten's HTTP API: one module per subject, each with its blueprint; app.py registers
them. Thin handlers: parse, call a use case, shape."""
