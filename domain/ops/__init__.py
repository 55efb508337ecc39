"""What operators run beside the service: schema migrations and demo data."""
