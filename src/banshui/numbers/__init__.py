"""Number side: sub-numbers (办税小号), their customers and bound real phones."""
