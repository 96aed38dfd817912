"""Every table, imported in one place for migrations and ``create_all``."""

from banshui.accounts import models as accounts_models
from banshui.audit import models as audit_models
from banshui.core.db import Base
from banshui.login import models as login_models
from banshui.numbers import models as numbers_models
from banshui.sms import models as sms_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "login_models",
    "numbers_models",
    "sms_models",
]
