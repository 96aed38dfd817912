"""The HTTP faces: JSON API, webhooks and health."""
