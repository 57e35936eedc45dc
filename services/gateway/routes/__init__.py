"""HTTP routes, one module per service behind the gateway."""
