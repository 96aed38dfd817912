"""Who may use the admin API: whoever shows the simulator's admin token.

The admin API moves the bureau's clock, switches faults on and rewrites its
state: anyone who reaches it decides what the bureau says. A simulator made
without a token is one embedded in a test, open to the code that made it;
every command that serves one on a port gives it a token.
"""

import hmac

from fastapi import Request

from banshui.simulator.errors import SetupError


def admin_allowed(request: Request) -> None:
    """Refuse an admin request without ``Authorization: Bearer <admin token>``."""
    token: str | None = request.app.state.admin_token
    if token is None:
        return

    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise SetupError(401, "the admin API needs the simulator's admin token")
