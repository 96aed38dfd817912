"""Identity codes (身份) a person can hold in an enterprise (R7)."""

from typing import Final

IDENTITIES: Final[dict[str, str]] = {
    "01": "法定代表人",
    "02": "财务负责人",
    "03": "办税员",
    "05": "管理员",
    "08": "社保经办人",
    "09": "开票员",
    "10": "销售人员",
}


def identity_name(identity_code: str) -> str:
    return IDENTITIES[identity_code]
