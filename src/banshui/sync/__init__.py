"""Keeping business systems in sync: the account listing, events and webhooks."""
