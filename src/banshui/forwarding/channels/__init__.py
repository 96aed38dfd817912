"""Outbound channels: one folder per outside party, behind one small interface."""
