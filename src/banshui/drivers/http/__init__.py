"""The http driver: speaks the login site's JSON protocol."""

from banshui.drivers.http.driver import HttpDriver

__all__ = ["HttpDriver"]
