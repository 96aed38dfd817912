"""Inbound gateway formats, one folder each, behind the interface in ``base``."""
