"""Identity codes (身份, R7) and the ID number of a natural person."""

from __future__ import annotations

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from banshui.core.errors import InvalidInput

IDENTITIES = {
    "01": "法定代表人",
    "02": "财务负责人",
    "03": "办税员",
    "05": "管理员",
    "08": "社保经办人",
    "09": "开票员",
    "10": "销售人员",
}

BUSINESSES = {"issue": "开票管理", "receive": "收票管理"}


def validate_identity(code: str, field: str = "identity_code") -> str:
    if code not in IDENTITIES:
        known = ", ".join(f"{key} {name}" for key, name in IDENTITIES.items())
        raise InvalidInput(f"{code!r} is not an identity code ({known})", field=field)
    return code


def validate_business(value: str, field: str = "business") -> str:
    if value not in BUSINESSES:
        raise InvalidInput(f"{value!r} is not 'issue' or 'receive'", field=field)
    return value


def validate_id_number(value: str, field: str = "id_number") -> str:
    """A resident ID number (居民身份证号码), checked digit and birth date."""
    try:
        return str(ric.validate(value))
    except ValidationError:
        raise InvalidInput(
            f"{value!r} is not a valid resident ID number", field=field
        ) from None


def mask_id_number(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
