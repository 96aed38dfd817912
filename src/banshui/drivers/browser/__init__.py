"""The browser driver: Playwright on the login site's own pages."""

from banshui.drivers.browser.driver import BrowserDriver

__all__ = ["BrowserDriver"]
