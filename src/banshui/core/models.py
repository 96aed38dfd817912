"""Every table, imported in one place for migrations and ``create_all``."""

from banshui.accounts import models as accounts_models
from banshui.api import models as api_models
from banshui.audit import models as audit_models
from banshui.chat import models as chat_models
from banshui.core.db import Base
from banshui.forwarding import models as forwarding_models
from banshui.login import models as login_models
from banshui.numbers import models as numbers_models
from banshui.operators import models as operators_models
from banshui.provider import models as provider_models
from banshui.query import models as query_models
from banshui.sms import models as sms_models
from banshui.sms import parts_models as sms_parts_models
from banshui.sync import models as sync_models
from banshui.web.console import models as console_models

__all__ = [
    "Base",
    "accounts_models",
    "api_models",
    "audit_models",
    "chat_models",
    "console_models",
    "forwarding_models",
    "login_models",
    "numbers_models",
    "operators_models",
    "provider_models",
    "query_models",
    "sms_models",
    "sms_parts_models",
    "sync_models",
]
