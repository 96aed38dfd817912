"""Every table, imported in one place for migrations and ``create_all``."""

from banshui.accounts import models as accounts_models
from banshui.audit import models as audit_models
from banshui.chat import models as chat_models
from banshui.core.db import Base
from banshui.forwarding import models as forwarding_models
from banshui.login import models as login_models
from banshui.numbers import models as numbers_models
from banshui.provider import models as provider_models
from banshui.query import models as query_models
from banshui.sms import models as sms_models
from banshui.sms import parts_models as sms_parts_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "chat_models",
    "forwarding_models",
    "login_models",
    "numbers_models",
    "provider_models",
    "query_models",
    "sms_models",
    "sms_parts_models",
]
