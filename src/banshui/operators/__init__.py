"""Console operators: their accounts, roles, sign-in and sessions."""
