"""Number side: forwarding stored SMS to bound real phones and group robots."""
