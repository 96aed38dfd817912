"""Login side: tenants, enterprises, persons (自然人) and their e-tax accounts."""
