"""Drivers that speak to a bureau: the engine knows only their protocol."""
