"""The query page (查询页): a person reads a number's latest code with its PIN."""
