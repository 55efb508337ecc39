"""The routes beside /graphql: PDF downloads, the Stripe webhook, health and metrics, and
what they share (bearer-token authentication, the request body limit)."""
