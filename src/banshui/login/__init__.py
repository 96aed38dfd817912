"""The engine: login requests, lanes, quota, sessions and leases."""
