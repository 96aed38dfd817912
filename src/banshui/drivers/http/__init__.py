"""The http driver: speaks the login site's sealed JSON protocol."""

from banshui.drivers.http.driver import HttpDriver

__all__ = ["HttpDriver"]
