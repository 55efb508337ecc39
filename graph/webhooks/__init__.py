"""Outbound webhooks: endpoints, their deliveries, and the mutations that manage them."""
