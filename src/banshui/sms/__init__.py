"""Number side: inbound SMS, the inbox and code extraction."""
